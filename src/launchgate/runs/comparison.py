"""PURE: two single runs of one suite, case by case (issue 14) — what changed, without
statistics: each run scored one output once, so a change is a fact about those two
outputs, not evidence about the next one (batches are compared with statistics,
batches/comparison.py)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

_RANK = {"passed": 2, "inconclusive": 1, "failed": 0}


def compare_runs(
    current: Sequence[dict[str, Any]], baseline: Sequence[dict[str, Any]]
) -> list[dict[str, Any]]:
    """Per case (the current run's order, then cases only the baseline had): both
    statuses and scores, the score's change, and ``regressed`` (its status got worse, or
    it ended in error), ``improved``, ``same``, ``new`` or ``removed``."""
    before = {s["case_id"]: s for s in baseline}
    now_ids = {s["case_id"] for s in current}
    rows = []
    for case in [*current, *(s for s in baseline if s["case_id"] not in now_ids)]:
        then = before.get(case["case_id"])
        now = case if case["case_id"] in now_ids else None
        row: dict[str, Any] = {
            "case_id": case["case_id"],
            "case": case["case"],
            "baseline_status": then["status"] if then else None,
            "current_status": now["status"] if now else None,
            "baseline_score": then["score"] if then else None,
            "current_score": now["score"] if now else None,
            "delta": round(now["score"] - then["score"], 4) if now and then else None,
        }
        row["change"] = _change(then, now)
        rows.append(row)
    return rows


def _change(then: dict[str, Any] | None, now: dict[str, Any] | None) -> str:
    if then is None:
        return "new"
    if now is None:
        return "removed"
    if now["status"] == then["status"]:
        return "same"
    if now["status"] == "error":
        return "regressed"
    if then["status"] == "error":
        return "improved"
    return "improved" if _RANK[now["status"]] > _RANK[then["status"]] else "regressed"
