"""A judged case's scores as dots on a 0–1 axis, drawn here as an SVG (like the trend chart).

Adaptive sampling (docs/sampling.md) decides a case on an interval, not on one score, so
the page shows what the decision saw: every judgement as a dot, the confidence interval
as a bar, the mean as a tick, and the case threshold as a line. A case is inconclusive
exactly when the bar still crosses the line, which a reader sees at a glance. The same
facts are given as one sentence (``summary``) for screen readers and for the caption.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from markupsafe import Markup, escape

WIDTH, HEIGHT = 320, 56
LEFT, RIGHT = 10, 10
AXIS_Y = 40
DOTS_Y = 20
COLOURS = {
    "passed": "#15803d",
    "failed": "#b91c1c",
    "inconclusive": "#a16207",
    "error": "#b45309",
}


def _x(score: float) -> float:
    return LEFT + (WIDTH - LEFT - RIGHT) * max(0.0, min(1.0, score))


def _confidence(value: float) -> str:
    return f"{value * 100:.4g}%"


def summary(sampling: Mapping[str, Any], threshold: float, status: str) -> str:
    """``10 judgements, mean 0.71, 95% interval 0.62–0.80, threshold 0.70, inconclusive``."""
    lo, hi = sampling["interval"]
    return (
        f"{len(sampling['samples'])} judgements, mean {sampling['mean']:.2f}, "
        f"{_confidence(sampling['confidence'])} interval {lo:.2f}–{hi:.2f}, "
        f"threshold {threshold:.2f}, {status}"
    )


def is_drawn(entry: Mapping[str, Any]) -> bool:
    """Only a case judged more than once has a spread worth drawing; ``samples: 1`` keeps
    the single score of the table."""
    sampling = entry.get("sampling")
    return isinstance(sampling, Mapping) and len(sampling.get("samples") or ()) > 1


def _dots(samples: list[float], colour: str) -> list[str]:
    """Equal scores are stacked a little apart (a fixed pattern, so the picture is the same
    on every reload) rather than hidden behind each other."""
    seen: dict[str, int] = {}
    parts = []
    for score in samples:
        x = _x(score)
        key = f"{x:.0f}"
        offset = seen.get(key, 0)
        seen[key] = offset + 1
        y = DOTS_Y + (offset % 4) * 4 - 6
        parts.append(
            f'<circle class="sample" cx="{x:.1f}" cy="{y:.1f}" r="3.5" fill="{colour}" '
            f'fill-opacity="0.65"><title>{score:.4g}</title></circle>'
        )
    return parts


def _axis() -> list[str]:
    parts = [
        f'<line x1="{LEFT}" y1="{AXIS_Y}" x2="{WIDTH - RIGHT}" y2="{AXIS_Y}" '
        'stroke="#9ca3af" stroke-width="1"/>'
    ]
    for tick, anchor in ((0.0, "start"), (0.5, "middle"), (1.0, "end")):
        x = _x(tick)
        parts.append(
            f'<line x1="{x:.1f}" y1="{AXIS_Y}" x2="{x:.1f}" y2="{AXIS_Y + 4}" stroke="#9ca3af"/>'
        )
        parts.append(
            f'<text x="{x:.1f}" y="{HEIGHT - 2}" text-anchor="{anchor}" font-size="10" '
            f'fill="#6b7280">{tick:g}</text>'
        )
    return parts


def samples_svg(entry: Mapping[str, Any]) -> Markup | None:
    """The picture of one case entry of a run's ``scores``, or None when it has none."""
    if not is_drawn(entry):
        return None
    sampling = entry["sampling"]
    threshold = float(entry["threshold"])
    status = str(entry.get("status", ""))
    colour = COLOURS.get(status, "#374151")
    lo, hi = (float(v) for v in sampling["interval"])
    label = escape(summary(sampling, threshold, status))
    mean_x, line_x = _x(float(sampling["mean"])), _x(threshold)
    parts = [
        f'<svg class="samples" viewBox="0 0 {WIDTH} {HEIGHT}" role="img" aria-label="{label}" '
        f'data-status="{escape(status)}" xmlns="http://www.w3.org/2000/svg">',
        f"<title>{label}</title>",
        *_axis(),
        f'<rect class="interval" x="{_x(lo):.1f}" y="{AXIS_Y - 4}" '
        f'width="{max(1.0, _x(hi) - _x(lo)):.1f}" height="8" rx="2" fill="{colour}" '
        'fill-opacity="0.3"/>',
        f'<line class="mean" x1="{mean_x:.1f}" y1="{AXIS_Y - 6}" x2="{mean_x:.1f}" '
        f'y2="{AXIS_Y + 6}" stroke="{colour}" stroke-width="2"/>',
        f'<line class="threshold" x1="{line_x:.1f}" y1="2" x2="{line_x:.1f}" '
        f'y2="{AXIS_Y + 6}" stroke="#2563eb" stroke-width="1.5" stroke-dasharray="3 2"/>',
        *_dots([float(s) for s in sampling["samples"]], colour),
        "</svg>",
    ]
    return Markup("".join(parts))
