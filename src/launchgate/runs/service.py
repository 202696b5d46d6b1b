"""Making runs: resolve the suite, freeze it into a snapshot, score (now, or on the
worker), record the verdict once, count usage."""

from __future__ import annotations

import contextlib
import time
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy.ext.asyncio import AsyncSession

from launchgate.billing import service as billing
from launchgate.byok import service as byok
from launchgate.db import after_commit, unit_of_work
from launchgate.errors import NotFound, ServiceUnavailable, ValidationFailed
from launchgate.kit.auth_context import AuthContext
from launchgate.kit.ids import is_run_id, new_run_id
from launchgate.kit.time import utcnow
from launchgate.models import Run
from launchgate.orgs import service as orgs
from launchgate.runs import engine, repository, snapshot
from launchgate.runs.cache import PreparedSuite
from launchgate.runs.judging import RunJudge
from launchgate.runs.schemas import RunRequest
from launchgate.runs.verdict import Verdict
from launchgate.scorers import service as scorers
from launchgate.suites import service as suites
from launchgate.suites.cases import service as suite_cases

if TYPE_CHECKING:
    from launchgate.deps import Runtime
    from launchgate.worker import Worker

FINAL = ("cleared", "aborted", "error")


class RunTimedOut(ServiceUnavailable):
    """A synchronous run outlived ``LAUNCHGATE_SYNC_RUN_TIMEOUT_S``; it goes on, async."""

    def __init__(self, run_id: str, timeout_s: float) -> None:
        super().__init__(
            f"Run {run_id} did not finish within {timeout_s:g} s; it goes on: poll "
            f"GET /v1/runs/{run_id}", {"run_id": run_id})


def options(runtime: Runtime) -> engine.EngineOptions:
    return engine.EngineOptions(regex_timeout_s=runtime.settings.regex_timeout_ms / 1000)


async def _prepared_suite(
    session: AsyncSession, runtime: Runtime, auth: AuthContext, body: RunRequest
) -> PreparedSuite:
    """Usage check, then the suite snapshot: from the cache while the organisation's
    config version stands, else read (suite, active cases, their scorers) and cached."""
    facts = await orgs.get_facts(session, auth.org_id, runtime.facts_cache)
    await billing.check_can_run(session, auth.org_id, facts.plan)
    key = (auth.org_id, body.project, body.suite)
    prepared = runtime.snapshots.get(key, facts.config_version)
    if prepared is not None:
        return prepared
    suite = await suites.resolve_for_run(session, auth, body.suite, body.project)
    cases = await suite_cases.active_cases(session, suite)
    found = await scorers.scorers_by_id(session, auth.org_id, {c.scorer_id for c in cases})
    # A case whose scorer was deleted cannot be scored; leave it out as a deleted case.
    cases = [c for c in cases if c.scorer_id in found]
    if not cases:
        raise ValidationFailed(f"Suite '{suite.slug}' has no active cases to run")
    prepared = PreparedSuite(suite.id, suite.project_id, snapshot.take(suite, cases, found))
    runtime.snapshots.put(key, facts.config_version, prepared)
    return prepared


def _pending(auth: AuthContext, body: RunRequest, prepared: PreparedSuite) -> dict[str, Any]:
    """The column values of a new, not yet scored run."""
    return {
        "id": new_run_id(), "org_id": auth.org_id, "project_id": prepared.project_id,
        "suite_id": prepared.suite_id, "api_key_id": auth.api_key_id, "status": "pending",
        "trigger": body.trigger, "trigger_meta": body.trigger_meta, "output": body.output,
        "input": body.input, "snapshot": prepared.snapshot, "billable": auth.billable,
        "total_cases": len(prepared.snapshot["cases"]), "passed_cases": 0, "failed_cases": 0,
        "error_cases": 0, "scores": None, "pass_rate": None, "duration_ms": None,
        "created_at": utcnow(), "started_at": None, "completed_at": None,
        "lease_expires_at": None,
    }


def _completion(scores: list[dict[str, Any]], result: Verdict, started: float) -> dict[str, Any]:
    return {
        "status": result.status, "scores": scores, "pass_rate": result.pass_rate,
        "total_cases": result.total_cases, "passed_cases": result.passed_cases,
        "failed_cases": result.failed_cases, "error_cases": result.error_cases,
        # Fractional milliseconds, like each case's: a deterministic run takes well under one.
        "duration_ms": round((time.perf_counter() - started) * 1000, 2),
        "completed_at": utcnow(),
    }


async def _score(
    runtime: Runtime, snap: dict[str, Any], output: str, run_input: dict[str, Any],
    judge: engine.Judge | None = None,
) -> dict[str, Any]:
    started = time.perf_counter()
    scores, result = await engine.execute(snap, output, run_input, options(runtime), judge)
    return _completion(scores, result, started)


def _needs_worker(snapshot: dict[str, Any]) -> bool:
    """A run with judge cases needs a provider key, so it is scored on the worker (SPEC §12)."""
    return any(case["scorer"]["type"] == "llm_judge" for case in snapshot["cases"])


async def _run_on_worker(runtime: Runtime, values: dict[str, Any]) -> Run:
    """Store the pending run (committed, so the worker finds it), have the worker execute
    it, and read back the finished run: the request waits, the key stays worker-side."""
    worker = runtime.worker
    if worker is None:
        raise RuntimeError("no worker is running")
    await worker.check_available()
    async with unit_of_work(runtime.sessions) as own:
        repository.add(own, Run(**values))
    timeout_s = runtime.settings.sync_run_timeout_s
    if worker.in_process:
        try:
            done = await worker.call("run.execute", timeout_s, run_id=values["id"])
        except TimeoutError:
            raise RunTimedOut(values["id"], timeout_s) from None
        if isinstance(done, dict):  # completed by this call: its values, no read back
            return Run(**{**values, **done})
        final = await _read_final(runtime, values["id"])
        if final is None:
            raise RunTimedOut(values["id"], timeout_s)
        return final
    task = await worker.submit("run.execute", run_id=values["id"])
    deadline = time.monotonic() + timeout_s
    while True:
        # The job's result, or the run row: when the worker that took the job died, the
        # sweep has another worker finish the run, under another job.
        finished, done = await worker.result(task, min(2.0, max(0.0, deadline - time.monotonic())))
        if finished and isinstance(done, dict):
            return Run(**{**values, **done})
        run = await _read_final(runtime, values["id"])
        if run is not None:
            return run
        if time.monotonic() >= deadline:
            raise RunTimedOut(values["id"], timeout_s)


async def _read_final(runtime: Runtime, run_id: str) -> Run | None:
    """The run if it is final now, else None."""
    async with unit_of_work(runtime.sessions) as own:
        run = await repository.get_any(own, run_id)
    return run if run is not None and run.status in FINAL else None


async def run_sync(
    session: AsyncSession, runtime: Runtime, auth: AuthContext, body: RunRequest
) -> Run:
    """Score now; the run is committed (by the group-commit writer, or by the worker for
    judge suites) before this returns."""
    prepared = await _prepared_suite(session, runtime, auth, body)
    if _needs_worker(prepared.snapshot):
        return await _run_on_worker(runtime, _pending(auth, body, prepared))
    values = _pending(auth, body, prepared)
    values["started_at"] = utcnow()
    values.update(await _score(runtime, values["snapshot"], body.output, body.input))
    if runtime.run_writer is None:
        raise RuntimeError("the run writer is not running")
    await runtime.run_writer.write(values)
    return Run(**values)


async def run_async(
    session: AsyncSession, runtime: Runtime, auth: AuthContext, body: RunRequest
) -> Run:
    prepared = await _prepared_suite(session, runtime, auth, body)
    worker = runtime.worker
    if worker is None:
        raise RuntimeError("no worker is running")
    await worker.check_available()
    run = repository.add(session, Run(**_pending(auth, body, prepared)))
    await session.flush()
    after_commit(session, lambda: _send(worker, run.id))
    return run


async def _send(worker: Worker, run_id: str) -> None:
    """After the commit: the run is accepted. If the queue went down in between, the
    run stays pending and the workers' sweep sends it later; nothing is lost."""
    with contextlib.suppress(ServiceUnavailable):
        await worker.enqueue("run.execute", run_id=run_id)


async def start_pending(session: AsyncSession, run_id: str, lease_s: float = 60.0) -> bool:
    """Worker side: claim an open run, ``running`` (SPEC §5.7) and held by this worker for
    ``lease_s``; False when it is final, unknown, or held by a worker that is alive. The
    job commits this before scoring, so pollers see the run move, and renews the lease
    while it scores."""
    now = utcnow()
    return await repository.claim(session, run_id, now, now + timedelta(seconds=lease_s))


async def renew_lease(session: AsyncSession, run_id: str, lease_s: float) -> bool:
    return await repository.renew_lease(session, run_id,
                                        utcnow() + timedelta(seconds=lease_s))


async def release_leases(session: AsyncSession) -> int:
    return await repository.release_leases(session)


async def stale_runs(session: AsyncSession, requeue_pending_after_s: float) -> list[str]:
    """Runs to send to the workers again: no worker holds them (see the repository)."""
    now = utcnow()
    return await repository.stale_run_ids(
        session, now, now - timedelta(seconds=requeue_pending_after_s))


async def execute_pending(
    session: AsyncSession, runtime: Runtime, run_id: str
) -> dict[str, Any] | None:
    """Worker side: the completed run's new column values, or None when another delivery
    finished it. Idempotent: a run already final is left alone; completion is a
    conditional update, so a duplicate delivery neither re-scores nor double-bills.

    Nothing is written before scoring ends: on SQLite a write would hold the database's
    one write lock for as long as the scoring takes (an LLM judge: seconds)."""
    run = await repository.get_any(session, run_id)
    if run is None or run.status in FINAL:
        return None
    started_at = utcnow()
    judge = (await RunJudge.prepare(session, runtime, run.org_id, run.snapshot, run.output,
                                    run.input)
             if _needs_worker(run.snapshot) else None)
    values = await _score(runtime, run.snapshot, run.output, run.input, judge)
    stored_start = await repository.complete(session, run_id, values, started_at)
    if stored_start is None:
        return None
    values["started_at"] = stored_start
    if judge is not None:
        await byok.record_key_use(session, run.org_id, used=judge.used, refused=judge.refused)
        await repository.store_verdicts(session, run.org_id, judge.fresh, utcnow())
    if billing.is_billed(values["status"], run.billable):
        await billing.record_run(session, run.org_id, run.created_at)
    return values


async def get_run(session: AsyncSession, auth: AuthContext, run_id: str) -> Run:
    run = await repository.get(session, auth.org_id, run_id) if is_run_id(run_id) else None
    if run is None:
        raise NotFound.of("Run", run_id)
    return run


async def list_runs(
    session: AsyncSession, auth: AuthContext, suite_id: Any, status: str | None,
    offset: int, limit: int,
) -> tuple[list[Run], int]:
    suite = await suites.get_suite_by_id(session, auth, suite_id)
    return await repository.list_page(session, suite.id, status, offset, limit)


async def open_runs(session: AsyncSession) -> list[str]:
    return await repository.open_run_ids(session)
