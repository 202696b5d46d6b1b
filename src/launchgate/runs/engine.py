"""The only place where scoring meets I/O: every case of a snapshot is scored against
one output, and each ends ``passed``, ``failed``, ``error`` or — an
``llm_judge`` case whose judgements could not decide — ``inconclusive``.

Deterministic scorers are pure and fast, so they run inline, one after another, compiled
once per snapshot (runs/cache.py); the cases that wait (judge calls, threaded searches)
run concurrently. A regex that runs on RE2 (linear-time: it cannot backtrack) runs inline
too; any other regex search runs in a thread, where its time limit bounds the CPU it may
take without stalling the event loop. The regex and JSON-schema engines themselves are
imported in a thread by the first run that needs them (scorers/builtin/engines.py).
``llm_judge`` cases go to the ``Judge`` the worker passes in (runs/judging.py); without one
(a request that is not on the worker's code path) they end in error.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Coroutine
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol, TypeVar, cast

import structlog

from launchgate.billing.costs import run_cost
from launchgate.kit.time import utcnow
from launchgate.observability import tracing
from launchgate.runs.cache import compiled_cases
from launchgate.runs.verdict import CaseRule, CaseStatus, RunOutcome, case_status, run_outcome
from launchgate.scorers.builtin import ScoreResult, engines
from launchgate.scorers.builtin.compiled import CompiledScorer
from launchgate.scorers.builtin.sampling import Decision

if TYPE_CHECKING:
    from launchgate.config import Settings

JUDGE_UNAVAILABLE = "llm_judge cases are scored on the worker only"
# The reason of a case whose scoring raised something we did not expect. Generic on
# purpose: an exception's text may quote a header, a key or a URL; the log has its type.
SCORING_FAILED = "Internal error while scoring this case; the server log has its type"

log = structlog.get_logger(__name__)
T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class Judged:
    """One judged case: its result, the details recorded as the case's ``judge``, and —
    when judgements were made — the sampling decision that sets its status. ``usage`` and
    ``cost_usd`` are what its judge calls cost (docs/cost.md); ``error_code`` names an
    error the API reports by code (``JUDGE_BUDGET_EXCEEDED``)."""

    result: ScoreResult
    details: dict[str, Any] = field(default_factory=dict)
    decision: Decision | None = None
    usage: dict[str, Any] | None = None
    cost_usd: float | None = None
    error_code: str | None = None


class Judge(Protocol):
    """Scores one ``llm_judge`` case; the threshold tells adaptive sampling when to stop."""

    async def __call__(
        self,
        config: dict[str, Any],
        output: str,
        run_input: dict[str, Any],
        expected: Any,
        threshold: float,
    ) -> Judged: ...


@dataclass(frozen=True)
class EngineOptions:
    regex_timeout_s: float

    @classmethod
    def of(cls, settings: Settings) -> EngineOptions:
        return cls(regex_timeout_s=settings.regex_timeout_ms / 1000)


def needs_judge(snapshot: dict[str, Any]) -> bool:
    """A run with judge cases needs a provider key, so it is scored on the worker (SPEC §12)."""
    return any(case["scorer"]["type"] == "llm_judge" for case in snapshot["cases"])


def merged_input(case_input: dict[str, Any], run_input: dict[str, Any]) -> dict[str, Any]:
    """SPEC §5.2: the run's input is merged over the case's; the run wins."""
    return {**case_input, **run_input} if run_input else dict(case_input)


async def _score_case(
    case: dict[str, Any],
    compiled: CompiledScorer | None,
    output: str,
    run_input: dict[str, Any],
    options: EngineOptions,
    judge: Judge | None,
) -> dict[str, Any]:
    """The case's score entry. Whatever goes wrong inside ends this case in ``error``,
    never the run: a run that raised here would stay ``running`` for ever."""
    started = time.perf_counter()
    with _case_span(case):
        try:
            return await _scored(case, compiled, output, run_input, options, judge, started)
        except Exception as exc:
            return _failed(case, exc, started)


# With tracing off (the default), no span: entering the generator of ``tracing.span`` five
# times per run was about 7% of a deterministic run's CPU (issue 17).
_UNTRACED = contextlib.nullcontext()


def _case_span(case: dict[str, Any]) -> contextlib.AbstractContextManager[Any]:
    if not tracing.active():
        return _UNTRACED
    return tracing.case_span(str(case["id"]), case["scorer"]["type"])


# Scoring on the event loop holds it: about 1 ms per case for each MiB of output (a
# case-insensitive `contains` folds the whole output), and neither a suite's cases (no
# limit) nor an output (up to 1 MiB) is small by rule. Up to this many output characters
# times cases (a few ms of CPU) the cases that wait on nothing are scored inline; past it,
# in a thread.
INLINE_WORK = 4 * 1024 * 1024


def _score_all_now(
    cases: list[dict[str, Any]],
    compiled: tuple[CompiledScorer | None, ...],
    output: str,
    options: EngineOptions,
    judge: Judge | None,
) -> list[dict[str, Any] | None]:
    return [
        _score_now(case, scorer, output, options, judge)
        for case, scorer in zip(cases, compiled, strict=True)
    ]


def _score_now(
    case: dict[str, Any],
    compiled: CompiledScorer | None,
    output: str,
    options: EngineOptions,
    judge: Judge | None,
) -> dict[str, Any] | None:
    """``_score_case`` without a coroutine, for a case that waits on nothing (no judge
    call, no search in a thread); None for a case that does, which ``_score_case`` then
    scores. Most runs are all deterministic cases, and a task each cost about 4% of such
    a run's CPU (issue 17)."""
    started = time.perf_counter()
    with _case_span(case):
        try:
            scorer = case["scorer"]
            if scorer["type"] == "llm_judge" and judge is not None:
                return None
            result = _result_inline(scorer, compiled, output, options)
            if result is None:
                return None
            return _entry(case, result, None, started)
        except Exception as exc:
            return _failed(case, exc, started)


def _failed(case: dict[str, Any], exc: Exception, started: float) -> dict[str, Any]:
    log.error("scoring a case failed", case_id=case.get("id"), error_type=type(exc).__name__)
    return failed_entry(case, SCORING_FAILED, started)


def failed_entry(case: dict[str, Any], reason: str, started: float | None = None) -> dict[str, Any]:
    """A case ended in ``error`` without a score, built from the snapshot alone."""
    elapsed = 0.0 if started is None else (time.perf_counter() - started) * 1000
    return {
        "case": case["name"],
        "case_id": case["id"],
        "passed": False,
        "score": 0.0,
        "threshold": case["threshold"],
        "weight": case["weight"],
        "reason": reason,
        "status": "error",
        "duration_ms": round(elapsed, 3),
        "scorer_type": case["scorer"]["type"],
    }


async def _scored(
    case: dict[str, Any],
    compiled: CompiledScorer | None,
    output: str,
    run_input: dict[str, Any],
    options: EngineOptions,
    judge: Judge | None,
    started: float,
) -> dict[str, Any]:
    scorer = case["scorer"]
    judged: Judged | None = None
    if scorer["type"] == "llm_judge" and judge is not None:
        judged = await judge(
            scorer["config"],
            output,
            merged_input(case["input"], run_input),
            case["expected"],
            case["threshold"],
        )
        result = judged.result
    else:
        result = await _result(scorer, compiled, output, options)
    return _entry(case, result, judged, started)


def _entry(
    case: dict[str, Any], result: ScoreResult, judged: Judged | None, started: float
) -> dict[str, Any]:
    scorer = case["scorer"]
    duration_ms = round((time.perf_counter() - started) * 1000, 3)
    rule = CaseRule(
        threshold=case["threshold"],
        dual_sided=scorer["dual_sided"],
        precision_threshold=scorer["precision_threshold"],
        recall_threshold=scorer["recall_threshold"],
    )
    decision = judged.decision if judged is not None and not result.error else None
    status: CaseStatus = case_status(
        rule, result.score, error=result.error, precision=result.precision, recall=result.recall
    )
    if decision is not None and decision.status != "continue":
        status = decision.status
    entry: dict[str, Any] = {
        "case": case["name"],
        "case_id": case["id"],
        "passed": status == "passed",
        "score": round(result.score, 4),
        "threshold": case["threshold"],
        "weight": case["weight"],
        "reason": result.reason,
        "status": status,
        "duration_ms": duration_ms,
        "scorer_type": scorer["type"],
    }
    if result.precision is not None:
        entry["precision"] = round(result.precision, 4)
        entry["recall"] = round(result.recall or 0.0, 4)
    if decision is not None:
        entry["sampling"] = sampling_entry(decision)
    if judged is not None:
        entry["judge"] = judged.details
        if judged.usage is not None:
            entry["usage"] = judged.usage
            entry["cost_usd"] = judged.cost_usd
        if judged.error_code is not None and result.error:
            entry["error"] = {"code": judged.error_code, "message": result.reason}
    return entry


def sampling_entry(decision: Decision) -> dict[str, Any]:
    """What a judged case records of its sampling (docs/sampling.md): every score, their
    mean, the interval at the stated confidence and why the judging stopped."""
    lo, hi = decision.interval
    return {
        "samples": list(decision.scores),
        "mean": round(decision.mean, 4),
        "interval": [round(lo, 4), round(hi, 4)],
        "confidence": decision.confidence,
        "stopped": decision.stopped,
    }


async def _result(
    scorer: dict[str, Any], compiled: CompiledScorer | None, output: str, options: EngineOptions
) -> ScoreResult:
    result = _result_inline(scorer, compiled, output, options)
    if result is not None:
        return result
    assert compiled is not None  # _result_inline answers for a missing one
    try:
        return await asyncio.to_thread(
            compiled.score, output, regex_timeout_s=options.regex_timeout_s
        )
    except Exception as exc:  # a scorer bug must end one case, not the whole run
        return _scorer_failed(exc)


def _result_inline(
    scorer: dict[str, Any], compiled: CompiledScorer | None, output: str, options: EngineOptions
) -> ScoreResult | None:
    """The result of a case scored on the event loop, or None when its search must run in
    a thread (a backtracking regex)."""
    if scorer["type"] == "llm_judge" or compiled is None:
        return ScoreResult(score=0.0, reason=JUDGE_UNAVAILABLE, error=True)
    try:
        if compiled.in_thread(output):
            return None
        return compiled.score(output, regex_timeout_s=options.regex_timeout_s)
    except Exception as exc:  # a scorer bug must end one case, not the whole run
        return _scorer_failed(exc)


def _scorer_failed(exc: Exception) -> ScoreResult:
    return ScoreResult(score=0.0, reason=f"Scorer failed: {type(exc).__name__}", error=True)


async def execute(
    snapshot: dict[str, Any],
    output: str,
    run_input: dict[str, Any],
    options: EngineOptions,
    judge: Judge | None = None,
) -> tuple[list[dict[str, Any]], RunOutcome]:
    cases = snapshot["cases"]
    pending = engines.needed(case["scorer"]["type"] for case in cases)
    if pending:  # the process's first regex or JSON-schema case: imported off the loop
        try:
            await asyncio.to_thread(engines.load, pending)
        except Exception as exc:
            # A broken install: compiling the cases meets the same error and ends each
            # case that needs the engine in error, as it always did.
            log.error("could not load a scoring engine", error_type=type(exc).__name__)
    compiled = compiled_cases(snapshot)
    if len(output) * len(cases) <= INLINE_WORK:
        entries = _score_all_now(cases, compiled, output, options, judge)
    else:  # a long output times many cases: the loop keeps serving meanwhile
        entries = await asyncio.to_thread(_score_all_now, cases, compiled, output, options, judge)
    waiting = [i for i, entry in enumerate(entries) if entry is None]
    if waiting:  # judge calls and threaded searches, concurrently
        done = await started_in_turn(
            [_score_case(cases[i], compiled[i], output, run_input, options, judge) for i in waiting]
        )
        for i, entry in zip(waiting, done, strict=True):
            entries[i] = entry
    scores = cast("list[dict[str, Any]]", entries)
    return scores, outcome_of(scores, snapshot)


async def started_in_turn(coros: list[Coroutine[Any, Any, T]]) -> list[T]:
    """Await all of ``coros`` concurrently, each started once the one before has reached
    its first wait. aiohttp writes a request from a task of its own, which Python 3.11
    queues behind everything already ready: started together, 20 judge cases each built
    and sent their request before the first one was written (about 7 ms on our machines,
    bench/RESULTS.md); started in turn, each call is on the wire before the next is built.
    """
    if len(coros) == 1:
        return [await coros[0]]
    tasks: list[asyncio.Future[T]] = []
    try:
        for coro in coros:
            tasks.append(asyncio.ensure_future(coro))
            await asyncio.sleep(0)
    except BaseException:  # cancelled while starting them: none is left behind
        for task in tasks:
            task.cancel()
        for coro in coros[len(tasks) :]:
            coro.close()
        raise
    return list(await asyncio.gather(*tasks))


def outcome_of(scores: list[dict[str, Any]], snapshot: dict[str, Any]) -> RunOutcome:
    suite = snapshot["suite"]
    return run_outcome(
        [(s["status"], s["weight"]) for s in scores],
        suite["pass_threshold"],
        # Snapshots taken before issue 13 have no setting: the default.
        suite.get("on_inconclusive", "inconclusive"),
    )


def completion(scores: list[dict[str, Any]], result: RunOutcome, started: float) -> dict[str, Any]:
    """The column values that complete a run (all but ``started_at``)."""
    return {
        "status": result.status,
        "scores": scores,
        "pass_rate": result.pass_rate,
        "total_cases": result.total_cases,
        "passed_cases": result.passed_cases,
        "failed_cases": result.failed_cases,
        "error_cases": result.error_cases,
        "inconclusive_cases": result.inconclusive_cases,
        "verdict_detail": result.verdict_detail,
        "cost_usd": run_cost(scores),
        # Fractional milliseconds, like each case's: a deterministic run takes well under one.
        "duration_ms": round((time.perf_counter() - started) * 1000, 2),
        "completed_at": utcnow(),
    }


async def score_run(
    snapshot: dict[str, Any],
    output: str,
    run_input: dict[str, Any],
    options: EngineOptions,
    judge: Judge | None = None,
) -> dict[str, Any]:
    """Score every case and return the run's completion values."""
    started = time.perf_counter()
    scores, result = await execute(snapshot, output, run_input, options, judge)
    return completion(scores, result, started)


def failed_run(snapshot: dict[str, Any], reason: str, started: float) -> dict[str, Any]:
    """Completion values for a run that could not be scored or stored: every case ends in
    ``error`` with ``reason``, so the run is final (``error``) and never billed."""
    scores = [failed_entry(case, reason) for case in snapshot["cases"]]
    return completion(scores, outcome_of(scores, snapshot), started)
