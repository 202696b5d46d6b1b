"""The API-key read on PostgreSQL runs on psycopg's own connection (db.driver_fetch_one)
when nobody listens to SQLAlchemy's statement events: it must read exactly what the
SQLAlchemy path reads, with the same UTC datetimes, and leave the pooled connection as
the SQLAlchemy path does."""

from __future__ import annotations

import asyncio
import logging
import uuid
from datetime import timedelta
from functools import partial
from typing import Any

import pytest
from sqlalchemy import Connection, event, select, update

from launchgate.api_keys import repository
from launchgate.api_keys.service import KeyCaller, authenticate, token_hash
from launchgate.db import (
    create_engine,
    create_sessionmaker,
    driver_direct,
    driver_execute,
    in_autocommit,
    unit_of_work,
)
from launchgate.errors import Unauthorized
from launchgate.kit.time import month_key, utcnow
from launchgate.models import ApiKey
from tests.factories import Api

# The driver path, a row lock and pg_terminate_backend are PostgreSQL's: these tests run on
# that backend only (the suite's database_url, narrowed), not skipped on SQLite.
POSTGRES_ONLY = pytest.mark.parametrize("database_url", ["postgres"], indirect=True)


def _listening(engine: Any) -> Any:
    """A statement listener: it sends the read down SQLAlchemy's own path."""
    seen: list[str] = []

    def sent(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        seen.append(statement)

    event.listen(engine.sync_engine, "before_cursor_execute", sent)
    return sent, seen


async def test_the_driver_is_used_only_on_postgresql_and_unobserved(
    api: Api, database_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    engine = create_engine(database_url, pool_size=1)
    try:
        postgres = database_url.startswith("postgresql")
        assert await in_autocommit(engine, driver_direct) is postgres
        sent, _ = _listening(engine)
        assert await in_autocommit(engine, driver_direct) is False
        event.remove(engine.sync_engine, "before_cursor_execute", sent)
        assert await in_autocommit(engine, driver_direct) is postgres
        # LAUNCHGATE_SQL_LOG_LEVEL=INFO: every statement is logged, so SQLAlchemy runs it.
        with caplog.at_level(logging.INFO, logger="sqlalchemy.engine"):
            assert await in_autocommit(engine, driver_direct) is False
        assert await in_autocommit(engine, driver_direct) is postgres
    finally:
        await engine.dispose()


@POSTGRES_ONLY
async def test_both_paths_read_the_same_row(api: Api, database_url: str) -> None:
    org = await api.org("pro")
    now = utcnow().replace(microsecond=123456)
    async with unit_of_work(api.runtime.sessions) as session:
        await session.execute(
            update(ApiKey)
            .where(ApiKey.org_id == org.id)
            .values(expires_at=now + timedelta(days=3), last_used_at=now - timedelta(hours=1))
        )
    engine = create_engine(database_url, pool_size=1)
    read = partial(repository.with_facts, key_hash=token_hash(org.key), period=month_key(now))
    try:
        # A session time zone far from UTC: the driver's datetimes come back in it.
        await in_autocommit(engine, lambda c: c.exec_driver_sql("SET TIME ZONE 'Asia/Kolkata'"))

        def direct(connection: Connection) -> Any:
            assert driver_direct(connection)
            return read(connection)

        by_driver = await in_autocommit(engine, direct)
        sent, seen = _listening(engine)
        by_sqlalchemy = await in_autocommit(engine, read)
        event.remove(engine.sync_engine, "before_cursor_execute", sent)
        assert len(seen) == 1  # the listener saw the other path's one statement
    finally:
        await engine.dispose()
    assert by_driver is not None and by_driver == by_sqlalchemy
    assert by_driver.expires_at == now + timedelta(days=3)
    assert by_driver.last_used_at == now - timedelta(hours=1)
    for value in (by_driver.expires_at, by_driver.last_used_at):
        assert value is not None and value.utcoffset() == timedelta(0)
    assert (by_driver.plan, by_driver.revoked_at, by_driver.runs_in_period) == ("pro", None, 0)


async def test_the_driver_path_refuses_revoked_and_expired_keys_and_touches(
    api: Api, database_url: str
) -> None:
    org, other = await api.org(), await api.org()
    engine = create_engine(database_url, pool_size=1)
    try:
        caller = await authenticate(engine, org.key)
        assert isinstance(caller, KeyCaller) and caller.org_id == org.id
        async with api.runtime.sessions() as session:
            touched = await session.scalar(
                select(ApiKey.last_used_at).where(ApiKey.org_id == org.id)
            )
        assert touched is not None
        async with unit_of_work(api.runtime.sessions) as session:
            await session.execute(
                update(ApiKey).where(ApiKey.org_id == org.id).values(revoked_at=utcnow())
            )
            await session.execute(
                update(ApiKey)
                .where(ApiKey.org_id == other.id)
                .values(expires_at=utcnow() - timedelta(seconds=1))
            )
        with pytest.raises(Unauthorized, match="Invalid API key"):
            await authenticate(engine, org.key)
        with pytest.raises(Unauthorized, match="expired"):
            await authenticate(engine, other.key)
        with pytest.raises(Unauthorized, match="Invalid API key"):
            await authenticate(engine, "lg_live_" + "x" * 32)
    finally:
        await engine.dispose()


@POSTGRES_ONLY
async def test_a_connection_killed_under_the_read_is_replaced(api: Api, database_url: str) -> None:
    org = await api.org()
    engine = create_engine(database_url, pool_size=1)
    try:
        await authenticate(engine, org.key)

        def killed(connection: Connection) -> None:
            pid = repository_pid(connection)
            with engine.sync_engine.connect() as other:  # pool_size 1: overflow allows it
                other.exec_driver_sql(f"SELECT pg_terminate_backend({pid})")
                other.commit()
            connection.exec_driver_sql("SELECT 1")  # the server has closed it

        with pytest.raises(Exception):  # noqa: B017  (psycopg's or SQLAlchemy's error)
            await in_autocommit(engine, killed)
        caller = await authenticate(engine, org.key)  # a new connection, in autocommit
        assert caller.org_id == org.id
    finally:
        await engine.dispose()


def repository_pid(connection: Connection) -> int:
    return int(connection.exec_driver_sql("SELECT pg_backend_pid()").scalar_one())


@POSTGRES_ONLY
async def test_a_read_cancelled_mid_statement_leaves_a_usable_pool(
    api: Api, database_url: str
) -> None:
    """A request that goes away while its key's touch waits on a row lock: the statement
    is cancelled, and the pool's next read, and the next session's transaction, work on
    a sound connection."""
    org = await api.org()
    engine = create_engine(database_url, pool_size=1)
    try:
        async with api.runtime.sessions() as holder:
            # Holds the key's row: the touch (its last_used_at is unset) waits for it.
            await holder.execute(update(ApiKey).where(ApiKey.org_id == org.id).values(name="held"))
            read = asyncio.create_task(authenticate(engine, org.key))
            await asyncio.sleep(0.3)
            assert not read.done()
            read.cancel()
            with pytest.raises(asyncio.CancelledError):
                await read
            await holder.rollback()
        caller = await asyncio.wait_for(authenticate(engine, org.key), 10)
        assert caller.org_id == org.id
        await assert_transactional(engine, org.id)  # not left in autocommit
    finally:
        await engine.dispose()


@POSTGRES_ONLY
async def test_a_connection_that_cannot_leave_autocommit_is_dropped(
    api: Api, database_url: str
) -> None:
    """Work that leaves the driver's connection inside a transaction: it cannot be
    switched back out of autocommit, so it must not go back to the pool (where the next
    session would run in autocommit, each statement committed on its own)."""
    org = await api.org()
    engine = create_engine(database_url, pool_size=1)
    try:
        await in_autocommit(engine, lambda c: driver_execute(c, "BEGIN", {}))
        await assert_transactional(engine, org.id)
    finally:
        await engine.dispose()


async def assert_transactional(engine: Any, org_id: uuid.UUID) -> None:
    """The pool's next session runs in a transaction: its rolled-back update is gone."""
    async with create_sessionmaker(engine)() as session:
        await session.execute(update(ApiKey).where(ApiKey.org_id == org_id).values(name="renamed"))
        await session.rollback()
        name = await session.scalar(select(ApiKey.name).where(ApiKey.org_id == org_id))
    assert name != "renamed"
