from __future__ import annotations

import importlib
from typing import Any

import structlog
from taskiq import AsyncBroker, InMemoryBroker

from launchgate.kit.jobs import get_job

log = structlog.get_logger(__name__)

# Modules whose @job functions the worker must know about.
TASK_MODULES = ("launchgate.runs.tasks",)


class Worker:
    """One broker and the runtime its jobs run with. Each app has its own, so two apps
    in one process (tests) never share a queue."""

    def __init__(self, runtime: Any, broker: AsyncBroker | None = None) -> None:
        self.runtime = runtime
        self.broker = broker or InMemoryBroker()

        async def dispatch(name: str, payload: dict[str, Any]) -> None:
            try:
                await get_job(name)(runtime, **payload)
            except Exception:
                log.exception("job failed", job=name)
                raise

        self._dispatch = self.broker.register_task(dispatch, task_name="launchgate.dispatch")

    async def start(self) -> None:
        for module in TASK_MODULES:
            importlib.import_module(module)
        await self.broker.startup()

    async def stop(self) -> None:
        await self.broker.shutdown()

    async def enqueue(self, name: str, **payload: Any) -> None:
        """Send job ``name``; it runs on the worker, never inside the caller's request."""
        await self._dispatch.kiq(name, payload)
