"""Run jobs. Thin: open a unit of work, call the service."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from launchgate.db import unit_of_work
from launchgate.kit.jobs import job
from launchgate.runs import service

if TYPE_CHECKING:
    from launchgate.deps import Runtime


@job("run.execute")
async def execute_run(runtime: Runtime, run_id: str) -> dict[str, Any] | None:
    """The completed run's values (for a synchronous request waiting on it), or None when
    the run was already final or finished by another delivery."""
    # Two units of work: ``running`` is committed (and visible to pollers) before scoring.
    # A worker that dies in between leaves an open run, which is resumed and finishes once.
    async with unit_of_work(runtime.sessions) as session:
        if not await service.start_pending(session, run_id):
            return None
    async with unit_of_work(runtime.sessions) as session:
        return await service.execute_pending(session, runtime, run_id)
