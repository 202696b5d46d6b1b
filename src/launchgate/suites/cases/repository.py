from __future__ import annotations

import uuid

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from launchgate.models import Case


async def get(session: AsyncSession, org_id: uuid.UUID, case_id: uuid.UUID) -> Case | None:
    result = await session.execute(
        select(Case).where(Case.id == case_id, Case.org_id == org_id, Case.deleted_at.is_(None))
    )
    return result.scalar_one_or_none()


async def all_in_suite(session: AsyncSession, suite_id: uuid.UUID) -> list[Case]:
    rows = await session.scalars(
        select(Case)
        .where(Case.suite_id == suite_id, Case.deleted_at.is_(None))
        .order_by(Case.position, Case.created_at)
    )
    return list(rows)


async def active_in_suite(session: AsyncSession, suite_id: uuid.UUID) -> list[Case]:
    rows = await session.scalars(
        select(Case)
        .where(Case.suite_id == suite_id, Case.deleted_at.is_(None), Case.is_active.is_(True))
        .order_by(Case.position, Case.created_at)
    )
    return list(rows)


async def list_page(
    session: AsyncSession, suite_id: uuid.UUID, offset: int, limit: int
) -> tuple[list[Case], int]:
    where = [Case.suite_id == suite_id, Case.deleted_at.is_(None)]
    total = await session.scalar(select(func.count()).select_from(Case).where(*where))
    rows = await session.scalars(
        select(Case)
        .where(*where)
        .order_by(Case.position, Case.created_at)
        .offset(offset)
        .limit(limit)
    )
    return list(rows), int(total or 0)


async def next_position(session: AsyncSession, suite_id: uuid.UUID) -> int:
    top = await session.scalar(select(func.max(Case.position)).where(Case.suite_id == suite_id))
    return 0 if top is None else int(top) + 1


def add(session: AsyncSession, case: Case) -> Case:
    session.add(case)
    return case
