from __future__ import annotations

import uuid
from typing import cast

from sqlalchemy import Table, bindparam, select
from sqlalchemy.ext.asyncio import AsyncSession

from launchgate.kit.auth_context import AuthContext
from launchgate.models import Organisation, User


async def get(session: AsyncSession, org_id: uuid.UUID) -> Organisation | None:
    return await session.get(Organisation, org_id)


def add(session: AsyncSession, org: Organisation) -> Organisation:
    session.add(org)
    return org


_ORGS = cast(Table, Organisation.__table__)
# Built once with a bind parameter, so its cache key is too (issue 17).
_FACTS = select(_ORGS.c.plan, _ORGS.c.config_version).where(_ORGS.c.id == bindparam("org_id"))


async def facts(session: AsyncSession, org_id: uuid.UUID) -> tuple[str, int] | None:
    """``(plan, config_version)`` in one narrow query: all the hot path needs of the org."""
    row = (await session.execute(_FACTS, {"org_id": org_id})).first()
    return None if row is None else (row[0], row[1])


async def user_role(session: AsyncSession, auth: AuthContext) -> str | None:
    """The signed-in caller's role in its organisation (None: not one of its users)."""
    if auth.user_id is None:
        return None
    return await session.scalar(
        select(User.role).where(User.id == auth.user_id, User.org_id == auth.org_id)
    )
