"""Run jobs, worker side. Thin: open a unit of work, call runs/execution.py."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from typing import TYPE_CHECKING, Any

import structlog

from launchgate.db import unit_of_work
from launchgate.kit.jobs import job
from launchgate.runs import execution

if TYPE_CHECKING:
    from launchgate.runtime import WorkerRuntime

log = structlog.get_logger(__name__)


@job("run.execute")
async def execute_run(
    runtime: WorkerRuntime, run_id: str, held: dict[str, Any] | None = None
) -> dict[str, Any] | None:
    """The completed run's values (for a synchronous request waiting on it), or None when
    the run was already final, is held by another live worker, or another delivery
    finished it. ``held``: the run's values as this process stored them, already
    ``running`` under its lease (a synchronous run handed over in process,
    runs/service.py): neither claimed nor read back."""
    lease_s = runtime.settings.run_lease_s
    if held is None:
        # Two units of work: ``running`` is committed (and visible to pollers) before
        # scoring. A worker that dies in between leaves a run whose lease lapses; it is
        # claimed again and finishes once.
        async with unit_of_work(runtime.sessions) as session:
            if not await execution.start_pending(session, run_id, lease_s):
                return None
    # execute_pending opens its own short units of work: none is held while judging.
    async with _renewing(runtime, run_id, lease_s):
        return await execution.execute_pending(runtime, run_id, held)


@contextlib.asynccontextmanager
async def _renewing(runtime: WorkerRuntime, run_id: str, lease_s: float) -> AsyncIterator[None]:
    """Renew the run's lease every third of it while the body runs, so a long judge run
    keeps its worker and a dead worker's run comes free within one lease."""

    async def renew() -> None:
        while True:
            await asyncio.sleep(lease_s / 3)
            try:
                async with unit_of_work(runtime.sessions) as session:
                    await execution.renew_lease(session, run_id, lease_s)
            except Exception as exc:  # the next renewal may succeed; the lease has slack
                log.warning("lease renewal failed", run_id=run_id, error_type=type(exc).__name__)

    task = asyncio.create_task(renew())
    try:
        yield
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


@job("batch.execute")
async def execute_batch(runtime: WorkerRuntime, batch_id: str) -> int:
    """The embedded mode's way through a batch (runs/execution.py): its open items claimed
    together, scored ``LAUNCHGATE_BATCH_CONCURRENCY`` at once, completed in groups. The
    judge calls of all items share the organisation's limiter, so they flow through its
    slots with no barrier between items. (Scaled out, each item is its own job.)"""
    return await execution.execute_batch(runtime, batch_id)


@job("run.sweep")
async def sweep_runs(runtime: WorkerRuntime) -> int:
    """Send again the runs no worker holds (a lapsed lease, or pending too long); run by
    the workers every ``LAUNCHGATE_SWEEP_INTERVAL_S``. A run sent twice still finishes
    once: the claim admits one worker at a time and completion is conditional."""
    async with unit_of_work(runtime.sessions) as session:
        run_ids = await execution.stale_runs(session, runtime.settings.requeue_pending_after_s)
    for run_id in run_ids:
        await runtime.queue.enqueue("run.execute", run_id=run_id)
    if run_ids:
        log.info("re-queued runs no worker holds", count=len(run_ids))
    return len(run_ids)
