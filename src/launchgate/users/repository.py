from __future__ import annotations

import uuid

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from launchgate.models import User


async def get(session: AsyncSession, user_id: uuid.UUID) -> User | None:
    return await session.get(User, user_id)


async def get_by_email(session: AsyncSession, email: str) -> User | None:
    result = await session.execute(select(User).where(User.email == email))
    return result.scalar_one_or_none()


def add(session: AsyncSession, user: User) -> User:
    session.add(user)
    return user


async def emails_by_id(
    session: AsyncSession, org_id: uuid.UUID, user_ids: set[uuid.UUID]
) -> dict[uuid.UUID, str]:
    rows = await session.execute(
        select(User.id, User.email).where(User.org_id == org_id, User.id.in_(user_ids))
    )
    return {user_id: email for user_id, email in rows.all()}
