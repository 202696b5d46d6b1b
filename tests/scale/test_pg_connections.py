"""The PostgreSQL connection pool (db.py): it keeps the connections it opens under load
instead of connecting and disconnecting on every request, and it survives connections
the server closed — a restart, ``pg_terminate_backend`` — without a ``SELECT 1`` round
trip on every checkout.

A restart of the server is seen by a pooled connection as a FATAL message and the socket
closed; ``pg_terminate_backend`` is how the tests make that happen on a shared server.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import httpx
import psycopg
import pytest
from sqlalchemy import event, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from launchgate.app import create_app
from launchgate.db import _readable, create_engine, create_sync_engine, overflow
from launchgate.migrations import upgrade
from launchgate.runtime import ApiRuntime
from tests.conftest import make_settings
from tests.factories import Api
from tests.pg import empty_database


@pytest.fixture
def plain_url() -> Iterator[str]:
    with empty_database("lg_pool") as url:
        yield url


def _async_url(plain: str) -> str:
    return plain.replace("postgresql://", "postgresql+psycopg://", 1)


def _backends(plain: str) -> set[int]:
    """The server processes connected to this database, but the one asking."""
    with psycopg.connect(plain, autocommit=True) as db:
        rows = db.execute(
            "SELECT pid FROM pg_stat_activity WHERE datname = current_database() "
            "AND pid <> pg_backend_pid()"
        ).fetchall()
    return {row[0] for row in rows}


def _terminate(plain: str, pids: set[int]) -> None:
    """What a restart does to each backend: a FATAL message, then the socket closed. Waits
    until the server has let them all go."""
    with psycopg.connect(plain, autocommit=True) as db:
        for pid in pids:
            db.execute("SELECT pg_terminate_backend(%s)", (pid,))
    deadline = time.monotonic() + 10
    while _backends(plain) & pids:
        assert time.monotonic() < deadline, "the server did not end its backends"
        time.sleep(0.02)


def _count_connects(engine: AsyncEngine) -> list[int]:
    opened = [0]

    def connected(*_: Any) -> None:
        opened[0] += 1

    event.listen(engine.sync_engine, "connect", connected)
    return opened


async def _pids(engine: AsyncEngine, at_once: int) -> set[int]:
    """``at_once`` checkouts held together, each asking its backend's pid."""
    connections = [await engine.connect() for _ in range(at_once)]
    try:
        return {
            (await c.execute(text("SELECT pg_backend_pid()"))).scalar_one() for c in connections
        }
    finally:
        for connection in connections:
            await connection.close()


async def test_connections_opened_under_load_are_kept_not_reopened(plain_url: str) -> None:
    engine = create_engine(_async_url(plain_url), pool_size=2)
    most = 2 + overflow(plain_url, 2)  # 6: the pool's maximum is unchanged
    opened = _count_connects(engine)
    try:
        first = await _pids(engine, most)
        for _ in range(20):  # a full pool returned and taken again, 20 times
            assert await _pids(engine, most) == first
        assert opened[0] == most
        assert _backends(plain_url) == first
        # A quiet moment opens nothing new either.
        assert await _pids(engine, 1) <= first and opened[0] == most
    finally:
        await engine.dispose()


async def test_the_pool_never_opens_more_than_its_maximum(plain_url: str) -> None:
    engine = create_engine(_async_url(plain_url), pool_size=1, pool_timeout_s=0.2)
    held = [await engine.connect() for _ in range(1 + overflow(plain_url, 1))]
    try:
        with pytest.raises(PoolTimeout):
            await engine.connect()
        assert len(_backends(plain_url)) == len(held)
    finally:
        for connection in held:
            await connection.close()
        await engine.dispose()


async def test_connections_the_server_closed_are_replaced_at_checkout(plain_url: str) -> None:
    engine = create_engine(_async_url(plain_url), pool_size=1)
    try:
        before = await _pids(engine, 3)
        _terminate(plain_url, before)
        after = await _pids(engine, 3)  # no error: each closed one was noticed and replaced
        assert len(after) == 3 and not after & before
    finally:
        await engine.dispose()


async def test_without_the_check_the_same_closed_connections_fail(plain_url: str) -> None:
    """The control: the test above would fail if the check did nothing."""
    engine = create_async_engine(_async_url(plain_url), pool_size=3, max_overflow=0)
    try:
        _terminate(plain_url, await _pids(engine, 3))
        with pytest.raises(DBAPIError) as caught:
            await _pids(engine, 3)
        assert caught.value.connection_invalidated
    finally:
        await engine.dispose()


def test_the_run_writers_connection_is_replaced_too(plain_url: str) -> None:
    engine = create_sync_engine(_async_url(plain_url))
    try:
        with engine.connect() as connection:
            before = connection.execute(text("SELECT pg_backend_pid()")).scalar_one()
        _terminate(plain_url, {before})
        with engine.connect() as connection:
            after = connection.execute(text("SELECT pg_backend_pid()")).scalar_one()
        assert after != before
    finally:
        engine.dispose()


@pytest.fixture
async def pg_api(plain_url: str, tmp_path: Path) -> AsyncIterator[Api]:
    """The app on a PostgreSQL database of its own (the tests end every connection to it),
    as a fleet's API process runs it: no in-memory key or facts cache (those are the
    embedded mode's, on SQLite)."""
    await asyncio.to_thread(upgrade, _async_url(plain_url))
    app = create_app(make_settings(_async_url(plain_url), tmp_path))
    async with app.router.lifespan_context(app):
        runtime: ApiRuntime = app.state.runtime
        assert runtime.key_cache is None and runtime.facts_cache is None
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
            yield Api(client, runtime)


def _database_of(api: Api) -> str:
    url = api.runtime.engine.url
    return f"postgresql://{url.username}@{url.host}:{url.port}/{url.database}"


async def test_32_runs_at_once_do_not_connect_per_request(pg_api: Api) -> None:
    org = await pg_api.org()
    _, suite = await pg_api.gated_suite(org, values=("hello",))
    opened = _count_connects(pg_api.runtime.engine)
    for _ in range(5):
        answers = await asyncio.gather(
            *(pg_api.run(org, suite["slug"], "hello") for _ in range(32))
        )
        assert all(a["status"] == "cleared" for a in answers)
    size = pg_api.runtime.settings.database_pool_size
    # 160 runs, each authenticated and read: at most one connection per pool slot.
    assert opened[0] <= size + overflow(str(pg_api.runtime.engine.url), size)


async def test_a_run_after_the_server_closed_every_connection_is_answered(pg_api: Api) -> None:
    org = await pg_api.org()
    _, suite = await pg_api.gated_suite(org, values=("hello",))
    await asyncio.gather(*(pg_api.run(org, suite["slug"], "hello") for _ in range(8)))
    database = _database_of(pg_api)
    _terminate(database, _backends(database))
    for _ in range(3):  # the request's connections and the run writer's
        answer = await pg_api.run(org, suite["slug"], "hello")
        assert answer["status"] == "cleared"


def test_the_check_reads_sockets_past_the_1024_select_can_take() -> None:
    """A busy server holds more than 1024 descriptors; ``select()`` refuses those, and a
    check that failed there would refuse every pooled connection."""
    import os
    import resource
    import socket

    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    high = 1500
    if soft <= high:
        resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, 4096), hard))
    ours, theirs = socket.socketpair()
    try:
        os.dup2(ours.fileno(), high)
        assert not _readable(high)  # idle: nothing to read
        theirs.close()  # the other end goes away, as a server that ends a backend does
        assert _readable(high)
    finally:
        os.close(high)
        ours.close()
        theirs.close()
        resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))
