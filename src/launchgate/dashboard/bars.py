"""A batch's cases as pass-rate bars with their 95% Wilson intervals, the baseline's beside
them, drawn here as SVG (like the trend chart and the judgements' dots).

A drop from 92% to 88% on a case may be noise; the page shows why the comparison said
what it said: each pass rate as a bar, its interval as a whisker, so that overlapping
whiskers read as "not clearly different" at a glance. The same facts are one sentence
(``summary``) for screen readers and for the caption. Rows are assembled here too, as a
pure function of the batch's JSON (``cases`` and ``comparison``): regressions first.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from markupsafe import Markup, escape

from launchgate.batches.statistics import wilson

WIDTH, HEIGHT = 320, 58
LEFT, RIGHT = 52, 10
BAR_H = 12
NOW_Y, BASE_Y = 4, 22
AXIS_Y = 40
BASELINE_COLOUR = "#9ca3af"
COLOURS = {"regressed": "#b91c1c", "improved": "#15803d"}
NOW_COLOUR = "#2563eb"
MARKS = {"regressed": "▼", "improved": "▲"}


@dataclass(frozen=True, slots=True)
class Side:
    """One batch's figures for a case: passed of items scored, the rate and its interval."""

    passed: int
    items: int
    rate: float | None
    interval: tuple[float, float]

    @classmethod
    def of(cls, data: Mapping[str, Any] | None) -> Side | None:
        """From a comparison side (``{passed, items, pass_rate}``) or a case figure (which
        carries its interval); the interval is Wilson's either way, as the API computes it."""
        if data is None:
            return None
        passed, items = int(data["passed"]), int(data["items"])
        interval = data.get("interval")
        if interval is None:
            lo, hi = wilson(passed, items)
            interval = [round(lo, 4), round(hi, 4)]
        rate = data.get("pass_rate")
        return cls(passed, items, None if rate is None else float(rate), (interval[0], interval[1]))


@dataclass(frozen=True, slots=True)
class CaseRow:
    """A case of the batch page: this batch's side, the baseline's, and the comparison's
    verdict on the difference (all None without a baseline)."""

    case_id: str
    case: str
    current: Side | None
    baseline: Side | None
    classification: str | None = None
    difference: float | None = None
    interval: tuple[float, float] | None = None
    p_value: float | None = None
    q_value: float | None = None
    test: str | None = None
    pairs: int = 0

    @property
    def mark(self) -> str:
        return MARKS.get(self.classification or "", "")


def case_rows(
    cases: Sequence[Mapping[str, Any]] | None, comparison: Mapping[str, Any] | None
) -> list[CaseRow]:
    """The rows in suite order (then cases only the baseline had), regressed cases first —
    the most significant first — because they are what the reader came to see."""
    figures = {c["case_id"]: c for c in cases or []}
    if comparison is None:
        rows = [CaseRow(c["case_id"], c["case"], Side.of(c), None) for c in cases or []]
    else:
        rows = [_compared(c, figures.get(c["case_id"])) for c in comparison["cases"]]
    regressed = sorted(
        (r for r in rows if r.classification == "regressed"),
        key=lambda r: (r.q_value if r.q_value is not None else 1.0, r.p_value or 1.0),
    )
    return regressed + [r for r in rows if r.classification != "regressed"]


def _compared(row: Mapping[str, Any], figure: Mapping[str, Any] | None) -> CaseRow:
    interval = row.get("interval")
    return CaseRow(
        case_id=row["case_id"],
        case=row["case"],
        current=Side.of(figure) if figure is not None else Side.of(row.get("current")),
        baseline=Side.of(row.get("baseline")),
        classification=row["classification"],
        difference=row.get("difference"),
        interval=None if interval is None else (interval[0], interval[1]),
        p_value=row.get("p_value"),
        q_value=row.get("q_value"),
        test=row.get("test"),
        pairs=int(row.get("pairs") or 0),
    )


def percent(value: float | None) -> str:
    """``60%``, ``46.1%``: three significant digits, enough to tell 88% from 92%."""
    return "—" if value is None else f"{value * 100:.3g}%"


def interval_text(interval: Sequence[float]) -> str:
    """``46.2–72.4%``: one percent sign for the pair."""
    return f"{interval[0] * 100:.3g}–{percent(interval[1])}"


def p_text(value: float | None) -> str:
    """Two significant digits; below 0.0001 the digits say nothing more."""
    if value is None:
        return "—"
    return "< 0.0001" if value < 0.0001 else f"{value:.2g}"


def points(value: float | None) -> str:
    """A difference of pass rates in percentage points, signed: ``−36 pts``."""
    if value is None:
        return "—"
    return f"{value * 100:+.3g} pts".replace("-", "−")


def _side_text(side: Side | None) -> str:
    if side is None or side.items == 0:
        return "not scored"
    return (
        f"{percent(side.rate)} ({side.passed}/{side.items}, "
        f"95% interval {interval_text(side.interval)})"
    )


def summary(row: CaseRow) -> str:
    """``has alpha: now 60% (30/50, 95% interval 46.1–72.6%); baseline 96% (48/50, 95%
    interval 86.5–98.9%); regressed``; without a baseline only the first part."""
    if row.classification is None:
        return f"{row.case}: {_side_text(row.current)}"
    now = "not in this batch" if row.current is None else f"now {_side_text(row.current)}"
    then = "no baseline" if row.baseline is None else f"baseline {_side_text(row.baseline)}"
    return f"{row.case}: {now}; {then}; {row.classification}"


def _x(rate: float) -> float:
    return LEFT + (WIDTH - LEFT - RIGHT) * max(0.0, min(1.0, rate))


def _bar(side: Side | None, y: int, label: str, colour: str, name: str) -> list[str]:
    parts = [
        f'<text x="{LEFT - 6}" y="{y + BAR_H - 2}" text-anchor="end" font-size="10" '
        f'fill="#6b7280">{label}</text>'
    ]
    if side is None or side.rate is None:
        return parts
    lo, hi = side.interval
    mid = y + BAR_H / 2
    parts += [
        f'<rect class="bar {name}" x="{LEFT}" y="{y}" width="{_x(side.rate) - LEFT:.1f}" '
        f'height="{BAR_H}" rx="2" fill="{colour}" fill-opacity="0.35"/>',
        f'<line class="interval {name}" x1="{_x(lo):.1f}" y1="{mid:.1f}" x2="{_x(hi):.1f}" '
        f'y2="{mid:.1f}" stroke="{colour}" stroke-width="2"/>',
        *(
            f'<line x1="{_x(v):.1f}" y1="{y + 2}" x2="{_x(v):.1f}" y2="{y + BAR_H - 2}" '
            f'stroke="{colour}" stroke-width="2"/>'
            for v in (lo, hi)
        ),
    ]
    return parts


def _axis() -> list[str]:
    parts = [
        f'<line x1="{LEFT}" y1="{AXIS_Y}" x2="{WIDTH - RIGHT}" y2="{AXIS_Y}" '
        'stroke="#d1d5db" stroke-width="1"/>'
    ]
    for tick, anchor in ((0.0, "start"), (0.5, "middle"), (1.0, "end")):
        x = _x(tick)
        parts.append(
            f'<line x1="{x:.1f}" y1="{AXIS_Y}" x2="{x:.1f}" y2="{AXIS_Y + 4}" stroke="#d1d5db"/>'
        )
        parts.append(
            f'<text x="{x:.1f}" y="{HEIGHT - 2}" text-anchor="{anchor}" font-size="10" '
            f'fill="#6b7280">{tick * 100:.0f}%</text>'
        )
    return parts


def bars_svg(row: CaseRow) -> Markup:
    """One case's picture: this batch's bar on top, the baseline's (grey) below."""
    label = escape(summary(row))
    colour = COLOURS.get(row.classification or "", NOW_COLOUR)
    parts = [
        f'<svg class="bars" viewBox="0 0 {WIDTH} {HEIGHT}" role="img" aria-label="{label}" '
        f'data-classification="{escape(row.classification or "")}" '
        'xmlns="http://www.w3.org/2000/svg">',
        f"<title>{label}</title>",
        *_axis(),
        *_bar(row.current, NOW_Y, "now", colour, "now"),
    ]
    if row.classification is not None:
        parts += _bar(row.baseline, BASE_Y, "baseline", BASELINE_COLOUR, "baseline")
    parts.append("</svg>")
    return Markup("".join(parts))
