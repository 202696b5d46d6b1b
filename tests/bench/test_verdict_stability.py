"""bench/verdict_stability.py end to end with a tiny R: the fake provider and a real
``launchgate serve`` as subprocesses, every setting and mode run once (about 15 s).

Only the report's shape and obvious facts are asserted (a case's judge calls stay within
``[min_samples, samples]``, the fake saw every call the cases record, means three standard
deviations from the threshold are not decided wrongly); the figures themselves are the
benchmark's, not a test's. The last holds for adaptive sampling by a wide margin; for a
single sample each case has a 0.13% chance of a draw across the threshold, and with the
bench's fixed seed the R = 12 draws of that run are the same every time, so the test is
deterministic rather than lucky.
"""

from __future__ import annotations

import math
import sys
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

BENCH = Path(__file__).resolve().parents[2] / "bench"
R = 12

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def stability() -> Iterator[ModuleType]:
    sys.path.insert(0, str(BENCH))  # the script imports its sibling scripts by name
    try:
        import verdict_stability as module

        yield module
    finally:
        sys.path.remove(str(BENCH))


@pytest.fixture(scope="module")
def report(stability: ModuleType) -> Any:
    args = stability.parse_args(["--repetitions", str(R), "--no-write"])
    return stability.run_bench(args, log=lambda _line: None)


def test_every_setting_and_mode_is_one_run_of_r_cases(stability: ModuleType, report: Any) -> None:
    cells = report.cells
    means = sorted({cell.mean for cell in cells})
    assert means == [0.4, 0.5, 0.6, 0.65, 0.7, 0.75, 0.8, 0.9, 1.0]
    assert [(c.offset, c.mode) for c in cells] == [
        (offset, mode.key) for offset in stability.OFFSETS for mode in stability.MODES
    ]
    for cell in cells:
        assert cell.cases == len(cell.calls) == R
        assert cell.fake_calls == sum(cell.calls)  # the fake saw exactly the recorded calls
        assert 1 <= cell.fake_max_in_flight <= stability.CONCURRENCY
        assert all(0.0 <= score <= 1.0 for score in cell.scores)


def test_single_sample_cases_make_one_call_and_never_hedge(report: Any) -> None:
    for cell in report.cells:
        if cell.mode == "single":
            assert cell.calls == [1] * R
            assert cell.statuses.get("inconclusive", 0) == 0


def test_adaptive_calls_stay_between_min_samples_and_samples(
    stability: ModuleType, report: Any
) -> None:
    adaptive = [c for c in report.cells if c.mode == "adaptive"]
    for cell in adaptive:
        assert all(
            stability.DEFAULT_MIN_SAMPLES <= calls <= stability.ADAPTIVE_SAMPLES
            for calls in cell.calls
        )


def test_means_three_deviations_away_are_never_decided_wrongly(report: Any) -> None:
    for cell in report.cells:
        if cell.mean == 0.4:
            assert cell.statuses.get("passed", 0) == 0
        if cell.mean == 1.0:
            assert cell.statuses.get("failed", 0) == 0


def test_the_report_and_the_results_file(
    stability: ModuleType, report: Any, tmp_path: Path
) -> None:
    args = stability.parse_args(["--repetitions", str(R)])
    table, _ok = stability.render(report, args)
    rows = [
        line for line in table.splitlines() if line.startswith("| 0.") or line.startswith("| 1.")
    ]
    assert len(rows) == 9
    assert all(row.count(" | ") == 9 for row in rows)  # ten columns, no stray `|` in a cell
    assert f"R = {R} identical" in table
    assert "the fake's request count equals the cases' samples in 18 of 18 runs" in table
    goals = table.split("| Goal (issue 13) | Measured | Met |")[1].strip().splitlines()[1:]
    assert len(goals) == 3
    assert all(line.endswith(("| yes |", "| **no** |")) for line in goals)

    results = tmp_path / "RESULTS.md"
    results.write_text("# Results\n\nHand-written text.\n")
    stability.write_results(table, results)
    stability.write_results("second run\n", results)  # rewrites between the markers only
    text = results.read_text()
    assert text.startswith("# Results\n\nHand-written text.\n")
    assert "## Verdict stability" in text
    assert f"{stability.BEGIN_MARK}\nsecond run\n{stability.END_MARK}" in text
    assert "| Goal (issue 13)" not in text


def test_wrong_verdicts_depend_on_the_side_of_the_threshold(stability: ModuleType) -> None:
    def cell(offset: float) -> Any:
        statuses = {"passed": 3, "failed": 2, "inconclusive": 5}
        return stability.Cell("adaptive", offset, statuses, [10] * 10, [], 100, 5, "x", 0.0)

    assert cell(-0.1).wrong == 3
    assert cell(0.1).wrong == 2
    assert cell(0.0).wrong == 0
    assert cell(0.0).inconclusive_share == 0.5


def test_the_helpers_arithmetic(stability: ModuleType) -> None:
    assert stability.wilson_upper(0, 1000) == pytest.approx(0.00383, abs=1e-5)
    assert stability.wilson_upper(5, 10) > 0.5
    assert math.isnan(stability.wilson_upper(0, 0))
    assert stability.clipped_normal_mean(0.5, 0.1) == pytest.approx(0.5, abs=1e-9)
    assert stability.clipped_normal_mean(1.0, 0.1) == pytest.approx(0.96011, abs=1e-4)
