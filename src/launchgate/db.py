"""Engines and sessions. Services never commit: the request or job that opened the
session commits once at the end and rolls back on error."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import orjson
from sqlalchemy import Engine, event
from sqlalchemy import create_engine as sa_create_engine
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.orm.exc import StaleDataError

from launchgate.errors import NotFound


def create_engine(url: str, pool_size: int = 10, pool_timeout_s: float = 30.0) -> AsyncEngine:
    """``pool_size`` connections kept, plus as many (SQLite) or twice as many (PostgreSQL)
    opened under load; past those, a checkout waits ``pool_timeout_s`` and then raises
    ``sqlalchemy.exc.TimeoutError`` (answered 503 by app.py)."""
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
    return create_async_engine(
        url,
        pool_size=pool_size,
        max_overflow=overflow(url, pool_size),
        pool_timeout=pool_timeout_s,
        pool_pre_ping=True,
        json_serializer=dump_json,
    )


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
    return sa_create_engine(
        sync_url, pool_size=1, max_overflow=0, pool_pre_ping=True, json_serializer=dump_json
    )


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    """WAL lets readers run beside the writer; foreign keys make ON DELETE CASCADE real."""
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.close()


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
