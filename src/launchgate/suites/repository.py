from __future__ import annotations

import uuid

from sqlalchemy import case, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from launchgate.models import Case, Project, Suite


async def by_slug(
    session: AsyncSession, org_id: uuid.UUID, project_id: uuid.UUID, slug: str
) -> Suite | None:
    result = await session.execute(
        select(Suite).where(
            Suite.org_id == org_id, Suite.project_id == project_id, Suite.slug == slug
        )
    )
    return result.scalar_one_or_none()


async def by_id(session: AsyncSession, org_id: uuid.UUID, suite_id: uuid.UUID) -> Suite | None:
    result = await session.execute(
        select(Suite).where(Suite.org_id == org_id, Suite.id == suite_id)
    )
    return result.scalar_one_or_none()


async def find_by_slug(
    session: AsyncSession, org_id: uuid.UUID, slug: str, project_slug: str | None
) -> list[tuple[Suite, str]]:
    """Every suite with this slug in the organisation, with its project's slug."""
    query = (
        select(Suite, Project.slug)
        .join(Project, Project.id == Suite.project_id)
        .where(Suite.org_id == org_id, Suite.slug == slug)
    )
    if project_slug is not None:
        query = query.where(Project.slug == project_slug)
    result = await session.execute(query.order_by(Project.slug))
    return [(row[0], row[1]) for row in result.all()]


async def case_counts(
    session: AsyncSession, suite_ids: list[uuid.UUID]
) -> dict[uuid.UUID, tuple[int, int]]:
    """``suite_id → (cases, active cases)``, soft-deleted cases left out."""
    if not suite_ids:
        return {}
    active = func.sum(case((Case.is_active.is_(True), 1), else_=0))
    result = await session.execute(
        select(Case.suite_id, func.count(), active)
        .where(Case.suite_id.in_(suite_ids), Case.deleted_at.is_(None))
        .group_by(Case.suite_id)
    )
    return {sid: (int(total), int(act or 0)) for sid, total, act in result.all()}


async def list_page(
    session: AsyncSession, org_id: uuid.UUID, project_id: uuid.UUID, offset: int, limit: int
) -> tuple[list[Suite], int]:
    where = [Suite.org_id == org_id, Suite.project_id == project_id]
    total = await session.scalar(select(func.count()).select_from(Suite).where(*where))
    rows = await session.scalars(
        select(Suite).where(*where).order_by(Suite.created_at, Suite.id).offset(offset).limit(limit)
    )
    return list(rows), int(total or 0)


def add(session: AsyncSession, suite: Suite) -> Suite:
    session.add(suite)
    return suite


async def delete(session: AsyncSession, suite: Suite) -> None:
    await session.delete(suite)
