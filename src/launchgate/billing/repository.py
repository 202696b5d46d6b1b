from __future__ import annotations

import functools
import uuid
from typing import Any, cast

from sqlalchemy import Table, bindparam, delete, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncSession

from launchgate.models import Batch, Organisation, Run, UsageCounter


async def runs_in_period(session: AsyncSession, org_id: uuid.UUID, period: str) -> int:
    value = await session.scalar(
        select(UsageCounter.runs).where(
            UsageCounter.org_id == org_id, UsageCounter.period == period
        )
    )
    return int(value or 0)


@functools.cache
def _upsert(dialect: str) -> Any:
    """Atomic upsert: concurrent runs of one organisation never lose a count. Built once
    per dialect with bind parameters: building it costs more than running it."""
    insert = pg_insert if dialect == "postgresql" else sqlite_insert
    table = cast(Table, UsageCounter.__table__)
    statement = insert(table).values(
        org_id=bindparam("org_id"), period=bindparam("period"), runs=bindparam("runs")
    )
    return statement.on_conflict_do_update(
        index_elements=[table.c.org_id, table.c.period],
        set_={"runs": table.c.runs + statement.excluded.runs},
    )


async def add_runs(session: AsyncSession, org_id: uuid.UUID, period: str, runs: int) -> None:
    dialect = session.bind.dialect.name if session.bind else "sqlite"
    await session.execute(_upsert(dialect), {"org_id": org_id, "period": period, "runs": runs})


def add_runs_sync(connection: Connection, org_id: uuid.UUID, period: str, runs: int) -> None:
    connection.execute(
        _upsert(connection.dialect.name), {"org_id": org_id, "period": period, "runs": runs}
    )


async def organisations(session: AsyncSession) -> list[Organisation]:
    return list(await session.scalars(select(Organisation)))


async def delete_runs_before(session: AsyncSession, org_id: uuid.UUID, cutoff: object) -> int:
    """Runs and batches past retention: a batch goes with its items (those made with it
    are as old), so none is left pointing at runs that no longer exist."""
    await session.execute(delete(Batch).where(Batch.org_id == org_id, Batch.created_at < cutoff))
    result = await session.execute(delete(Run).where(Run.org_id == org_id, Run.created_at < cutoff))
    return int(result.rowcount or 0)  # type: ignore[attr-defined]
