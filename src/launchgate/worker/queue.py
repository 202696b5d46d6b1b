from __future__ import annotations

import asyncio
import importlib
from typing import Any

import structlog
from taskiq import AsyncBroker, InMemoryBroker

from launchgate.kit.jobs import get_job

log = structlog.get_logger(__name__)

# Modules whose @job functions the worker must know about.
TASK_MODULES = ("launchgate.runs.tasks", "launchgate.byok.tasks")


class JobFailed(RuntimeError):
    """A job awaited with ``Worker.call`` raised; its own error is in the worker's log."""

    def __init__(self, name: str) -> None:
        super().__init__(f"job {name!r} failed")


class Worker:
    """One broker and the runtime its jobs run with. Each app has its own, so two apps
    in one process (tests) never share a queue."""

    def __init__(self, runtime: Any, broker: AsyncBroker | None = None) -> None:
        self.runtime = runtime
        self.broker = broker or InMemoryBroker()

        async def dispatch(name: str, payload: dict[str, Any]) -> Any:
            try:
                return await get_job(name)(runtime, **payload)
            except Exception:
                log.exception("job failed", job=name)
                raise

        self._run = dispatch
        self._dispatch = self.broker.register_task(dispatch, task_name="launchgate.dispatch")
        # Jobs awaited by ``call`` in this process; kept so none is collected mid-flight.
        self._calls: set[asyncio.Task[Any]] = set()

    async def start(self) -> None:
        for module in TASK_MODULES:
            importlib.import_module(module)
        await self.broker.startup()

    async def stop(self) -> None:
        if self._calls:
            await asyncio.wait(self._calls)
        await self.broker.shutdown()

    @property
    def in_process(self) -> bool:
        """Jobs run in this process (the embedded mode's in-memory broker)."""
        return isinstance(self.broker, InMemoryBroker)

    async def call(self, name: str, timeout_s: float, **payload: Any) -> Any:
        """Run job ``name`` on the worker and wait for what it returns (at most
        ``timeout_s``): for work that must happen worker-side but that a request answers
        with, such as testing a provider key, or a synchronous run with judge cases.

        In process the job runs as a task of this event loop, as the in-memory broker
        would run it, but awaited directly rather than by polling a result backend.
        Shielded: a request that gives up (its client gone, the timeout) leaves the job
        to finish and record its own outcome."""
        if self.in_process:
            job = asyncio.ensure_future(self._run(name, payload))
            self._calls.add(job)
            job.add_done_callback(self._calls.discard)
            try:
                return await asyncio.wait_for(asyncio.shield(job), timeout_s)
            except Exception as exc:
                if job.done() and job.exception() is exc:
                    raise JobFailed(name) from None
                raise
        task = await self._dispatch.kiq(name, payload)
        result = await task.wait_result(check_interval=0.01, timeout=timeout_s)
        if result.is_err:
            raise JobFailed(name)
        return result.return_value

    async def enqueue(self, name: str, **payload: Any) -> None:
        """Send job ``name``; it runs on the worker, never inside the caller's request."""
        await self._dispatch.kiq(name, payload)
