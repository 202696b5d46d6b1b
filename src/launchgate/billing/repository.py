from __future__ import annotations

import functools
import uuid
from datetime import date
from typing import Any, cast

from sqlalchemy import Table, bindparam, delete, func, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncSession

from launchgate.billing.costs import TOKEN_FIELDS
from launchgate.db import compile_for_driver
from launchgate.models import Batch, JudgeSpend, Organisation, Run, UsageCounter


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


def runs_upsert_for_driver(org_id: uuid.UUID, period: str, runs: int) -> tuple[str, dict[str, Any]]:
    """``add_runs_sync``'s upsert as psycopg's text and parameters (PostgreSQL), for a
    statement run by the driver itself (runs/repository.py's ``insert_row_direct``)."""
    sql, literal = compile_for_driver(_upsert("postgresql"))
    return sql, {**literal, "org_id": org_id, "period": period, "runs": runs}


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


# --- judge spend (docs/cost.md) ----------------------------------------------------------

_SPEND_COUNTS = ("calls", *TOKEN_FIELDS)


@functools.cache
def _spend_upsert(dialect: str) -> Any:
    """Add a run's spend to its (org, day, provider, model) row, atomically: runs of one
    organisation complete concurrently. A None cost stays None (unpriced is sticky)."""
    insert = pg_insert if dialect == "postgresql" else sqlite_insert
    table = cast(Table, JudgeSpend.__table__)
    names = ("org_id", "day", "provider", "model", *_SPEND_COUNTS, "cost_usd")
    statement = insert(table).values({name: bindparam(name) for name in names})
    updates: dict[str, Any] = {
        name: table.c[name] + statement.excluded[name] for name in _SPEND_COUNTS
    }
    updates["cost_usd"] = table.c.cost_usd + statement.excluded.cost_usd
    return statement.on_conflict_do_update(
        index_elements=[table.c.org_id, table.c.day, table.c.provider, table.c.model],
        set_=updates,
    )


def _merged(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """One row per key: an upsert sent as one multi-row statement may not touch a row
    twice (PostgreSQL refuses), and a group of runs often shares its day and model."""
    merged: dict[tuple[Any, ...], dict[str, Any]] = {}
    for row in rows:
        key = (row["org_id"], row["day"], row["provider"], row["model"])
        found = merged.get(key)
        if found is None:
            merged[key] = dict(row)
            continue
        for name in _SPEND_COUNTS:
            found[name] += row[name]
        cost = row["cost_usd"]
        found["cost_usd"] = (
            None if cost is None or found["cost_usd"] is None else (found["cost_usd"] + cost)
        )
    return list(merged.values())


async def add_spend(session: AsyncSession, rows: list[dict[str, Any]]) -> None:
    if rows:
        dialect = session.bind.dialect.name if session.bind else "sqlite"
        await session.execute(_spend_upsert(dialect), _merged(rows))


def add_spend_sync(connection: Connection, rows: list[dict[str, Any]]) -> None:
    if rows:
        connection.execute(_spend_upsert(connection.dialect.name), _merged(rows))


async def month_spend(session: AsyncSession, org_id: uuid.UUID, first: date, end: date) -> float:
    """The priced spend of the days in [first, end): what a budget is measured against."""
    value = await session.scalar(
        select(func.coalesce(func.sum(JudgeSpend.cost_usd), 0.0)).where(
            JudgeSpend.org_id == org_id, JudgeSpend.day >= first, JudgeSpend.day < end
        )
    )
    return float(value or 0.0)


async def spend_rows(
    session: AsyncSession, org_id: uuid.UUID, first: date, end: date
) -> list[JudgeSpend]:
    rows = await session.scalars(
        select(JudgeSpend)
        .where(JudgeSpend.org_id == org_id, JudgeSpend.day >= first, JudgeSpend.day < end)
        .order_by(JudgeSpend.day, JudgeSpend.provider, JudgeSpend.model)
    )
    return list(rows)


async def token_totals(session: AsyncSession, org_id: uuid.UUID) -> list[tuple[str, str, int, int]]:
    """``(provider, model, input_tokens, estimated_input_tokens)`` over every day kept:
    the ratio of actual to estimated input tokens per model (dry runs' correction)."""
    rows = await session.execute(
        select(
            JudgeSpend.provider,
            JudgeSpend.model,
            func.sum(JudgeSpend.input_tokens),
            func.sum(JudgeSpend.estimated_input_tokens),
        )
        .where(JudgeSpend.org_id == org_id)
        .group_by(JudgeSpend.provider, JudgeSpend.model)
    )
    return [(p, m, int(i or 0), int(e or 0)) for p, m, i, e in rows.all()]


async def judge_budget(session: AsyncSession, org_id: uuid.UUID) -> float | None:
    value = await session.scalar(
        select(Organisation.judge_budget_usd_monthly).where(Organisation.id == org_id)
    )
    return None if value is None else float(value)
