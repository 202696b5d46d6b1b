from __future__ import annotations

import uuid

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from launchgate.models import ApiKey


async def by_hash(session: AsyncSession, key_hash: str) -> ApiKey | None:
    result = await session.execute(select(ApiKey).where(ApiKey.key_hash == key_hash))
    return result.scalar_one_or_none()


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
