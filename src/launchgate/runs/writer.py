"""Group commit for synchronous runs.

Each ``POST /v1/run`` ends with two writes (the run row and the usage count). Written by
every request in its own transaction they queue on the database's write lock — on SQLite
in a busy loop that sleeps, which turned a 1 ms write into seconds at 32 clients. One
writer task instead takes whatever runs are waiting, writes them in one transaction and
then answers each request. A request still returns only after its run is committed, so a
``GET /v1/runs/{id}`` that follows finds it.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections import Counter
from typing import Any

import structlog

from launchgate.billing import service as billing
from launchgate.db import create_sync_engine, driver_direct
from launchgate.kit.time import month_key
from launchgate.runs import repository

log = structlog.get_logger(__name__)
_Item = tuple[dict[str, Any], "asyncio.Future[None]"]
_STOP: Any = object()


class RunWriter:
    """Writes on a database connection of its own: requests wait for it while holding
    theirs, so sharing their pool would let 32 waiting requests starve the writer.

    The connection is a synchronous one, driven from one worker thread: a whole batch
    (insert, usage upsert, commit) then costs one hop between the event loop and a thread,
    where the async SQLite driver pays several per statement.
    """

    def __init__(self, database_url: str, max_batch: int = 256) -> None:
        self._engine = create_sync_engine(database_url)
        self._max_batch = max_batch
        self._queue: asyncio.Queue[Any] = asyncio.Queue()
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._task = asyncio.create_task(self._loop())

    async def stop(self) -> None:
        """Writes what is queued, then ends."""
        if self._task is not None:
            self._queue.put_nowait(_STOP)
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        await asyncio.to_thread(self._engine.dispose)

    async def write(self, values: dict[str, Any]) -> None:
        """Queue one completed run (its column values) and wait until it is committed."""
        if self._task is None or self._task.done():
            raise RuntimeError("the run writer is not running")
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._queue.put_nowait((values, future))
        await future

    async def _loop(self) -> None:
        stopping = False
        while not stopping:
            batch: list[_Item] = []
            first = await self._queue.get()
            stopping = first is _STOP
            if not stopping:
                batch.append(first)
            while len(batch) < self._max_batch and not self._queue.empty():
                item = self._queue.get_nowait()
                if item is _STOP:
                    stopping = True
                    break
                batch.append(item)
            if batch:
                await self._commit(batch)

    async def _commit(self, batch: list[_Item]) -> None:
        try:
            await self._write([values for values, _ in batch])
        except Exception as exc:
            if len(batch) == 1:
                # The type only: a database error's text can quote the row's values.
                log.error("could not store a run", error_type=type(exc).__name__)
                _settle(batch[0][1], error=True)
                return
            # One bad row must not fail its neighbours: write them one at a time.
            for item in batch:
                await self._commit([item])
            return
        for _, future in batch:
            _settle(future)

    async def _write(self, rows: list[dict[str, Any]]) -> None:
        counts = Counter(
            (row["org_id"], month_key(row["created_at"]))
            for row in rows
            if billing.is_billed(row["status"], row["billable"])
        )
        spend: list[dict[str, Any]] = []
        for row in rows:
            # One executemany wants the same columns in every row: a pending run (stored
            # for the worker) has no cost yet, a scored one has its own.
            row.setdefault("cost_usd", None)
            if row.get("completed_at") is not None:  # a judged run's calls: this month's spend
                spend += billing.spend_rows(row["org_id"], row["completed_at"], row["scores"])
        await asyncio.to_thread(self._write_sync, rows, dict(counts), spend)

    def _write_sync(
        self, rows: list[dict[str, Any]], counts: dict[Any, int], spend: list[dict[str, Any]]
    ) -> None:
        with self._engine.connect() as connection:
            if (
                len(rows) == 1
                and not spend
                and driver_direct(connection)
                and repository.whole_row(rows[0])
            ):
                # A batch of one run (a quiet server, one client): on PostgreSQL, the row
                # and its count in one statement that commits on its own.
                repository.insert_row_direct(
                    connection, rows[0], billing.runs_count_for_driver(counts)
                )
                return
            with connection.begin():
                repository.insert_rows(connection, rows)
                billing.record_runs_sync(connection, counts)
                billing.record_spend_sync(connection, spend)


def _settle(future: asyncio.Future[None], error: bool = False) -> None:
    if future.done():  # the request went away while it waited
        return
    if error:
        future.set_exception(RuntimeError("the run could not be stored"))
    else:
        future.set_result(None)
