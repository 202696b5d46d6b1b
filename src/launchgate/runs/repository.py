from __future__ import annotations

import functools
import uuid
from collections.abc import Callable
from datetime import timedelta
from typing import Any, cast

from sqlalchemy import Table, and_, delete, func, insert, or_, select, update
from sqlalchemy.engine import Connection, Dialect
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.elements import ColumnElement

from launchgate.db import compile_for_driver, driver_execute_autocommit
from launchgate.models import JudgeVerdict, Run

OPEN = ("pending", "running")
FINAL = ("cleared", "aborted", "error", "inconclusive")


async def get(session: AsyncSession, org_id: uuid.UUID, run_id: str) -> Run | None:
    result = await session.execute(select(Run).where(Run.id == run_id, Run.org_id == org_id))
    return result.scalar_one_or_none()


async def get_any(session: AsyncSession, run_id: str) -> Run | None:
    """Worker side: the job names its run by id; the run carries its own org."""
    return await session.get(Run, run_id)


async def open_in_batch(session: AsyncSession, batch_id: str) -> list[str]:
    """A batch's items that are not final yet, in item order (the batch job's work)."""
    rows = await session.scalars(
        select(Run.id).where(Run.batch_id == batch_id, Run.status.in_(OPEN)).order_by(Run.id)
    )
    return list(rows)


async def latest_on_branch(
    session: AsyncSession, suite_id: uuid.UUID, branch: str, before: str, limit: int = 200
) -> Run | None:
    """The latest final run of the suite made before run id ``before`` whose
    ``trigger_meta.branch`` is ``branch`` (the "auto" baseline of a run comparison). The
    branch is matched here rather than in SQL: JSON paths differ between the backends."""
    rows = await session.scalars(
        select(Run)
        .where(Run.suite_id == suite_id, Run.id < before, Run.status.in_(FINAL))
        .order_by(Run.id.desc())
        .limit(limit)
    )
    return next((run for run in rows if (run.trigger_meta or {}).get("branch") == branch), None)


async def list_page(
    session: AsyncSession, suite_id: uuid.UUID, status: str | None, offset: int, limit: int
) -> tuple[list[Run], int]:
    where = [Run.suite_id == suite_id]
    if status is not None:
        where.append(Run.status == status)
    total = await session.scalar(select(func.count()).select_from(Run).where(*where))
    rows = await session.scalars(
        select(Run).where(*where).order_by(Run.id.desc()).offset(offset).limit(limit)
    )
    return list(rows), int(total or 0)


async def open_run_ids(session: AsyncSession) -> list[tuple[str, str | None]]:
    """Every open run, with its batch (None for a run of its own)."""
    rows = await session.execute(
        select(Run.id, Run.batch_id).where(Run.status.in_(OPEN)).order_by(Run.id)
    )
    return [(run_id, batch_id) for run_id, batch_id in rows.all()]


def add(session: AsyncSession, run: Run) -> Run:
    session.add(run)
    return run


def _lapsed(now: Any) -> ColumnElement[bool]:
    """Running, but no live worker holds it: its lease ran out (or was released)."""
    return and_(
        Run.status == "running", or_(Run.lease_expires_at.is_(None), Run.lease_expires_at < now)
    )


async def claim(session: AsyncSession, run_id: str, now: Any, lease_until: Any) -> bool:
    """Pending → running, held until ``lease_until``; or take over a running run whose
    lease ran out (its worker died). A run picked up again keeps the moment it first
    started. False when the run is final, unknown, or held by a live worker."""
    result = await session.execute(
        update(Run)
        .where(Run.id == run_id, or_(Run.status == "pending", _lapsed(now)))
        .values(
            status="running",
            started_at=func.coalesce(Run.started_at, now),
            lease_expires_at=lease_until,
        )
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]


async def claim_batch(
    session: AsyncSession, batch_id: str, now: Any, lease_until: Any
) -> list[str]:
    """``claim`` for every open item of a batch at once: the ids now held until
    ``lease_until``, in item order."""
    result = await session.execute(
        update(Run)
        .where(Run.batch_id == batch_id, or_(Run.status == "pending", _lapsed(now)))
        .values(
            status="running",
            started_at=func.coalesce(Run.started_at, now),
            lease_expires_at=lease_until,
        )
        .returning(Run.id)
    )
    return sorted(result.scalars())


async def runs_by_id(session: AsyncSession, run_ids: list[str]) -> list[Run]:
    if not run_ids:
        return []
    rows = await session.scalars(select(Run).where(Run.id.in_(run_ids)).order_by(Run.id))
    return list(rows)


async def renew_leases(session: AsyncSession, run_ids: list[str], lease_until: Any) -> int:
    result = await session.execute(
        update(Run)
        .where(Run.id.in_(run_ids), Run.status == "running")
        .values(lease_expires_at=lease_until)
    )
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


async def renew_lease(session: AsyncSession, run_id: str, lease_until: Any) -> bool:
    result = await session.execute(
        update(Run)
        .where(Run.id == run_id, Run.status == "running")
        .values(lease_expires_at=lease_until)
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]


async def release_leases(session: AsyncSession) -> int:
    """Every running run becomes claimable at once: for a process that knows it is the
    only one (the embedded mode at start), whose runs' earlier worker is gone."""
    result = await session.execute(
        update(Run)
        .where(Run.status == "running", Run.lease_expires_at.is_not(None))
        .values(lease_expires_at=None)
    )
    return int(result.rowcount)  # type: ignore[attr-defined]


async def stale_run_ids(
    session: AsyncSession, now: Any, pending_before: Any, limit: int = 1000
) -> list[str]:
    """Runs no worker is on: pending since before ``pending_before`` (their job was lost
    with a queue that restarted empty, say) or running with a lapsed lease."""
    forgotten = and_(Run.status == "pending", Run.created_at < pending_before)
    rows = await session.scalars(
        select(Run.id).where(or_(_lapsed(now), forgotten)).order_by(Run.id).limit(limit)
    )
    return list(rows)


async def complete(
    session: AsyncSession, run_id: str, values: dict[str, Any], started_at: Any
) -> Any | None:
    """Finish a run once: the update only matches while the run is still open, so a job
    delivered twice cannot complete (or bill) it twice. ``started_at`` fills in only when
    the run was not marked running first. Returns the run's ``started_at`` as stored, or
    None when the run was no longer open."""
    result = await session.execute(
        update(Run)
        .where(Run.id == run_id, Run.status.in_(OPEN))
        .values(
            **values, started_at=func.coalesce(Run.started_at, started_at), lease_expires_at=None
        )
        .returning(Run.started_at)
    )
    return result.scalar_one_or_none()


_INSERT_RUNS = insert(cast(Table, Run.__table__))
_RUN_COLUMNS = cast(Table, Run.__table__).columns
_RUN_COLUMN_NAMES = frozenset(c.name for c in _RUN_COLUMNS)


def insert_rows(connection: Connection, rows: list[dict[str, Any]]) -> None:
    """Core insert of whole rows: one executemany, no unit-of-work bookkeeping."""
    connection.execute(_INSERT_RUNS, rows)


def whole_row(row: dict[str, Any]) -> bool:
    """Whether ``row`` names every column of a run and nothing else, as
    ``insert_row_direct`` needs (it has no column defaults to fall back on)."""
    return row.keys() == _RUN_COLUMN_NAMES


def insert_row_direct(
    connection: Connection, row: dict[str, Any], then: tuple[str, dict[str, Any]] | None
) -> None:
    """One whole run row, and the statement ``then`` (its SQL for psycopg and its
    parameters) in the same statement, written by psycopg itself in autocommit: on
    PostgreSQL a one-run batch of the run writer is then one round trip and one
    statement's CPU rather than a transaction of SQLAlchemy executions (BEGIN, INSERT,
    the usage upsert, COMMIT: 0.6 → 0.16 ms of CPU, 1.4 → 0.7 ms in a scratch loop,
    bench/RESULTS.md). Each value goes through its column type's own bind processor for
    the connection's dialect, as SQLAlchemy's execution would send it (JSON with the
    engine's serializer, None as SQL NULL, datetimes in UTC). ``then``'s parameters share
    the row's names only where their values are the row's (``org_id``)."""
    params = dict(row)
    for name, process in _binders(connection.dialect):
        params[name] = process(params[name])
    sql = _insert_sql()
    if then is not None:
        then_sql, then_params = then
        shared = then_params.keys() & params.keys()
        if any(then_params[name] != params[name] for name in shared):
            raise ValueError(f"parameters {sorted(shared)} differ between the run and {then_sql!r}")
        sql = _with_stored(sql, then_sql)
        params |= then_params
    driver_execute_autocommit(connection, sql, params)


@functools.lru_cache(maxsize=8)
def _binders(dialect: Dialect) -> tuple[tuple[str, Callable[[Any], Any]], ...]:
    """The run columns whose type converts a value on its way to ``dialect``'s driver,
    with the conversion (made once per engine's dialect)."""
    found = []
    for column in _RUN_COLUMNS:
        process = column.type.dialect_impl(dialect).bind_processor(dialect)
        if process is not None:
            found.append((column.name, process))
    return tuple(found)


@functools.cache
def _insert_sql() -> str:
    return compile_for_driver(_INSERT_RUNS)[0]


@functools.cache
def _with_stored(insert_sql: str, then_sql: str) -> str:
    """The insert as a data-modifying CTE of ``then``: PostgreSQL runs both as one
    statement, so both are written or neither."""
    return f"WITH stored AS ({insert_sql}) {then_sql}"


async def cached_verdicts(
    session: AsyncSession, org_id: uuid.UUID, keys: set[str], now: Any
) -> dict[str, tuple[float, dict[str, Any]]]:
    rows = await session.execute(
        select(JudgeVerdict.cache_key, JudgeVerdict.score, JudgeVerdict.details).where(
            JudgeVerdict.org_id == org_id,
            JudgeVerdict.cache_key.in_(keys),
            JudgeVerdict.expires_at > now,
        )
    )
    return {key: (score, details) for key, score, details in rows.all()}


async def store_verdicts(
    session: AsyncSession,
    org_id: uuid.UUID,
    fresh: dict[str, tuple[float, dict[str, Any], int]],
    now: Any,
) -> None:
    """Replace (or add) the org's cached verdicts for these keys."""
    if not fresh:
        return
    await session.execute(
        delete(JudgeVerdict).where(JudgeVerdict.org_id == org_id, JudgeVerdict.cache_key.in_(fresh))
    )
    session.add_all(
        JudgeVerdict(
            org_id=org_id,
            cache_key=key,
            score=score,
            details=details,
            expires_at=now + timedelta(seconds=ttl),
        )
        for key, (score, details, ttl) in fresh.items()
    )
