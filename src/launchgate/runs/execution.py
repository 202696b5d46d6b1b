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

import time
from datetime import timedelta
from typing import TYPE_CHECKING, Any

import structlog
from sqlalchemy.ext.asyncio import AsyncSession

from launchgate.billing import service as billing
from launchgate.byok import service as byok
from launchgate.db import unit_of_work
from launchgate.kit.time import utcnow
from launchgate.models import Run
from launchgate.runs import engine, repository
from launchgate.runs.judging import RunJudge

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


async def execute_pending(runtime: WorkerRuntime, run_id: str) -> dict[str, Any] | None:
    """The completed run's new column values, or None when another delivery finished it.
    Idempotent: a run already final is left alone; completion is a conditional update, so
    a duplicate delivery neither re-scores nor double-bills. Never raises for a failure of
    the run's own: the run then ends ``error``."""
    started = time.perf_counter()
    try:
        return await _execute(runtime, run_id, started)
    except Exception as exc:  # the type only: a database error's text can quote the row
        log.error("run failed; it ends in error", run_id=run_id, error_type=type(exc).__name__)
        return await _end_in_error(runtime, run_id, started)


async def _execute(runtime: WorkerRuntime, run_id: str, started: float) -> dict[str, Any] | None:
    async with unit_of_work(runtime.sessions) as session:
        run = await repository.get_any(session, run_id)
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
    if judge is not None:
        await byok.record_key_use(session, run.org_id, used=judge.used, refused=judge.refused)
        await repository.store_verdicts(session, run.org_id, judge.fresh, utcnow())
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
            return values
    except Exception as exc:
        log.error("could not end a failed run", run_id=run_id, error_type=type(exc).__name__)
        return None
