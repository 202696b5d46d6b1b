"""Typed dry-run estimates (issue 16): what ``LaunchGate.estimate`` returns.

A dry run (``dry_run: true`` on ``POST /v1/run`` or ``POST /v1/batches``) asks the server
what a run or a batch would cost — judge calls, estimated input tokens, the cost range —
without calling a provider, storing anything or counting usage (docs/cost.md). Built by
hand from the JSON like ``RunResult``; unknown fields stay in ``raw``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class CaseEstimate:
    """One judge case over every output sent: ``calls_min``..``calls_max`` judge calls
    (adaptive sampling stops in between), input tokens at ``calls_max`` after the
    correction ``input_token_ratio``, and the cost range (None: the model has no price)."""

    case_id: str
    name: str
    provider: str
    model: str | None
    calls_min: int
    calls_max: int
    input_tokens: int
    output_tokens_max: int
    input_token_ratio: float
    cost_usd_min: float | None
    cost_usd_max: float | None

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> CaseEstimate:
        return cls(
            case_id=str(data.get("case_id", "")),
            name=str(data.get("name", "")),
            provider=str(data.get("provider", "")),
            model=data.get("model"),
            calls_min=int(data.get("calls_min") or 0),
            calls_max=int(data.get("calls_max") or 0),
            input_tokens=int(data.get("input_tokens") or 0),
            output_tokens_max=int(data.get("output_tokens_max") or 0),
            input_token_ratio=float(data.get("input_token_ratio") or 1.0),
            cost_usd_min=_money(data.get("cost_usd_min")),
            cost_usd_max=_money(data.get("cost_usd_max")),
        )


@dataclass(frozen=True)
class Estimate:
    """A dry run's answer. ``cost_usd_min``/``cost_usd_max`` are None when any judged model
    has no price (``unpriced_models`` names them as ``provider/model``)."""

    suite_id: str
    suite: str
    items: int
    calls_min: int
    calls_max: int
    input_tokens: int
    output_tokens_max: int
    cost_usd_min: float | None
    cost_usd_max: float | None
    unpriced_models: tuple[str, ...] = ()
    cases: tuple[CaseEstimate, ...] = ()
    raw: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @property
    def priced(self) -> bool:
        """True when every judged model has a price, so the cost range is known."""
        return self.cost_usd_min is not None

    def to_dict(self) -> dict[str, Any]:
        """The server's JSON, as received."""
        return dict(self.raw)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Estimate:
        suite = data.get("suite") or {}
        calls = data.get("judge_calls") or {}
        cost = data.get("cost_usd") or {}
        return cls(
            suite_id=str(suite.get("id", "")),
            suite=str(suite.get("slug", "")),
            items=int(data.get("items") or 0),
            calls_min=int(calls.get("min") or 0),
            calls_max=int(calls.get("max") or 0),
            input_tokens=int(data.get("input_tokens") or 0),
            output_tokens_max=int(data.get("output_tokens_max") or 0),
            cost_usd_min=_money(cost.get("min")),
            cost_usd_max=_money(cost.get("max")),
            unpriced_models=tuple(str(m) for m in data.get("unpriced_models") or ()),
            cases=tuple(CaseEstimate.from_json(c) for c in data.get("by_case") or ()),
            raw=data,
        )


def _money(value: Any) -> float | None:
    return None if value is None else float(value)
