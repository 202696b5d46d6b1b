from __future__ import annotations

import uuid
from datetime import datetime
from typing import NamedTuple, cast

from sqlalchemy import Connection, Table, and_, bindparam, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from launchgate.db import compile_for_driver, driver_direct, driver_execute, driver_fetch_one
from launchgate.kit.time import as_utc
from launchgate.models import ApiKey, Organisation, UsageCounter


class KeyWithFacts(NamedTuple):
    """An API key's row as authentication needs it, with its organisation's facts and its
    count of runs in the usage period asked for."""

    id: uuid.UUID
    org_id: uuid.UUID
    mode: str
    expires_at: datetime | None
    revoked_at: datetime | None
    last_used_at: datetime | None
    plan: str
    config_version: int
    runs_in_period: int


_KEYS = cast(Table, ApiKey.__table__)
_ORGS = cast(Table, Organisation.__table__)
_USAGE = cast(Table, UsageCounter.__table__)
# Built once, with bind parameters: building and hashing a statement anew on every call
# cost the hot path as much as running it (issue 17). A statement built once keeps its
# cache key, so SQLAlchemy finds its compiled form without rebuilding anything.
_KEY_WITH_FACTS = (
    select(
        _KEYS.c.id,
        _KEYS.c.org_id,
        _KEYS.c.mode,
        _KEYS.c.expires_at,
        _KEYS.c.revoked_at,
        _KEYS.c.last_used_at,
        _ORGS.c.plan,
        _ORGS.c.config_version,
        func.coalesce(_USAGE.c.runs, 0),
    )
    .join_from(_KEYS, _ORGS, _ORGS.c.id == _KEYS.c.org_id)
    .outerjoin(
        _USAGE,
        and_(_USAGE.c.org_id == _KEYS.c.org_id, _USAGE.c.period == bindparam("period")),
    )
    .where(_KEYS.c.key_hash == bindparam("key_hash"))
)
_TOUCH = (
    update(_KEYS).where(_KEYS.c.id == bindparam("key_id")).values(last_used_at=bindparam("now"))
)


def with_facts(connection: Connection, key_hash: str, period: str) -> KeyWithFacts | None:
    """The key with this hash, its organisation's plan and config version, and its runs
    counted in ``period`` (billing's ``usage_counters``, read as billing reads it), in one
    query: authenticating, reading the facts and checking the monthly limit were three
    round trips on every run. On PostgreSQL (inside ``db.in_autocommit``) psycopg runs it
    directly: the read is on every run that the embedded key cache does not answer."""
    params = {"key_hash": key_hash, "period": period}
    if not driver_direct(connection):
        row = connection.execute(_KEY_WITH_FACTS, params).first()
        return None if row is None else KeyWithFacts(*row)
    sql, literals = compile_for_driver(_KEY_WITH_FACTS)
    found = driver_fetch_one(connection, sql, {**literals, **params})
    if found is None:
        return None
    key_id, org_id, mode, expires_at, revoked_at, last_used_at, *facts = found
    return KeyWithFacts(
        key_id,
        org_id,
        mode,
        _utc(expires_at),
        _utc(revoked_at),
        _utc(last_used_at),
        *facts,
    )


def touch(connection: Connection, key_id: uuid.UUID, now: datetime) -> None:
    params = {"key_id": key_id, "now": as_utc(now)}
    if not driver_direct(connection):
        connection.execute(_TOUCH, params)
        return
    sql, literals = compile_for_driver(_TOUCH)
    driver_execute(connection, sql, {**literals, **params})


def _utc(value: datetime | None) -> datetime | None:
    """What the ``UTCDateTime`` column type makes of a value the driver read."""
    return None if value is None else as_utc(value)


async def get(session: AsyncSession, org_id: uuid.UUID, key_id: uuid.UUID) -> ApiKey | None:
    result = await session.execute(
        select(ApiKey).where(ApiKey.id == key_id, ApiKey.org_id == org_id)
    )
    return result.scalar_one_or_none()


async def list_page(
    session: AsyncSession, org_id: uuid.UUID, offset: int, limit: int
) -> tuple[list[ApiKey], int]:
    where = ApiKey.org_id == org_id
    total = await session.scalar(select(func.count()).select_from(ApiKey).where(where))
    rows = await session.scalars(
        select(ApiKey)
        .where(where)
        .order_by(ApiKey.created_at.desc(), ApiKey.id)
        .offset(offset)
        .limit(limit)
    )
    return list(rows), int(total or 0)


def add(session: AsyncSession, key: ApiKey) -> ApiKey:
    session.add(key)
    return key
