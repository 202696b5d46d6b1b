from __future__ import annotations

import uuid
from collections.abc import Iterable
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from launchgate.models import Case, Scorer


def _live(org_id: uuid.UUID) -> list[Any]:
    return [Scorer.org_id == org_id, Scorer.deleted_at.is_(None)]


async def get(session: AsyncSession, org_id: uuid.UUID, scorer_id: uuid.UUID) -> Scorer | None:
    result = await session.execute(select(Scorer).where(Scorer.id == scorer_id, *_live(org_id)))
    return result.scalar_one_or_none()


async def get_many(
    session: AsyncSession, org_id: uuid.UUID, scorer_ids: Iterable[uuid.UUID]
) -> dict[uuid.UUID, Scorer]:
    ids = set(scorer_ids)
    if not ids:
        return {}
    rows = await session.scalars(select(Scorer).where(Scorer.id.in_(ids), *_live(org_id)))
    return {s.id: s for s in rows}


async def name_taken(
    session: AsyncSession,
    org_id: uuid.UUID,
    project_id: uuid.UUID,
    name: str,
    exclude: uuid.UUID | None = None,
) -> bool:
    query = select(Scorer.id).where(
        Scorer.project_id == project_id, Scorer.name == name, *_live(org_id)
    )
    if exclude is not None:
        query = query.where(Scorer.id != exclude)
    return (await session.scalar(query.limit(1))) is not None


async def list_page(
    session: AsyncSession, org_id: uuid.UUID, project_id: uuid.UUID, offset: int, limit: int
) -> tuple[list[Scorer], int]:
    where = [Scorer.project_id == project_id, *_live(org_id)]
    total = await session.scalar(select(func.count()).select_from(Scorer).where(*where))
    rows = await session.scalars(
        select(Scorer)
        .where(*where)
        .order_by(Scorer.created_at, Scorer.id)
        .offset(offset)
        .limit(limit)
    )
    return list(rows), int(total or 0)


async def in_use_by_active_cases(session: AsyncSession, scorer_id: uuid.UUID) -> int:
    count = await session.scalar(
        select(func.count())
        .select_from(Case)
        .where(Case.scorer_id == scorer_id, Case.deleted_at.is_(None), Case.is_active.is_(True))
    )
    return int(count or 0)


def add(session: AsyncSession, scorer: Scorer) -> Scorer:
    session.add(scorer)
    return scorer
