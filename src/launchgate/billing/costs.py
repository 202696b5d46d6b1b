"""What judged cases cost, summed: a run's ``cost_usd`` and its spend per provider+model.

Pure arithmetic over the case entries a run stores (``scores``): a judged case carries
``usage`` (its calls and tokens) and ``cost_usd`` (None when its model has no price);
a deterministic case carries neither and costs nothing (docs/cost.md).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

DECIMALS = 6
TOKEN_FIELDS = ("input_tokens", "output_tokens", "cached_input_tokens", "estimated_input_tokens")


_QUANTUM = Decimal(1).scaleb(-DECIMALS)


def rounded(usd: float | Decimal | None) -> float | None:
    """To six decimals, half up, in decimal: a float's own rounding would turn 0.0011525
    (stored as 0.00115249999…) into 0.001152."""
    if usd is None:
        return None
    exact = usd if isinstance(usd, Decimal) else Decimal(repr(usd))
    return float(exact.quantize(_QUANTUM, rounding=ROUND_HALF_UP))


def sum_costs(costs: Iterable[float | None]) -> float | None:
    """The sum, or None as soon as one part is None (an unpriced part makes the whole
    unknown: a partial sum would read as the full cost)."""
    total = Decimal(0)
    for cost in costs:
        if cost is None:
            return None
        total += Decimal(repr(cost))
    return rounded(total)


def judged(scores: Iterable[dict[str, Any]] | None) -> list[dict[str, Any]]:
    """The judged case entries: those with ``usage``."""
    return [entry for entry in scores or [] if entry.get("usage") is not None]


def run_cost(scores: Iterable[dict[str, Any]] | None) -> float | None:
    """A run's ``cost_usd``: 0.0 with no judged case (or only cached verdicts), None when
    any judged case's cost is None."""
    return sum_costs(entry.get("cost_usd") for entry in judged(scores))


@dataclass
class Spend:
    """One provider+model's calls, tokens and cost (None: unpriced)."""

    calls: int = 0
    input_tokens: int = 0
    output_tokens: int = 0
    cached_input_tokens: int = 0
    estimated_input_tokens: int = 0
    cost_usd: float | None = 0.0

    def add(self, usage: dict[str, Any], cost: float | None) -> None:
        self.calls += int(usage.get("calls", 0))
        for name in TOKEN_FIELDS:
            setattr(self, name, getattr(self, name) + int(usage.get(name, 0)))
        self.cost_usd = None if cost is None or self.cost_usd is None else self.cost_usd + cost


def spend_by_model(scores: Iterable[dict[str, Any]] | None) -> dict[tuple[str, str], Spend]:
    """The run's spend per ``(provider, model)``; judged cases that made no call (cached
    verdicts, refused by the budget, no key) are left out."""
    found: dict[tuple[str, str], Spend] = {}
    for entry in judged(scores):
        usage = entry["usage"]
        if not usage.get("calls"):
            continue
        key = (str(usage["provider"]), str(usage["model"]))
        found.setdefault(key, Spend()).add(usage, entry.get("cost_usd"))
    return found
