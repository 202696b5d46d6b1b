"""Admission of synchronous runs that wait on the worker, request side.

A synchronous judge run holds its HTTP request open for as long as the judge takes
(seconds). Each waiting request costs little — it holds no database connection while it
waits — but the work behind it is bounded by the judge's 20 calls per organisation and
provider, so an unbounded number of waiters only grows the queue and every waiter's
latency. Past ``LAUNCHGATE_MAX_WAITING_SYNC_RUNS`` waiters in one process, the next run is
refused at once with 503 and ``Retry-After``, before anything is stored.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

from launchgate.errors import ServiceUnavailable

# What a refused client is told to wait: about one judge call, the unit a waiter frees.
RETRY_AFTER_S = 2


class TooManyWaiting(ServiceUnavailable):
    """The process already has its maximum of synchronous runs waiting on the worker."""

    def __init__(self, limit: int) -> None:
        super().__init__(
            f"This server already has {limit} synchronous runs waiting for the judge; retry "
            f"in {RETRY_AFTER_S} s, or send the run with async: true and poll it",
            {"max_waiting_sync_runs": limit},
            {"Retry-After": str(RETRY_AFTER_S)},
        )


class Admission:
    """A counter, not a queue: a run over the limit is refused at once, never parked."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.waiting = 0

    @contextlib.contextmanager
    def admit(self) -> Iterator[None]:
        if self.waiting >= self.limit:
            raise TooManyWaiting(self.limit)
        self.waiting += 1
        try:
            yield
        finally:
            self.waiting -= 1
