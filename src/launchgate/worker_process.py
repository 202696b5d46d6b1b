"""``launchgate worker``: one process of the scaled-out fleet. It consumes the Redis job
queue with up to ``--concurrency`` jobs at once and takes its turn at the sweep that
re-queues runs no worker holds. SIGTERM or Ctrl-C: stop fetching, finish what runs, exit.
"""

from __future__ import annotations

import asyncio
import contextlib
import signal

import structlog

from launchgate.config import Settings, SettingsError
from launchgate.kit import heap
from launchgate.kit.jobs import get_job
from launchgate.runtime import WorkerRuntime
from launchgate.wiring import start_worker_runtime, stop_worker_runtime
from launchgate.worker.consumer import consume
from launchgate.worker.redis_queue import take_turn

log = structlog.get_logger(__name__)


def check_worker_settings(settings: Settings) -> None:
    """What a worker needs beyond what the API needs."""
    if not settings.redis_url:
        raise SettingsError(
            "launchgate worker needs LAUNCHGATE_REDIS_URL (the embedded `launchgate serve` "
            "runs its jobs in process and needs no worker)"
        )


async def run_worker(settings: Settings, concurrency: int) -> None:
    check_worker_settings(settings)
    runtime = await start_worker_runtime(settings)
    heap.settle()  # a process of its own, started: kit/heap.py
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    sweeper = asyncio.create_task(_sweep_loop(runtime, stop))
    log.info("worker started", concurrency=concurrency)
    try:
        await consume(runtime.queue.stream, concurrency, stop)
    finally:
        sweeper.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await sweeper
        await stop_worker_runtime(runtime)
        log.info("worker stopped")


async def _sweep_loop(runtime: WorkerRuntime, stop: asyncio.Event) -> None:
    interval = runtime.settings.sweep_interval_s
    sweep = get_job("run.sweep")
    while not stop.is_set():
        try:
            if await take_turn(runtime.queue.stream, "sweep", interval):
                await sweep(runtime)
        except Exception as exc:  # Redis or the database down: the next turn retries
            log.warning("sweep failed", error_type=type(exc).__name__)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), interval)
