from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from launchgate.models import Batch, Run

FINAL_RUN = ("cleared", "aborted", "error", "inconclusive")


def add(session: AsyncSession, batch: Batch) -> Batch:
    session.add(batch)
    return batch


async def add_runs(session: AsyncSession, rows: Sequence[dict[str, Any]]) -> None:
    """The items' runs in one statement: a thousand ORM objects would cost more than
    scoring them."""
    if rows:
        await session.execute(insert(Run), list(rows))


async def get(session: AsyncSession, org_id: uuid.UUID, batch_id: str) -> Batch | None:
    return await session.scalar(select(Batch).where(Batch.id == batch_id, Batch.org_id == org_id))


async def list_page(
    session: AsyncSession, suite_id: uuid.UUID, offset: int, limit: int
) -> tuple[list[Batch], int]:
    where = Batch.suite_id == suite_id
    total = await session.scalar(select(func.count()).select_from(Batch).where(where))
    rows = await session.scalars(
        select(Batch).where(where).order_by(Batch.id.desc()).offset(offset).limit(limit)
    )
    return list(rows), int(total or 0)


async def recent(
    session: AsyncSession, suite_id: uuid.UUID, before: datetime | None, limit: int = 100
) -> list[Batch]:
    """The suite's latest batches, newest first: the candidates for an "auto" baseline."""
    query = select(Batch).where(Batch.suite_id == suite_id)
    if before is not None:
        query = query.where(Batch.created_at < before)
    return list(await session.scalars(query.order_by(Batch.id.desc()).limit(limit)))


async def status_counts(session: AsyncSession, batch_id: str) -> dict[str, int]:
    rows = await session.execute(
        select(Run.status, func.count()).where(Run.batch_id == batch_id).group_by(Run.status)
    )
    return {status: int(count) for status, count in rows.all()}


async def finished_items(
    session: AsyncSession, batch_id: str
) -> list[tuple[str, str | None, list[dict[str, Any]]]]:
    """Every item's (run status, key, case scores), in item order."""
    rows = await session.execute(
        select(Run.status, Run.item_key, Run.scores)
        .where(Run.batch_id == batch_id)
        .order_by(Run.id)
    )
    return [(status, key, scores or []) for status, key, scores in rows.all()]


async def item_snapshot(session: AsyncSession, batch_id: str) -> dict[str, Any] | None:
    """The suite snapshot the batch's items were made with (all share one)."""
    return await session.scalar(
        select(Run.snapshot).where(Run.batch_id == batch_id).order_by(Run.id).limit(1)
    )


async def items_page(
    session: AsyncSession, batch_id: str, offset: int, limit: int
) -> tuple[list[Run], int]:
    where = Run.batch_id == batch_id
    total = await session.scalar(select(func.count()).select_from(Run).where(where))
    rows = await session.scalars(
        select(Run).where(where).order_by(Run.id).offset(offset).limit(limit)
    )
    return list(rows), int(total or 0)


async def complete(session: AsyncSession, batch_id: str, values: dict[str, Any]) -> bool:
    """Conditional: only a running batch completes, so two readers that both see its last
    item finish write it once."""
    result = await session.execute(
        update(Batch)
        .where(Batch.id == batch_id, Batch.status == "running")
        .values(**values)
        .execution_options(synchronize_session=False)
    )
    return bool(getattr(result, "rowcount", 0))


async def items_cost(session: AsyncSession, batch_id: str) -> tuple[float, int, int]:
    """Over the batch's final items: the sum of their runs' ``cost_usd``, how many have
    none (unpriced), and how many are final."""
    row = (
        await session.execute(
            select(
                func.coalesce(func.sum(Run.cost_usd), 0.0),
                func.count(Run.id) - func.count(Run.cost_usd),
                func.count(Run.id),
            ).where(Run.batch_id == batch_id, Run.status.in_(FINAL_RUN))
        )
    ).one()
    return float(row[0] or 0.0), int(row[1] or 0), int(row[2] or 0)
