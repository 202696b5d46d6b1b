"""Engines and sessions. Services never commit: the request or job that opened the
session commits once at the end and rolls back on error."""

from __future__ import annotations

import functools
import json
import logging
import select
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any, TypeVar, cast

import orjson
from sqlalchemy import Connection, Engine, event
from sqlalchemy import create_engine as sa_create_engine
from sqlalchemy.exc import DisconnectionError
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.orm.exc import StaleDataError
from sqlalchemy.sql.elements import ClauseElement
from sqlalchemy.util import await_only, greenlet_spawn

from launchgate.errors import NotFound
from launchgate.kit.sessions import SessionOnDemand

T = TypeVar("T")


def create_engine(url: str, pool_size: int = 10, pool_timeout_s: float = 30.0) -> AsyncEngine:
    """At most ``pool_size + overflow`` connections (20 on SQLite, 30 on PostgreSQL by
    default); past those, a checkout waits ``pool_timeout_s`` and then raises
    ``sqlalchemy.exc.TimeoutError`` (answered 503 by app.py). SQLite keeps ``pool_size``
    of them open when they come back; PostgreSQL keeps them all.

    On PostgreSQL a connection opened under load is kept, not closed when it comes back:
    the maximum is the same, so the arithmetic against ``max_connections`` is unchanged,
    but SQLAlchemy's overflow closes every connection returned to a full pool, and with
    32 requests in flight the server connected and disconnected PostgreSQL on most
    requests (108 connects for 160 runs in tests/scale/test_pg_connections.py; psycopg's
    connect and close were a sixth of the server's CPU per run, issue 17). A connection
    is opened only when no idle one is free, so a quiet process still holds few.

    No ``pool_pre_ping`` (a ``SELECT 1`` round trip on every checkout, the hot path's
    dearest statement after its own): ``_drop_if_closed_by_server`` keeps the guarantee
    it bought, without a round trip."""
    if url.startswith("sqlite"):
        engine = create_async_engine(
            url,
            connect_args={"timeout": 30},
            pool_size=pool_size,
            max_overflow=overflow(url, pool_size),
            pool_timeout=pool_timeout_s,
            json_serializer=dump_json,
        )
        event.listen(engine.sync_engine, "connect", _sqlite_pragmas)
        return engine
    engine = create_async_engine(
        url,
        pool_size=pool_size + overflow(url, pool_size),
        max_overflow=0,
        pool_timeout=pool_timeout_s,
        json_serializer=dump_json,
    )
    event.listen(engine.sync_engine, "checkout", _drop_if_closed_by_server)
    return engine


def _drop_if_closed_by_server(dbapi_connection: Any, _record: Any, _proxy: Any) -> None:
    """Refuse a pooled PostgreSQL connection the server has closed, before it is used.

    A server that restarts, or terminates a backend (``pg_terminate_backend``, an idle
    timeout), sends the client a FATAL error and closes the socket; an idle connection has
    nothing else to read (it never LISTENs). So a socket that is readable at checkout is
    one the server is done with, and raising ``DisconnectionError`` here makes the pool
    discard it and open a new one for this same checkout, which is what ``pool_pre_ping``
    did with a ``SELECT 1`` round trip. This costs one ``select()`` system call. A network
    path that vanished silently (no FIN) is not seen here; a ping would hang on it as
    well, and SQLAlchemy invalidates the whole pool at the first statement that fails
    with a disconnection."""
    connection = getattr(dbapi_connection, "driver_connection", dbapi_connection)
    if connection.closed or connection.broken:
        raise DisconnectionError("the connection is closed")
    try:
        socket = connection.pgconn.socket
    except Exception as exc:  # psycopg.OperationalError: no socket any more
        raise DisconnectionError("the connection has no socket") from exc
    if _readable(socket):
        raise DisconnectionError("the server closed the connection")


def _readable(fd: int) -> bool:
    """Whether ``fd`` has something to read (or hung up), without waiting. ``poll``, not
    ``select``: a busy server's sockets pass the 1024 file descriptors ``select`` takes."""
    if not hasattr(select, "poll"):  # Windows
        return bool(select.select([fd], [], [], 0)[0])
    poller = select.poll()
    poller.register(fd, select.POLLIN)
    return bool(poller.poll(0))


def dump_json(value: Any) -> str:
    """The text of a JSON column. Every run stores its scores, input and suite snapshot, and
    the standard encoder was a twentieth of the server's CPU per run (issue 17); orjson
    takes a sixth of its time. What orjson cannot write (an integer past 64 bits, a string
    with a lone surrogate, a key that is not a string) is written by the standard encoder
    as before. A NaN or an infinity, which no schema of ours accepts, would be written
    ``null`` (PostgreSQL refuses the standard encoder's bare ``NaN``)."""
    try:
        return orjson.dumps(value).decode()
    except TypeError:  # orjson.JSONEncodeError
        return json.dumps(value)


def overflow(url: str, pool_size: int) -> int:
    """How many connections past ``pool_size`` an engine of ``create_engine`` may open."""
    return pool_size if url.startswith("sqlite") else 2 * pool_size


def create_sync_engine(url: str) -> Engine:
    """A one-connection synchronous engine on the same database, for code that runs a
    whole transaction inside one worker thread (the run writer)."""
    sync_url = url.replace("sqlite+aiosqlite:", "sqlite+pysqlite:", 1)
    if sync_url.startswith("sqlite"):
        engine = sa_create_engine(
            sync_url,
            connect_args={"timeout": 30, "check_same_thread": False},
            pool_size=1,
            max_overflow=0,
            json_serializer=dump_json,
        )
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    engine = sa_create_engine(sync_url, pool_size=1, max_overflow=0, json_serializer=dump_json)
    event.listen(engine, "checkout", _drop_if_closed_by_server)
    return engine


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    """WAL lets readers run beside the writer; foreign keys make ON DELETE CASCADE real."""
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.close()


async def in_autocommit(engine: AsyncEngine, work: Callable[[Connection], T]) -> T:
    """``work(connection)`` on a pooled connection in autocommit, for a read that stands
    alone (and a write that may commit on its own): no BEGIN and no COMMIT, so one round
    trip per statement on PostgreSQL instead of three. ``work`` is synchronous and runs,
    from checkout to checkin, in one greenlet, as ``AsyncConnection.run_sync`` would run
    it but without the three more greenlets and the shielded close task that the
    ``async with engine.connect()`` around it costs: ~0.1 ms less CPU per API-key read
    (issue 17). The connection is back out of autocommit when it returns to the pool.

    On PostgreSQL the driver's own connection is switched, not SQLAlchemy's isolation
    level (whose switch and reset cost several more awaits per read), so ``work`` may run
    its statements on it with ``driver_fetch_one``/``driver_execute``."""
    return await greenlet_spawn(_in_autocommit, engine.sync_engine, work)


def _in_autocommit(engine: Engine, work: Callable[[Connection], T]) -> T:
    with engine.connect() as connection:
        if engine.dialect.name != "postgresql":
            return work(connection.execution_options(isolation_level="AUTOCOMMIT"))
        driver = _driver(connection)
        await_only(driver.set_autocommit(True))
        try:
            return work(connection)
        finally:
            try:
                await_only(driver.set_autocommit(False))
            except Exception:  # a connection that broke under ``work``: never reuse it
                connection.invalidate()


# SQLAlchemy's engine logs every statement here at INFO (LAUNCHGATE_SQL_LOG_LEVEL).
_STATEMENT_LOG = logging.getLogger("sqlalchemy.engine.Engine")


def driver_direct(connection: Connection) -> bool:
    """Whether psycopg itself may run a statement on ``connection`` (``driver_fetch_one``
    inside ``in_autocommit``, ``driver_execute_autocommit``): on PostgreSQL, with nobody
    listening to SQLAlchemy's statement events (tracing's span per statement, a test
    counting statements) and SQLAlchemy's statement log off. A statement run by the
    driver itself bypasses all three, and an operator who turned the SQL log on expects
    every statement in it."""
    return (
        connection.dialect.name == "postgresql"
        and not connection.dispatch.before_cursor_execute
        and not _STATEMENT_LOG.isEnabledFor(logging.INFO)
    )


def driver_fetch_one(connection: Connection, sql: str, params: dict[str, Any]) -> Any:
    """The first row of ``sql`` run by psycopg itself on ``connection``'s driver
    connection, inside ``in_autocommit``'s greenlet: SQLAlchemy's execution (context,
    cursor wrapper, result and row processing) was half the CPU of the hot path's one
    read per run on PostgreSQL (issue 17). ``sql`` is a statement compiled once
    (``compile_for_driver``); the row holds the driver's own values, so a caller converts
    what a column type would have (UTC datetimes)."""
    cursor = await_only(_driver(connection).execute(sql, params))
    return await_only(cursor.fetchone())


def driver_execute(connection: Connection, sql: str, params: dict[str, Any]) -> None:
    """``driver_fetch_one`` for a statement without rows."""
    await_only(_driver(connection).execute(sql, params))


def _driver(connection: Connection) -> Any:
    """psycopg's ``AsyncConnection`` under a checked-out PostgreSQL connection."""
    return connection.connection.driver_connection


def driver_execute_autocommit(connection: Connection, sql: str, params: dict[str, Any]) -> None:
    """``sql`` run by psycopg itself on ``connection``'s (synchronous) driver connection
    in autocommit: one statement that commits on its own, one round trip, where a
    transaction costs a BEGIN and a COMMIT more (issue 17: the run writer's one-run
    batches). ``connection`` must be outside a transaction; ``driver_direct`` tells
    whether the statement may bypass SQLAlchemy. A connection that cannot be put back
    out of autocommit is invalidated, never returned to the pool in it."""
    driver: Any = connection.connection.driver_connection
    driver.autocommit = True
    try:
        driver.execute(sql, params)
    finally:
        try:
            driver.autocommit = False
        except Exception:
            connection.invalidate()
            raise


@functools.cache
def compile_for_driver(statement: ClauseElement) -> tuple[str, dict[str, Any]]:
    """The PostgreSQL (psycopg) text of ``statement`` and its literal parameters, which a
    caller merges under its own: ``driver_fetch_one``'s input, made once per statement
    (statements built once at import: the cache holds a handful)."""
    from sqlalchemy.dialects.postgresql.psycopg import dialect

    compiled = statement.compile(dialect=dialect())
    return compiled.string, dict(compiled.params)


def create_sessionmaker(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(engine, expire_on_commit=False, autoflush=False)


@asynccontextmanager
async def unit_of_work(sessions: async_sessionmaker[AsyncSession]) -> AsyncIterator[AsyncSession]:
    """A session that commits on success and rolls back on error: for jobs and commands."""
    async with sessions() as session:
        try:
            yield session
            await commit(session)
        except BaseException:
            await rollback(session)
            raise


@asynccontextmanager
async def unit_of_work_on_demand(
    sessions: async_sessionmaker[AsyncSession],
) -> AsyncIterator[AsyncSession]:
    """``unit_of_work`` for the hot path's blocks that often need no database (the embedded
    caches answer): the session is made at its first use (``SessionOnDemand``), committed
    when it began a transaction or holds after-commit actions, rolled back on an error, and
    closed only when it began one. A session never made, or never begun, held no
    connection and needs none of that: ``async with`` would close it in a shielded task of
    its own, which cost every run about 0.05 ms (issue 17)."""
    lazy = SessionOnDemand(sessions)
    began = False
    try:
        yield cast("AsyncSession", lazy)
        session = lazy.made
        if session is not None:
            began = session.in_transaction()
            if began or session.info.get("after_commit"):
                await commit(session)
    except BaseException:
        session = lazy.made
        began = began or (session is not None and session.in_transaction())
        if session is not None and began:
            await rollback(session)
        raise
    finally:
        if lazy.made is not None and began:
            await lazy.made.close()


def after_commit(session: AsyncSession, action: Any) -> None:
    """Queue ``action`` (an async callable) to run once the session's transaction commits.

    Jobs enqueued during a request are sent only after the commit, and dropped on rollback,
    so a worker never sees a run row that does not exist yet.
    """
    session.info.setdefault("after_commit", []).append(action)


async def commit(session: AsyncSession) -> None:
    try:
        await session.commit()
    except StaleDataError:
        # A row this request changed was deleted meanwhile (say, its suite by a concurrent
        # request): the thing asked about no longer exists.
        raise NotFound("The resource was deleted while this request ran") from None
    actions = session.info.pop("after_commit", [])
    for action in actions:
        await action()


async def rollback(session: AsyncSession) -> None:
    session.info.pop("after_commit", None)
    await session.rollback()
