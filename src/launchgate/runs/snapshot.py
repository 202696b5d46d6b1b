"""The frozen picture of a suite taken when a run is made. A run is scored from its
snapshot alone, so editing a case later never changes a past (or pending) run."""

from __future__ import annotations

from typing import Any

from launchgate.models import Case, Scorer, Suite


def take(suite: Suite, cases: list[Case], scorers: dict[Any, Scorer]) -> dict[str, Any]:
    return {
        "suite": {
            "id": str(suite.id),
            "project_id": str(suite.project_id),
            "name": suite.name,
            "slug": suite.slug,
            "pass_threshold": suite.pass_threshold,
            "on_inconclusive": suite.on_inconclusive,
            "batch_threshold": suite.batch_threshold,
            "baseline_branch": suite.baseline_branch,
            "fail_on_regression": suite.fail_on_regression,
        },
        "cases": [_case(case, scorers[case.scorer_id]) for case in cases],
    }


def _case(case: Case, scorer: Scorer) -> dict[str, Any]:
    return {
        "id": str(case.id),
        "name": case.name,
        "input": case.input,
        "expected": case.expected,
        "threshold": case.threshold,
        "weight": case.weight,
        "position": case.position,
        "scorer": {
            "id": str(scorer.id),
            "name": scorer.name,
            "type": scorer.type,
            "config": scorer.config,
            "dual_sided": scorer.dual_sided,
            "precision_threshold": scorer.precision_threshold,
            "recall_threshold": scorer.recall_threshold,
        },
    }
