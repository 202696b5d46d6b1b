from __future__ import annotations

import uuid

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from launchgate.kit.auth_context import AuthContext
from launchgate.models import Organisation, User


async def get(session: AsyncSession, org_id: uuid.UUID) -> Organisation | None:
    return await session.get(Organisation, org_id)


def add(session: AsyncSession, org: Organisation) -> Organisation:
    session.add(org)
    return org


async def facts(session: AsyncSession, org_id: uuid.UUID) -> tuple[str, int] | None:
    """``(plan, config_version)`` in one narrow query: all the hot path needs of the org."""
    table = Organisation.__table__
    row = (
        await session.execute(
            select(table.c.plan, table.c.config_version).where(table.c.id == org_id)
        )
    ).first()
    return None if row is None else (row[0], row[1])


async def user_role(session: AsyncSession, auth: AuthContext) -> str | None:
    """The signed-in caller's role in its organisation (None: not one of its users)."""
    if auth.user_id is None:
        return None
    return await session.scalar(
        select(User.role).where(User.id == auth.user_id, User.org_id == auth.org_id)
    )
