"""The trend chart is a pure function of the runs: what it draws, where, and what it
leaves out."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

from launchgate.dashboard.chart import BOTTOM, HEIGHT, TOP, points_of, trend_svg

START = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)


def runs(*rows: tuple[str, float | None]) -> list[tuple[str, str, float | None, datetime]]:
    """Newest first, as the runs list gives them."""
    made = [
        (f"run_{i:024d}", status, rate, START + timedelta(minutes=i))
        for i, (status, rate) in enumerate(rows)
    ]
    return list(reversed(made))


def test_no_finished_run_draws_nothing() -> None:
    assert trend_svg(points_of(runs(("pending", None), ("running", None))), 1.0) is None
    assert trend_svg([], 1.0) is None


def test_marks_by_status_oldest_first() -> None:
    points = points_of(runs(("cleared", 1.0), ("aborted", 0.5), ("error", 0.0), ("pending", None)))
    assert [p.status for p in points] == ["cleared", "aborted", "error"]
    svg = str(trend_svg(points, 0.8))
    marks = re.findall(r'class="mark mark-(\w+)"', svg)
    assert marks == ["cleared", "aborted", "error"]
    assert svg.count("<circle") == 1 and svg.count("<rect") == 1 and svg.count("<polygon") == 1
    assert 'href="/runs/run_000000000000000000000000"' in svg
    assert "Pass rate of the last 3 runs: 1 cleared, 2 not; pass threshold 80%" in svg


def test_heights_follow_the_pass_rate_and_the_threshold_line() -> None:
    svg = str(trend_svg(points_of(runs(("cleared", 1.0), ("aborted", 0.0))), 0.5))
    top, bottom = TOP, HEIGHT - BOTTOM
    assert f'cy="{top:.1f}"' in svg  # 100 % at the top
    assert f'y="{bottom - 5:.1f}"' in svg  # 0 % at the bottom (the square's corner)
    threshold = re.search(r'class="threshold" x1="\d+" y1="([\d.]+)"', svg)
    assert threshold and float(threshold[1]) == (top + bottom) / 2


def test_text_is_escaped() -> None:
    point = points_of([('run_"><script>', "cleared", 1.0, START)])
    svg = str(trend_svg(point, 1.0))
    assert "<script>" not in svg and "&lt;script&gt;" in svg
