"""PURE: which cases regressed against a baseline batch (issue 14; docs/batches.md).

Per case, items whose ``key`` appears in both batches (and were scored in both) are
compared paired — McNemar's exact test on the discordant pairs, Newcombe's paired interval
for the difference — and when no item matches, all items are compared unpaired: Fisher's
exact test and Newcombe's hybrid score interval. The p-values of the suite's cases are
adjusted together (Benjamini–Hochberg), so that at most about 5% of the cases called
``regressed`` or ``improved`` are expected to be noise.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from launchgate.batches.statistics import (
    FDR_LEVEL,
    Pairs,
    benjamini_hochberg,
    classify,
    fisher_exact,
    mcnemar_exact,
    newcombe_paired,
    newcombe_unpaired,
)
from launchgate.batches.verdict import CaseInfo, Item


def _rate(items: Sequence[Item], case_id: str) -> tuple[int, int]:
    seen = [item.outcomes.get(case_id) for item in items]
    return sum(1 for o in seen if o is True), sum(1 for o in seen if o is not None)


def _pairs(current: Sequence[Item], baseline: Sequence[Item], case_id: str) -> Pairs:
    before = {
        item.key: item.outcomes.get(case_id)
        for item in baseline
        if item.key is not None and item.outcomes.get(case_id) is not None
    }
    both = lost = gained = neither = 0
    for item in current:
        now = item.outcomes.get(case_id)
        if item.key is None or now is None or item.key not in before:
            continue
        then = before[item.key]
        both += bool(then and now)
        lost += bool(then and not now)
        gained += bool(now and not then)
        neither += bool(not then and not now)
    return Pairs(both, lost, gained, neither)


def _side(passed: int, items: int) -> dict[str, Any]:
    return {
        "passed": passed,
        "items": items,
        "pass_rate": round(passed / items, 4) if items else None,
    }


def compare(
    cases: Sequence[CaseInfo],
    current: Sequence[Item],
    baseline_cases: Sequence[CaseInfo],
    baseline: Sequence[Item],
) -> dict[str, Any]:
    """Per case (the current suite's order, then cases only the baseline had): both pass
    rates, the difference with its 95% interval, the p-value and its adjusted q-value, and
    the classification; with counts of regressed and improved cases."""
    current_ids = {c.case_id for c in cases}
    baseline_ids = {c.case_id for c in baseline_cases}
    rows: list[dict[str, Any]] = []
    tested: list[int] = []  # indexes of rows with a p-value
    for case in [*cases, *(c for c in baseline_cases if c.case_id not in current_ids)]:
        row: dict[str, Any] = {"case_id": case.case_id, "case": case.name}
        now, then = _rate(current, case.case_id), _rate(baseline, case.case_id)
        row["current"] = _side(*now) if case.case_id in current_ids else None
        row["baseline"] = _side(*then) if case.case_id in baseline_ids else None
        row.update(difference=None, interval=None, p_value=None, q_value=None, test=None)
        row["pairs"] = 0
        if case.case_id not in baseline_ids or then[1] == 0:
            row["classification"] = "new"
        elif case.case_id not in current_ids or now[1] == 0:
            row["classification"] = "removed"
        else:
            pairs = _pairs(current, baseline, case.case_id)
            if pairs.total:
                difference = (pairs.gained - pairs.lost) / pairs.total
                lo, hi = newcombe_paired(pairs)
                p_value, test = mcnemar_exact(pairs), "mcnemar"
            else:
                difference = now[0] / now[1] - then[0] / then[1]
                lo, hi = newcombe_unpaired(now, then)
                p_value, test = fisher_exact(now, then), "fisher"
            row.update(
                difference=round(difference, 4),
                interval=[round(lo, 4), round(hi, 4)],
                p_value=p_value,
                test=test,
                pairs=pairs.total,
            )
            tested.append(len(rows))
        rows.append(row)
    adjusted = benjamini_hochberg([rows[i]["p_value"] for i in tested])
    for i, q_value in zip(tested, adjusted, strict=True):
        rows[i]["q_value"] = q_value
        rows[i]["classification"] = classify(rows[i]["difference"], q_value)
    return {
        "false_discovery_rate": FDR_LEVEL,
        "regressed_cases": sum(1 for r in rows if r["classification"] == "regressed"),
        "improved_cases": sum(1 for r in rows if r["classification"] == "improved"),
        "cases": rows,
    }
