from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from launchgate.models import ByokKey, Organisation


async def get(session: AsyncSession, org_id: uuid.UUID, key_id: uuid.UUID) -> ByokKey | None:
    result = await session.execute(
        select(ByokKey).where(ByokKey.id == key_id, ByokKey.org_id == org_id)
    )
    return result.scalar_one_or_none()


async def list_page(
    session: AsyncSession, org_id: uuid.UUID, provider: str | None, offset: int, limit: int
) -> tuple[list[ByokKey], int]:
    where = [ByokKey.org_id == org_id]
    if provider is not None:
        where.append(ByokKey.provider == provider)
    total = await session.scalar(select(func.count()).select_from(ByokKey).where(*where))
    rows = await session.scalars(
        select(ByokKey)
        .where(*where)
        .order_by(ByokKey.created_at, ByokKey.id)
        .offset(offset)
        .limit(limit)
    )
    return list(rows), int(total or 0)


async def default_for(session: AsyncSession, org_id: uuid.UUID, provider: str) -> ByokKey | None:
    result = await session.execute(
        select(ByokKey).where(
            ByokKey.org_id == org_id, ByokKey.provider == provider, ByokKey.is_default.is_(True)
        )
    )
    return result.scalar_one_or_none()


async def clear_default(session: AsyncSession, org_id: uuid.UUID, provider: str) -> None:
    await session.execute(
        update(ByokKey)
        .where(ByokKey.org_id == org_id, ByokKey.provider == provider, ByokKey.is_default.is_(True))
        .values(is_default=False)
    )


def add(session: AsyncSession, key: ByokKey) -> ByokKey:
    session.add(key)
    return key


async def lock_org(session: AsyncSession, org_id: uuid.UUID) -> None:
    """Serialise default changes of one organisation (a row lock on PostgreSQL; SQLite
    serialises writers anyway and ignores FOR UPDATE)."""
    await session.execute(
        select(Organisation.id).where(Organisation.id == org_id).with_for_update()
    )


# Rotation (byok/rotation.py): every organisation's keys, in keyset pages by id.


@dataclass(frozen=True)
class SealedRow:
    """A stored key as rotation sees it: its binding and its ciphertext (kept out of repr)."""

    id: uuid.UUID
    org_id: uuid.UUID
    provider: str
    ciphertext: str = field(repr=False)


async def sealed_after(
    session: AsyncSession, after: uuid.UUID | None, limit: int
) -> list[SealedRow]:
    """Non-revoked keys that hold a ciphertext, ordered by id, after ``after``."""
    query = select(ByokKey.id, ByokKey.org_id, ByokKey.provider, ByokKey.ciphertext).where(
        ByokKey.ciphertext.is_not(None), ByokKey.status != "revoked"
    )
    if after is not None:
        query = query.where(ByokKey.id > after)
    rows = await session.execute(query.order_by(ByokKey.id).limit(limit))
    return [
        SealedRow(key_id, org_id, provider, ciphertext)
        for key_id, org_id, provider, ciphertext in rows
        if ciphertext is not None
    ]


async def replace_ciphertext(session: AsyncSession, key_id: uuid.UUID, old: str, new: str) -> bool:
    """Swap in a resealed ciphertext, unless the row changed meanwhile (revoked, or sealed
    again by the server): then nothing is written and the answer is False."""
    result = await session.execute(
        update(ByokKey)
        .where(ByokKey.id == key_id, ByokKey.ciphertext == old, ByokKey.status != "revoked")
        # Re-encryption changes nothing the organisation sees: keep updated_at as it was.
        .values(ciphertext=new, updated_at=ByokKey.updated_at)
        .execution_options(synchronize_session=False)
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]


async def touch(
    session: AsyncSession, org_id: uuid.UUID, key_ids: set[uuid.UUID], at: datetime
) -> None:
    if key_ids:
        await session.execute(
            update(ByokKey)
            .where(ByokKey.org_id == org_id, ByokKey.id.in_(key_ids))
            .values(last_used_at=at)
        )


async def mark_invalid(session: AsyncSession, org_id: uuid.UUID, key_ids: set[uuid.UUID]) -> None:
    if key_ids:
        await session.execute(
            update(ByokKey)
            .where(ByokKey.org_id == org_id, ByokKey.id.in_(key_ids), ByokKey.status == "active")
            .values(status="invalid")
        )
