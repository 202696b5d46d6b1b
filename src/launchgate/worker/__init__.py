"""The worker facade: the only package that imports the queue library (taskiq).

Domains enqueue jobs by name through ``Worker.enqueue``; the embedded mode runs them as
tasks of the server's event loop (no broker, and taskiq is never imported), the
scaled-out mode sends them over Redis Streams to ``launchgate worker`` processes
(redis_queue.py, consumer.py).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from launchgate.worker.queue import JobFailed, QueueUnavailable, Worker

if TYPE_CHECKING:
    from taskiq import AsyncBroker

    from launchgate.config import Settings

__all__ = ["JobFailed", "QueueUnavailable", "Worker", "create_broker"]


def create_broker(settings: Settings) -> AsyncBroker | None:
    """The Redis Streams broker when a Redis URL is set; None for the embedded mode, whose
    ``Worker`` runs jobs in process."""
    if not settings.redis_url:
        return None
    from launchgate.worker.redis_queue import redis_broker

    return redis_broker(
        settings.redis_url,
        result_ttl_s=int(settings.sync_run_timeout_s) + 60,
        # A job a dead worker took is delivered again once the run's lease has lapsed;
        # the sweep would re-queue the run by then anyway.
        redelivery_idle_s=settings.run_lease_s * 2,
    )
