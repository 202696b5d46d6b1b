"""The pass-rate trend of a suite as an SVG drawn here, on the server.

An SVG of a few dozen shapes needs no chart library (nothing to vendor, no script, works
under the page's strict Content-Security-Policy) and is testable as a pure function.
Colours come with shapes — cleared ●, aborted ■, error ▲, inconclusive ◐ (a half-filled
circle: neither cleared nor aborted) — so the marks read without colour too; each mark
links to its run and carries a tooltip.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from markupsafe import Markup, escape

from launchgate.kit.time import as_utc

WIDTH, HEIGHT = 640, 200
LEFT, RIGHT, TOP, BOTTOM = 44, 12, 12, 28
FINAL = ("cleared", "aborted", "error", "inconclusive")
UNDECIDED = "#a16207"


@dataclass(frozen=True)
class Point:
    run_id: str
    status: str
    pass_rate: float
    created_at: datetime


def points_of(runs: list[tuple[str, str, float | None, datetime]]) -> list[Point]:
    """Finished runs only, oldest first; ``runs`` as ``(id, status, pass_rate, created_at)``."""
    done = [Point(i, s, p, c) for i, s, p, c in runs if s in FINAL and p is not None]
    return sorted(done, key=lambda p: (as_utc(p.created_at), p.run_id))


def _x(index: int, count: int) -> float:
    span = WIDTH - LEFT - RIGHT
    return LEFT + (span / 2 if count == 1 else span * index / (count - 1))


def _y(rate: float) -> float:
    return TOP + (HEIGHT - TOP - BOTTOM) * (1 - max(0.0, min(1.0, rate)))


def _mark(point: Point, x: float, y: float) -> str:
    label = escape(
        f"{point.status} · {point.pass_rate * 100:.4g}% · "
        f"{as_utc(point.created_at):%Y-%m-%d %H:%M} UTC · {point.run_id}"
    )
    if point.status == "cleared":
        shape = f'<circle cx="{x:.1f}" cy="{y:.1f}" r="5" fill="#15803d"/>'
    elif point.status == "aborted":
        shape = f'<rect x="{x - 5:.1f}" y="{y - 5:.1f}" width="10" height="10" fill="#b91c1c"/>'
    elif point.status == "inconclusive":
        shape = (
            f'<circle cx="{x:.1f}" cy="{y:.1f}" r="5" fill="#fff" stroke="{UNDECIDED}" '
            f'stroke-width="1.5"/><path d="M{x:.1f},{y - 5:.1f} A5,5 0 0,0 {x:.1f},{y + 5:.1f} Z" '
            f'fill="{UNDECIDED}"/>'
        )
    else:
        shape = (
            f'<polygon points="{x:.1f},{y - 6:.1f} {x + 6:.1f},{y + 5:.1f} '
            f'{x - 6:.1f},{y + 5:.1f}" fill="#b45309"/>'
        )
    return (
        f'<a href="/runs/{escape(point.run_id)}" class="mark mark-{point.status}">'
        f"<title>{label}</title>{shape}</a>"
    )


def _axes(pass_threshold: float) -> list[str]:
    parts = []
    for rate in (0.0, 0.5, 1.0):
        y = _y(rate)
        parts.append(
            f'<line x1="{LEFT}" y1="{y:.1f}" x2="{WIDTH - RIGHT}" y2="{y:.1f}" '
            'stroke="#e5e7eb" stroke-width="1"/>'
        )
        parts.append(
            f'<text x="{LEFT - 6}" y="{y + 4:.1f}" text-anchor="end" font-size="11" '
            f'fill="#6b7280">{rate * 100:.0f}%</text>'
        )
    y = _y(pass_threshold)
    parts.append(
        f'<line class="threshold" x1="{LEFT}" y1="{y:.1f}" x2="{WIDTH - RIGHT}" '
        f'y2="{y:.1f}" stroke="#2563eb" stroke-width="1" stroke-dasharray="4 3"/>'
    )
    return parts


def trend_svg(points: list[Point], pass_threshold: float) -> Markup | None:
    """The chart, or None when there is no finished run to draw."""
    if not points:
        return None
    count = len(points)
    coords = [(_x(i, count), _y(p.pass_rate)) for i, p in enumerate(points)]
    path = " ".join(f"{x:.1f},{y:.1f}" for x, y in coords)
    cleared = sum(p.status == "cleared" for p in points)
    undecided = sum(p.status == "inconclusive" for p in points)
    counts = f"{cleared} cleared, " + (f"{undecided} inconclusive, " if undecided else "")
    summary = escape(
        f"Pass rate of the last {count} runs: {counts}"
        f"{count - cleared - undecided} not; pass threshold {pass_threshold * 100:.4g}%"
    )
    parts = [
        f'<svg class="trend" viewBox="0 0 {WIDTH} {HEIGHT}" role="img" '
        f'aria-label="{summary}" xmlns="http://www.w3.org/2000/svg">',
        f"<title>{summary}</title>",
        *_axes(pass_threshold),
        f'<polyline points="{path}" fill="none" stroke="#9ca3af" stroke-width="1.5"/>',
        *(_mark(p, x, y) for p, (x, y) in zip(points, coords, strict=True)),
        f'<text x="{LEFT}" y="{HEIGHT - 8}" font-size="11" fill="#6b7280">oldest</text>',
        f'<text x="{WIDTH - RIGHT}" y="{HEIGHT - 8}" text-anchor="end" font-size="11" '
        'fill="#6b7280">newest</text>',
        "</svg>",
    ]
    return Markup("".join(parts))
