from __future__ import annotations

import uuid

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from launchgate.models import AuditEvent


def add(session: AsyncSession, event: AuditEvent) -> AuditEvent:
    session.add(event)
    return event


async def list_page(
    session: AsyncSession, org_id: uuid.UUID, offset: int, limit: int
) -> tuple[list[AuditEvent], int]:
    where = AuditEvent.org_id == org_id
    total = await session.scalar(select(func.count()).select_from(AuditEvent).where(where))
    rows = await session.scalars(
        select(AuditEvent)
        .where(where)
        .order_by(AuditEvent.created_at.desc(), AuditEvent.id.desc())
        .offset(offset)
        .limit(limit)
    )
    return list(rows), int(total or 0)
