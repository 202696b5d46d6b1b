from __future__ import annotations

import uuid

from sqlalchemy.ext.asyncio import AsyncSession

from launchgate.models import Organisation


async def get(session: AsyncSession, org_id: uuid.UUID) -> Organisation | None:
    return await session.get(Organisation, org_id)


def add(session: AsyncSession, org: Organisation) -> Organisation:
    session.add(org)
    return org
