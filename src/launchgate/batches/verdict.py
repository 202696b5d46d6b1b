"""PURE: what a batch's items add up to (issue 14; docs/batches.md) — per case, its pass
rate across the items with a Wilson interval; for the batch, the share of items cleared
against ``min_cleared``, by the single-run rules: an item in error makes the batch
``error``; inconclusive items are counted both ways and may leave it ``inconclusive``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from launchgate.batches.statistics import wilson

# An item's outcome for one case: True passed, False failed or inconclusive (not passed),
# None error (the case could not be scored on that item, so it says nothing either way).
Outcome = bool | None


@dataclass(frozen=True, slots=True)
class Item:
    """One finished item: its run's status, the caller's key, and per case id the case's
    outcome."""

    status: str
    key: str | None
    outcomes: dict[str, Outcome] = field(default_factory=dict)

    @classmethod
    def of_run(cls, status: str, key: str | None, scores: Sequence[dict[str, Any]]) -> Item:
        return cls(status, key, {s["case_id"]: _outcome(s["status"]) for s in scores})


def _outcome(case_status: str) -> Outcome:
    return None if case_status == "error" else case_status == "passed"


@dataclass(frozen=True, slots=True)
class CaseInfo:
    case_id: str
    name: str
    threshold: float


def case_figures(cases: Sequence[CaseInfo], items: Sequence[Item]) -> list[dict[str, Any]]:
    """Per case, in suite order: how many items scored it, how many passed, its pass rate
    and the 95% Wilson interval of that rate."""
    figures = []
    for case in cases:
        seen = [item.outcomes.get(case.case_id) for item in items]
        passed = sum(1 for o in seen if o is True)
        scored = sum(1 for o in seen if o is not None)
        lo, hi = wilson(passed, scored)
        figures.append(
            {
                "case_id": case.case_id,
                "case": case.name,
                "threshold": case.threshold,
                "items": scored,
                "passed": passed,
                "errors": sum(
                    1
                    for item in items
                    if case.case_id in item.outcomes and item.outcomes[case.case_id] is None
                ),
                "pass_rate": round(passed / scored, 4) if scored else None,
                "interval": [round(lo, 4), round(hi, 4)],
            }
        )
    return figures


@dataclass(frozen=True, slots=True)
class BatchOutcome:
    status: str
    passed: bool
    pass_rate: float
    counts: dict[str, int]
    verdict_detail: dict[str, Any] | None


def batch_outcome(
    statuses: Sequence[str],
    min_cleared: float,
    on_inconclusive: str = "inconclusive",
    regressed_cases: int = 0,
    fail_on_regression: bool = False,
) -> BatchOutcome:
    """The batch's status from its items' final run statuses.

    ``pass_rate`` is the share of items cleared. With inconclusive items counted once as
    cleared and once not: ``cleared`` when the share reaches ``min_cleared`` both ways,
    ``aborted`` when it misses both ways, else ``inconclusive`` (which the suite's
    ``on_inconclusive`` may map). ``fail_on_regression`` aborts a batch that would clear
    but has a regressed case. ``verdict_detail`` keeps the raw outcome when either rule
    changed or could have changed it.
    """
    if not statuses:
        raise ValueError("a batch has at least one item")
    total = len(statuses)
    counts = {s: statuses.count(s) for s in ("cleared", "aborted", "inconclusive", "error")}
    low = round(counts["cleared"] / total, 4)
    high = round((counts["cleared"] + counts["inconclusive"]) / total, 4)
    if counts["error"]:
        raw = "error"
    elif low >= min_cleared:
        raw = "cleared"
    elif high < min_cleared:
        raw = "aborted"
    else:
        raw = "inconclusive"
    status = raw
    if raw == "inconclusive" and on_inconclusive in ("abort", "clear"):
        status = "aborted" if on_inconclusive == "abort" else "cleared"
    regression_abort = fail_on_regression and regressed_cases > 0 and status == "cleared"
    if regression_abort:
        status = "aborted"
    detail: dict[str, Any] | None = None
    if counts["inconclusive"] or regression_abort:
        detail = {
            "status": raw,
            "on_inconclusive": on_inconclusive,
            "pass_rate_low": low,
            "pass_rate_high": high,
            "inconclusive_items": counts["inconclusive"],
            "aborted_by_regression": regression_abort,
        }
    return BatchOutcome(status, status == "cleared", low, counts, detail)
