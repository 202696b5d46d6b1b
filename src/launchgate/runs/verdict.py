"""PURE pass/fail arithmetic of SPEC §4–5: no I/O, no settings, no database.

Kept apart from the engine so the rules that decide a launch can be read, and tested,
in one screen.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

CaseStatus = Literal["passed", "failed", "error"]
RunStatus = Literal["cleared", "aborted", "error"]


@dataclass(frozen=True, slots=True)
class CaseRule:
    """What a case needs to pass: its threshold and, for dual-sided scorers, the two
    per-side thresholds (each defaulting to the case threshold)."""

    threshold: float
    dual_sided: bool = False
    precision_threshold: float | None = None
    recall_threshold: float | None = None


def case_status(
    rule: CaseRule,
    score: float,
    *,
    error: bool,
    precision: float | None = None,
    recall: float | None = None,
) -> CaseStatus:
    if error:
        return "error"
    if rule.dual_sided and precision is not None and recall is not None:
        need_p = rule.threshold if rule.precision_threshold is None else rule.precision_threshold
        need_r = rule.threshold if rule.recall_threshold is None else rule.recall_threshold
        return "passed" if precision >= need_p and recall >= need_r else "failed"
    return "passed" if score >= rule.threshold else "failed"


@dataclass(frozen=True, slots=True)
class RunOutcome:
    """What a run's case outcomes add up to (SPEC §5.4–5.5): its status and counts."""

    status: RunStatus
    passed: bool
    pass_rate: float
    total_cases: int
    passed_cases: int
    failed_cases: int
    error_cases: int


def run_outcome(outcomes: Sequence[tuple[CaseStatus, float]], pass_threshold: float) -> RunOutcome:
    """``outcomes`` are ``(status, weight)`` per active case; an error counts as not passed."""
    if not outcomes:
        raise ValueError("a run needs at least one active case")
    total_weight = sum(weight for _, weight in outcomes)
    passed_weight = sum(weight for status, weight in outcomes if status == "passed")
    pass_rate = round(passed_weight / total_weight, 4) if total_weight > 0 else 0.0
    counts = {
        s: sum(1 for status, _ in outcomes if status == s) for s in ("passed", "failed", "error")
    }
    status: RunStatus
    if counts["error"]:
        status = "error"
    elif pass_rate >= pass_threshold:
        status = "cleared"
    else:
        status = "aborted"
    return RunOutcome(
        status=status,
        passed=status == "cleared",
        pass_rate=pass_rate,
        total_cases=len(outcomes),
        passed_cases=counts["passed"],
        failed_cases=counts["failed"],
        error_cases=counts["error"],
    )
