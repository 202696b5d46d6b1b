"""The consuming side of the scaled-out queue, run by ``launchgate worker``.

taskiq's ``Receiver`` runs each message (parse, call the job, store the result, then
acknowledge); this loop around it only fetches, so that it can outlive Redis: when Redis
restarts, the fetch fails, the loop waits and re-creates the consumer group, while jobs
already running carry on (taskiq's own listen loop would cancel them with the fetch).
"""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any

import structlog
from taskiq.acks import AcknowledgeType
from taskiq.receiver import Receiver
from taskiq_redis import RedisStreamBroker

from launchgate.worker.redis_queue import declare_group

log = structlog.get_logger(__name__)


async def consume(broker: RedisStreamBroker, concurrency: int, stop: asyncio.Event) -> None:
    """Run up to ``concurrency`` jobs at once until ``stop`` is set, then let the running
    ones finish. A job is fetched only when a slot is free, so a busy worker leaves the
    queue to the others."""
    receiver = Receiver(
        broker, run_startup=False, ack_type=AcknowledgeType.WHEN_SAVED, max_async_tasks=concurrency
    )
    slots = asyncio.Semaphore(concurrency)
    running: set[asyncio.Task[None]] = set()
    pause = 0.2

    async def run(message: Any) -> None:
        try:
            await receiver.callback(message)
        except Exception as exc:  # an ack or result lost with Redis: the run's lease decides
            log.warning("job finished but not acknowledged", error_type=type(exc).__name__)
        finally:
            slots.release()

    while not stop.is_set():
        try:
            await declare_group(broker)
            await _fetch_until(broker, slots, stop, running, run)
            pause = 0.2
        except Exception as exc:
            log.warning(
                "job queue unreachable; retrying", error_type=type(exc).__name__, retry_in_s=pause
            )
            await _wait(stop, pause)
            pause = min(pause * 2, 5.0)
    if running:
        await asyncio.wait(running)


async def _fetch_until(
    broker: RedisStreamBroker,
    slots: asyncio.Semaphore,
    stop: asyncio.Event,
    running: set[asyncio.Task[None]],
    run: Any,
) -> None:
    stream = broker.listen()
    stopped = asyncio.ensure_future(stop.wait())
    try:
        while True:
            await slots.acquire()
            fetch = asyncio.ensure_future(anext(stream))
            await asyncio.wait({fetch, stopped}, return_when=asyncio.FIRST_COMPLETED)
            if not fetch.done():  # stopping: an unfetched job stays in the queue
                fetch.cancel()
                with contextlib.suppress(BaseException):
                    await fetch
                slots.release()
                return
            try:
                message = fetch.result()
            except BaseException:
                slots.release()
                raise
            task = asyncio.create_task(run(message))
            running.add(task)
            task.add_done_callback(running.discard)
    finally:
        stopped.cancel()
        with contextlib.suppress(Exception):
            await stream.aclose()


async def _wait(stop: asyncio.Event, seconds: float) -> None:
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(stop.wait(), seconds)
