"""Runs, worker side: claim a run, score it, complete it — the code path of the
``run.execute`` job, the only one of runs that reaches the judge and so BYOK keys.

No session (and so no pooled connection) is held while the judge waits on a provider:
a run is read, with its keys and cached verdicts, in one short unit of work; it is scored
with no session open; its completion is written in another. A run always reaches a
final status: a case whose scoring raised ends in ``error`` (runs/engine.py), and a run
that could not be read, scored or completed ends ``error`` in a fresh unit of work.

The request side (runs/service.py) never imports this module: it sends the job by name.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING, Any

import structlog
from sqlalchemy.ext.asyncio import AsyncSession

from launchgate.billing import service as billing
from launchgate.byok import service as byok
from launchgate.db import unit_of_work
from launchgate.kit.time import utcnow
from launchgate.models import Run
from launchgate.observability import metrics, tracing
from launchgate.runs import engine, repository
from launchgate.runs.judging import RunJudge, open_budget, resolve_keys

if TYPE_CHECKING:
    from launchgate.runtime import WorkerRuntime

log = structlog.get_logger(__name__)

# The reason every case of a run that failed as a whole carries. Generic: the error's text
# may quote a value of the row or a key; the log has its type.
RUN_FAILED = "Internal error: this run could not be completed; the server log has its type"


async def start_pending(session: AsyncSession, run_id: str, lease_s: float = 60.0) -> bool:
    """Claim an open run, ``running`` (SPEC §5.7) and held by this worker for ``lease_s``;
    False when it is final, unknown, or held by a worker that is alive. The job commits
    this before scoring, so pollers see the run move, and renews the lease while it
    scores."""
    now = utcnow()
    return await repository.claim(session, run_id, now, now + timedelta(seconds=lease_s))


async def renew_lease(session: AsyncSession, run_id: str, lease_s: float) -> bool:
    return await repository.renew_lease(session, run_id, utcnow() + timedelta(seconds=lease_s))


async def stale_runs(session: AsyncSession, requeue_pending_after_s: float) -> list[str]:
    """Runs to send to the workers again: no worker holds them (see the repository)."""
    now = utcnow()
    return await repository.stale_run_ids(
        session, now, now - timedelta(seconds=requeue_pending_after_s)
    )


async def open_in_batch(session: AsyncSession, batch_id: str) -> list[str]:
    """The items of a batch still to score, in item order."""
    return await repository.open_in_batch(session, batch_id)


async def execute_pending(
    runtime: WorkerRuntime, run_id: str, held: dict[str, Any] | None = None
) -> dict[str, Any] | None:
    """The completed run's new column values, or None when another delivery finished it.
    Idempotent: a run already final is left alone; completion is a conditional update, so
    a duplicate delivery neither re-scores nor double-bills. Never raises for a failure of
    the run's own: the run then ends ``error``. ``held``: the run's values as stored by
    this process, which holds it (not read back)."""
    started = time.perf_counter()
    try:
        return await _execute(runtime, run_id, started, held)
    except Exception as exc:  # the type only: a database error's text can quote the row
        log.error("run failed; it ends in error", run_id=run_id, error_type=type(exc).__name__)
        return await _end_in_error(runtime, run_id, started)


async def _execute(
    runtime: WorkerRuntime, run_id: str, started: float, held: dict[str, Any] | None
) -> dict[str, Any] | None:
    async with unit_of_work(runtime.sessions) as session:
        run = Run(**held) if held is not None else await repository.get_any(session, run_id)
        if run is None or run.status in repository.FINAL:
            return None
        judge = (
            await RunJudge.prepare(
                session, runtime, run.org_id, run.snapshot, run.output, run.input
            )
            if engine.needs_judge(run.snapshot)
            else None
        )
    # No session from here to the completion: the judge waits on providers for seconds,
    # and a pooled connection held meanwhile is one a request or another job waits for.
    # Nothing is written before scoring ends either: on SQLite a write would hold the
    # database's one write lock for as long as the scoring takes.
    started_at = utcnow()
    with tracing.run_span(run.id, str(run.suite_id), run.trigger):
        values = await engine.score_run(
            run.snapshot, run.output, run.input, engine.EngineOptions.of(runtime.settings), judge
        )
    async with unit_of_work(runtime.sessions) as session:
        return await _complete(session, run, values, started_at, judge)


async def _complete(
    session: AsyncSession,
    run: Run,
    values: dict[str, Any],
    started_at: Any,
    judge: RunJudge | None,
) -> dict[str, Any] | None:
    stored_start = await repository.complete(session, run.id, values, started_at)
    if stored_start is None:
        return None
    values["started_at"] = stored_start
    metrics.run_scored(values, run.trigger)
    if judge is not None:
        await byok.record_key_use(session, run.org_id, used=judge.used, refused=judge.refused)
        await repository.store_verdicts(session, run.org_id, judge.fresh, utcnow())
    # The judge calls were paid whatever the run's status or key: the month's spend counts
    # them once, with the completion that stores them.
    await billing.record_spend(session, run.org_id, values["completed_at"], values["scores"])
    if billing.is_billed(values["status"], run.billable):
        await billing.record_run(session, run.org_id, run.created_at)
    return values


async def _end_in_error(
    runtime: WorkerRuntime, run_id: str, started: float
) -> dict[str, Any] | None:
    """In a fresh unit of work, complete the run with every case in ``error``. If even that
    fails (the database is down), the run keeps its lease, which lapses: the sweep (or the
    next start of an embedded server) sends it again."""
    try:
        async with unit_of_work(runtime.sessions) as session:
            run = await repository.get_any(session, run_id)
            if run is None or run.status in repository.FINAL:
                return None
            values = engine.failed_run(run.snapshot, RUN_FAILED, started)
            stored_start = await repository.complete(session, run_id, values, utcnow())
            if stored_start is None:
                return None
            values["started_at"] = stored_start
            metrics.run_scored(values, run.trigger)
            return values
    except Exception as exc:
        log.error("could not end a failed run", run_id=run_id, error_type=type(exc).__name__)
        return None


# --- a batch's items, all in one job (the embedded mode) --------------------------------
# One item at a time through ``execute_pending`` costs each item three transactions of its
# own (claim, read, complete), each a commit on the database's one write lock; at 100
# judged items that was most of the server's time and left judge slots idle between
# waves (bench/batch_throughput.py). Here the batch's items are claimed in one statement,
# read with their keys and cached verdicts in one unit of work, scored concurrently, and
# completed in groups — each item still exactly once (the completion stays conditional).

COMPLETION_GROUP = 64


@dataclass
class _Done:
    run: Run
    values: dict[str, Any]
    started_at: Any
    started: float
    judge: RunJudge | None


async def execute_batch(runtime: WorkerRuntime, batch_id: str) -> int:
    """Score every open item of a batch; the number of items this job claimed. Items
    another job holds are left to it; what this job cannot finish keeps a lease that
    lapses, so a restarted server (or the sweep) takes it up again."""
    settings = runtime.settings
    now = utcnow()
    lease_until = now + timedelta(seconds=settings.run_lease_s)
    async with unit_of_work(runtime.sessions) as session:
        claimed = await repository.claim_batch(session, batch_id, now, lease_until)
        runs = await repository.runs_by_id(session, claimed)
        judges = await _batch_judges(session, runtime, runs)
    if not runs:
        return 0
    renewal = asyncio.create_task(_renew_batch(runtime, [run.id for run in runs]))
    done: asyncio.Queue[_Done | None] = asyncio.Queue()
    writer = asyncio.create_task(_write_completions(runtime, done))
    slots = asyncio.Semaphore(settings.batch_concurrency)
    options = engine.EngineOptions.of(settings)

    async def one(run: Run) -> None:
        async with slots:
            started = time.perf_counter()
            started_at = utcnow()
            judge = judges.get(run.id)
            try:
                values = await engine.score_run(run.snapshot, run.output, run.input, options, judge)
            except Exception as exc:  # the engine ends cases in error; this is a last resort
                log.error("batch item failed", run_id=run.id, error_type=type(exc).__name__)
                values = engine.failed_run(run.snapshot, RUN_FAILED, started)
            await done.put(_Done(run, values, started_at, started, judge))

    try:
        await asyncio.gather(*(one(run) for run in runs))
    finally:
        await done.put(None)
        await writer
        renewal.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await renewal
    return len(runs)


async def _batch_judges(
    session: AsyncSession, runtime: WorkerRuntime, runs: list[Run]
) -> dict[str, RunJudge]:
    """A judge per item, sharing one read of the keys (the items share a snapshot and an
    organisation) and one query for every item's cached verdicts."""
    judged = [run for run in runs if engine.needs_judge(run.snapshot)]
    if not judged:
        return {}
    first = judged[0]
    keys = await resolve_keys(session, first.org_id, first.snapshot)
    budget = await open_budget(session, runtime, first.org_id)
    judges = {run.id: RunJudge(runtime, run.org_id, keys, budget) for run in judged}
    wanted = {
        key
        for run in judged
        for key in judges[run.id].cache_keys(run.snapshot, run.output, run.input)
    }
    if wanted:
        cached = await repository.cached_verdicts(session, first.org_id, wanted, utcnow())
        for judge in judges.values():
            judge.cached = cached
    return judges


async def _renew_batch(runtime: WorkerRuntime, run_ids: list[str]) -> None:
    lease_s = runtime.settings.run_lease_s
    while True:
        await asyncio.sleep(lease_s / 3)
        try:
            async with unit_of_work(runtime.sessions) as session:
                await repository.renew_leases(
                    session, run_ids, utcnow() + timedelta(seconds=lease_s)
                )
        except Exception as exc:  # the next renewal may succeed; the lease has slack
            log.warning("batch lease renewal failed", error_type=type(exc).__name__)


async def _write_completions(runtime: WorkerRuntime, done: asyncio.Queue[_Done | None]) -> None:
    """Complete scored items in groups: whatever has finished when the last group was
    written goes in the next transaction, up to ``COMPLETION_GROUP``."""
    finished = False
    while not finished:
        first = await done.get()
        if first is None:
            return
        group = [first]
        while len(group) < COMPLETION_GROUP and not done.empty():
            item = done.get_nowait()
            if item is None:
                finished = True
                break
            group.append(item)
        await _complete_group(runtime, group)


async def _complete_group(runtime: WorkerRuntime, group: list[_Done]) -> None:
    try:
        async with unit_of_work(runtime.sessions) as session:
            for item in group:
                await _complete(session, item.run, item.values, item.started_at, item.judge)
        return
    except Exception as exc:  # the type only: a database error's text can quote the row
        log.warning("a group of completions failed; one by one", error_type=type(exc).__name__)
    for item in group:  # one bad item must not take the others with it
        try:
            async with unit_of_work(runtime.sessions) as session:
                await _complete(session, item.run, item.values, item.started_at, item.judge)
        except Exception as exc:
            log.error(
                "batch item failed; it ends in error",
                run_id=item.run.id,
                error_type=type(exc).__name__,
            )
            await _end_in_error(runtime, item.run.id, item.started)
