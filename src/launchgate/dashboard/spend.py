"""The judge's spend this month, day by day, as an SVG bar chart drawn here (like the
trend chart, the judgements' dots and the batch bars), and the money figures of the Usage
and run pages.

The chart draws every day of the calendar month (UTC), so a quiet day reads as a gap and
the days still to come as empty room, not as a chart that ends early. The scale's top is
a round amount (1, 2, 2.5 or 5 times a power of ten) written on the axis; each bar carries
a tooltip with its date, amount and judge calls, and the whole picture one sentence
(``summary``) for screen readers and the caption. Pure: the usage answer's ``by_day`` in,
markup out.
"""

from __future__ import annotations

import calendar
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from markupsafe import Markup, escape

from launchgate.sdk import money

WIDTH, HEIGHT = 640, 180
LEFT, RIGHT, TOP, BOTTOM = 56, 10, 12, 26
BAR_COLOUR = "#2563eb"
WARNING_AT = 0.8  # the share of the budget at which the Usage page warns (issue 16)


@dataclass(frozen=True, slots=True)
class Day:
    """One day of the month: what its judge calls cost and how many there were."""

    day: date
    cost_usd: float
    calls: int


def usd(value: float | None) -> str:
    """The CLI's rule for dollars (``launchgate.sdk.money``); ``—`` for None."""
    return "—" if value is None else money.usd(value)


def days_of(by_day: Sequence[Mapping[str, Any]], today: date) -> list[Day]:
    """Every day of ``today``'s month, in order, with the spend the API reported for it
    (nothing reported: zero); rows of another month are left out."""
    spent: dict[date, Day] = {}
    for row in by_day:
        when = date.fromisoformat(str(row["date"]))
        if (when.year, when.month) == (today.year, today.month):
            spent[when] = Day(when, float(row.get("cost_usd") or 0.0), int(row.get("calls") or 0))
    last = calendar.monthrange(today.year, today.month)[1]
    return [
        spent.get(day, Day(day, 0.0, 0))
        for day in (date(today.year, today.month, n) for n in range(1, last + 1))
    ]


def scale_top(highest: float) -> float:
    """The smallest of 1, 2, 2.5 and 5 times a power of ten that holds ``highest``."""
    if highest <= 0:
        return 1.0
    power = 10.0 ** math.floor(math.log10(highest))
    for step in (1.0, 2.0, 2.5, 5.0, 10.0):
        if highest <= step * power * (1 + 1e-9):
            return step * power
    return 10 * power  # pragma: no cover - the loop's last step always holds it


def summary(days: Sequence[Day]) -> str:
    """``Judge spend in March 2025: $0.0420 in 12 calls over 3 days; highest $0.0300 on
    2025-03-04``, or that nothing was spent."""
    if not days:
        return "No judge spend"
    month = f"{calendar.month_name[days[0].day.month]} {days[0].day.year}"
    busy = [d for d in days if d.cost_usd > 0 or d.calls > 0]
    if not busy:
        return f"No judge spend in {month}"
    total = sum(d.cost_usd for d in days)
    calls = sum(d.calls for d in days)
    top = max(busy, key=lambda d: (d.cost_usd, d.calls))
    return (
        f"Judge spend in {month}: {usd(total)} in {calls} call{'' if calls == 1 else 's'} "
        f"over {len(busy)} day{'' if len(busy) == 1 else 's'}; highest {usd(top.cost_usd)} "
        f"on {top.day.isoformat()}"
    )


def _y(value: float, top: float) -> float:
    return TOP + (HEIGHT - TOP - BOTTOM) * (1 - max(0.0, min(1.0, value / top)))


def _axes(top: float, count: int, slot: float) -> list[str]:
    parts = []
    for share in (0.0, 0.5, 1.0):
        y = _y(top * share, top)
        parts.append(
            f'<line x1="{LEFT}" y1="{y:.1f}" x2="{WIDTH - RIGHT}" y2="{y:.1f}" '
            'stroke="#e5e7eb" stroke-width="1"/>'
        )
        parts.append(
            f'<text class="tick" x="{LEFT - 6}" y="{y + 4:.1f}" text-anchor="end" '
            f'font-size="11" fill="#6b7280">{usd(top * share)}</text>'
        )
    for n in sorted({1, 8, 15, 22, count}):
        x = LEFT + slot * (n - 0.5)
        parts.append(
            f'<text x="{x:.1f}" y="{HEIGHT - 8}" text-anchor="middle" font-size="11" '
            f'fill="#6b7280">{n}</text>'
        )
    return parts


def _bar(day: Day, index: int, slot: float, top: float) -> str:
    tip = escape(
        f"{day.day.isoformat()}: {usd(day.cost_usd)} in {day.calls} "
        f"call{'' if day.calls == 1 else 's'}"
    )
    x = LEFT + slot * index + slot * 0.15
    y = _y(day.cost_usd, top)
    height = HEIGHT - BOTTOM - y
    return (
        f'<g class="day" data-date="{day.day.isoformat()}" data-cost="{day.cost_usd:g}">'
        f"<title>{tip}</title>"
        f'<rect class="spend" x="{x:.1f}" y="{y:.1f}" width="{slot * 0.7:.1f}" '
        f'height="{height:.1f}" fill="{BAR_COLOUR}"/></g>'
    )


def spend_svg(days: Sequence[Day]) -> Markup | None:
    """The month's chart: one bar per day that spent anything; None for an empty month
    (the page says so in words instead of drawing an empty frame)."""
    if not any(d.cost_usd > 0 for d in days):
        return None
    top = scale_top(max(d.cost_usd for d in days))
    slot = (WIDTH - LEFT - RIGHT) / len(days)
    label = escape(summary(days))
    parts = [
        f'<svg class="spend" viewBox="0 0 {WIDTH} {HEIGHT}" role="img" aria-label="{label}" '
        'xmlns="http://www.w3.org/2000/svg">',
        f"<title>{label}</title>",
        *_axes(top, len(days), slot),
        *(_bar(d, i, slot, top) for i, d in enumerate(days) if d.cost_usd > 0),
        "</svg>",
    ]
    return Markup("".join(parts))


# --- a run's cost, for the run page and the answer of "Run" on the suite page -------------


def _get(item: Any, name: str) -> Any:
    """A field of a run or a case, whether the page holds the stored row or the API's JSON."""
    return item.get(name) if isinstance(item, Mapping) else getattr(item, name, None)


def is_judged(case: Mapping[str, Any]) -> bool:
    return case.get("usage") is not None or case.get("scorer_type") == "llm_judge"


def run_cost(run: Any) -> str | None:
    """``$0.0123`` or ``unknown (no price for openai/gpt-x)`` for a scored run with a
    judged case, as ``launchgate run`` prints it; None for a run without one (it cost
    nothing) and for a run still being scored."""
    judged = [case for case in _get(run, "scores") or [] if is_judged(case)]
    if not judged:
        return None
    cost = _get(run, "cost_usd")
    if cost is not None:
        return usd(float(cost))
    unpriced = [
        f"{case['usage'].get('provider')}/{case['usage'].get('model')}"
        for case in judged
        if case.get("usage") is not None and case.get("cost_usd") is None
    ]
    found = list(dict.fromkeys(unpriced))
    return f"unknown (no price for {', '.join(found)})" if found else "unknown"


def case_cost(case: Mapping[str, Any]) -> str | None:
    """``$0.0012 · 1,200 in (200 cached) / 90 out tokens · 3 judge calls`` for a judged
    case with usage (tokens summed over its samples); None for any other case."""
    usage = case.get("usage")
    if not isinstance(usage, Mapping):
        return None
    cost = case.get("cost_usd")
    money = usd(float(cost)) if cost is not None else "unknown (no price for this model)"
    cached = int(usage.get("cached_input_tokens") or 0)
    calls = int(usage.get("calls") or 0)
    tokens = (
        f"{int(usage.get('input_tokens') or 0):,} in"
        + (f" ({cached:,} cached)" if cached else "")
        + f" / {int(usage.get('output_tokens') or 0):,} out tokens"
    )
    if calls:
        made = f"{calls} judge call{'' if calls == 1 else 's'}"
    elif case.get("status") == "error":  # refused before the call (a spent budget, no key)
        made = "no judge call"
    else:
        made = "cached verdict, no call"
    return f"{money} · {tokens} · {made}"
