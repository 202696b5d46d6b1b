"""The only place where scoring meets I/O: every case of a snapshot is scored against
one output, concurrently, and each ends ``passed``, ``failed`` or ``error``.

Deterministic scorers are pure and fast, so they run inline; regex runs in a thread
(its time limit bounds the CPU it may take without stalling the event loop). ``llm_judge``
cases go to the ``Judge`` the worker passes in (runs/judging.py); without one (a request
that is not on the worker's code path) they end in error.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass
from typing import Any, Protocol

from launchgate.runs.verdict import CaseRule, Verdict, case_status, verdict
from launchgate.scorers.builtin import ScoreResult, score

JUDGE_UNAVAILABLE = "llm_judge cases are scored on the worker only"


class Judge(Protocol):
    """Scores one ``llm_judge`` case; the details are recorded as the case's ``judge``."""

    async def __call__(
        self, config: dict[str, Any], output: str, run_input: dict[str, Any], expected: Any
    ) -> tuple[ScoreResult, dict[str, Any]]: ...
_THREADED = {"regex"}


@dataclass(frozen=True)
class EngineOptions:
    regex_timeout_s: float


def merged_input(case_input: dict[str, Any], run_input: dict[str, Any]) -> dict[str, Any]:
    """SPEC §5.2: the run's input is merged over the case's; the run wins."""
    return {**case_input, **run_input} if run_input else dict(case_input)


async def _score_case(
    case: dict[str, Any], output: str, run_input: dict[str, Any], options: EngineOptions,
    judge: Judge | None,
) -> dict[str, Any]:
    scorer = case["scorer"]
    started = time.perf_counter()
    details: dict[str, Any] | None = None
    if scorer["type"] == "llm_judge" and judge is not None:
        result, details = await judge(
            scorer["config"], output, merged_input(case["input"], run_input), case["expected"]
        )
    else:
        result = await _result(scorer, case, output, options)
    duration_ms = round((time.perf_counter() - started) * 1000, 3)
    rule = CaseRule(
        threshold=case["threshold"], dual_sided=scorer["dual_sided"],
        precision_threshold=scorer["precision_threshold"],
        recall_threshold=scorer["recall_threshold"],
    )
    status = case_status(rule, result.score, error=result.error,
                         precision=result.precision, recall=result.recall)
    entry: dict[str, Any] = {
        "case": case["name"], "case_id": case["id"], "passed": status == "passed",
        "score": round(result.score, 4), "threshold": case["threshold"],
        "weight": case["weight"], "reason": result.reason, "status": status,
        "duration_ms": duration_ms, "scorer_type": scorer["type"],
    }
    if result.precision is not None:
        entry["precision"] = round(result.precision, 4)
        entry["recall"] = round(result.recall or 0.0, 4)
    if details is not None:
        entry["judge"] = details
    return entry


async def _result(
    scorer: dict[str, Any], case: dict[str, Any], output: str, options: EngineOptions
) -> ScoreResult:
    kind = scorer["type"]
    if kind == "llm_judge":
        return ScoreResult(score=0.0, reason=JUDGE_UNAVAILABLE, error=True)
    args = (kind, scorer["config"], output, case["expected"])
    try:
        if kind in _THREADED:
            return await asyncio.to_thread(score, *args, regex_timeout_s=options.regex_timeout_s)
        return score(*args, regex_timeout_s=options.regex_timeout_s)
    except Exception as exc:  # a scorer bug must end one case, not the whole run
        return ScoreResult(score=0.0, reason=f"Scorer failed: {type(exc).__name__}", error=True)


async def execute(
    snapshot: dict[str, Any], output: str, run_input: dict[str, Any], options: EngineOptions,
    judge: Judge | None = None,
) -> tuple[list[dict[str, Any]], Verdict]:
    cases = snapshot["cases"]
    scores = list(await asyncio.gather(
        *(_score_case(case, output, run_input, options, judge) for case in cases)
    ))
    result = verdict([(s["status"], s["weight"]) for s in scores],
                     snapshot["suite"]["pass_threshold"])
    return scores, result
