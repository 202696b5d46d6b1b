from __future__ import annotations

import uuid

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from launchgate.models import Project


async def by_slug(session: AsyncSession, org_id: uuid.UUID, slug: str) -> Project | None:
    result = await session.execute(
        select(Project).where(Project.org_id == org_id, Project.slug == slug)
    )
    return result.scalar_one_or_none()


async def by_id(session: AsyncSession, org_id: uuid.UUID, project_id: uuid.UUID) -> Project | None:
    result = await session.execute(
        select(Project).where(Project.org_id == org_id, Project.id == project_id)
    )
    return result.scalar_one_or_none()


async def slug_taken(session: AsyncSession, org_id: uuid.UUID, slug: str) -> bool:
    return await by_slug(session, org_id, slug) is not None


async def list_page(
    session: AsyncSession, org_id: uuid.UUID, offset: int, limit: int
) -> tuple[list[Project], int]:
    where = Project.org_id == org_id
    total = await session.scalar(select(func.count()).select_from(Project).where(where))
    rows = await session.scalars(
        select(Project)
        .where(where)
        .order_by(Project.created_at, Project.id)
        .offset(offset)
        .limit(limit)
    )
    return list(rows), int(total or 0)


def add(session: AsyncSession, project: Project) -> Project:
    session.add(project)
    return project


async def delete(session: AsyncSession, project: Project) -> None:
    await session.delete(project)
