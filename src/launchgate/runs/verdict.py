"""PURE pass/fail arithmetic of SPEC §4–5: no I/O, no settings, no database.

Kept apart from the engine so the rules that decide a launch can be read, and tested,
in one screen.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

CaseStatus = Literal["passed", "failed", "error", "inconclusive"]
RunStatus = Literal["cleared", "aborted", "error", "inconclusive"]
OnInconclusive = Literal["inconclusive", "abort", "clear"]
ON_INCONCLUSIVE: tuple[OnInconclusive, ...] = ("inconclusive", "abort", "clear")


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
    """What a run's case outcomes add up to (SPEC §5.4–5.5, issue 13): its status, counts
    and, when a case was inconclusive, the raw verdict before ``on_inconclusive`` mapped it."""

    status: RunStatus
    passed: bool
    pass_rate: float
    total_cases: int
    passed_cases: int
    failed_cases: int
    error_cases: int
    inconclusive_cases: int = 0
    verdict_detail: dict[str, object] | None = None


def run_outcome(
    outcomes: Sequence[tuple[CaseStatus, float]],
    pass_threshold: float,
    on_inconclusive: OnInconclusive = "inconclusive",
) -> RunOutcome:
    """``outcomes`` are ``(status, weight)`` per active case; an error counts as not passed.

    An inconclusive case is counted once as passed and once as failed: when the pass rate
    clears the threshold both ways the run is ``cleared``, when it fails both ways
    ``aborted``, otherwise ``inconclusive`` — which ``on_inconclusive`` may map to
    ``aborted`` (``abort``) or ``cleared`` (``clear``) for teams that want a binary gate.
    ``pass_rate`` counts inconclusive cases as not passed.
    """
    if not outcomes:
        raise ValueError("a run needs at least one active case")
    total_weight = sum(weight for _, weight in outcomes)
    counts = {
        s: sum(1 for status, _ in outcomes if status == s)
        for s in ("passed", "failed", "error", "inconclusive")
    }

    def rate(*passing: CaseStatus) -> float:
        weight = sum(w for status, w in outcomes if status in passing)
        return round(weight / total_weight, 4) if total_weight > 0 else 0.0

    low, high = rate("passed"), rate("passed", "inconclusive")
    raw: RunStatus
    if counts["error"]:
        raw = "error"
    elif low >= pass_threshold:
        raw = "cleared"
    elif high < pass_threshold:
        raw = "aborted"
    else:
        raw = "inconclusive"
    status: RunStatus = raw
    if raw == "inconclusive" and on_inconclusive != "inconclusive":
        status = "aborted" if on_inconclusive == "abort" else "cleared"
    detail: dict[str, object] | None = None
    if counts["inconclusive"]:
        detail = {
            "status": raw,
            "on_inconclusive": on_inconclusive,
            "pass_rate_low": low,
            "pass_rate_high": high,
            "inconclusive_cases": counts["inconclusive"],
        }
    return RunOutcome(
        status=status,
        passed=status == "cleared",
        pass_rate=low,
        total_cases=len(outcomes),
        passed_cases=counts["passed"],
        failed_cases=counts["failed"],
        error_cases=counts["error"],
        inconclusive_cases=counts["inconclusive"],
        verdict_detail=detail,
    )
