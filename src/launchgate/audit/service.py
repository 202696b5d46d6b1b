from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from launchgate.audit import repository
from launchgate.kit.auth_context import AuthContext
from launchgate.kit.time import utcnow
from launchgate.models import AuditEvent


def _actor(auth: AuthContext | None) -> tuple[str, uuid.UUID | None]:
    if auth is None:
        return "system", None
    if auth.auth_mode == "api_key":
        return "api_key", auth.api_key_id
    return "user", auth.user_id


def record(
    session: AsyncSession,
    org_id: uuid.UUID,
    auth: AuthContext | None,
    action: str,
    target_type: str,
    target_id: uuid.UUID | None,
    details: dict[str, Any] | None = None,
) -> None:
    """Add an event to the caller's transaction: it is kept exactly when the change is.
    ``details`` must hold metadata only (names, prefixes, providers), never a secret."""
    actor_type, actor_id = _actor(auth)
    repository.add(
        session,
        AuditEvent(
            org_id=org_id,
            action=action,
            actor_type=actor_type,
            actor_id=actor_id,
            target_type=target_type,
            target_id=target_id,
            details=details or {},
            created_at=utcnow(),
        ),
    )


async def list_events(
    session: AsyncSession, auth: AuthContext, offset: int, limit: int
) -> tuple[list[AuditEvent], int]:
    return await repository.list_page(session, auth.org_id, offset, limit)
