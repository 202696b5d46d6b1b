from __future__ import annotations

from typing import Any
from uuid import UUID

from fastapi import APIRouter

from launchgate.audit import service
from launchgate.deps import CurrentAuth, SessionDep
from launchgate.kit.pagination import Page, Paging
from launchgate.kit.schema import Timestamp, WireModel

router = APIRouter(prefix="/audit-log", tags=["audit"])


class AuditEventOut(WireModel):
    id: UUID
    action: str
    actor_type: str
    actor_id: UUID | None
    target_type: str
    target_id: UUID | None
    details: dict[str, Any]
    created_at: Timestamp


@router.get("", response_model=Page[AuditEventOut])
async def list_audit_events(
    auth: CurrentAuth, session: SessionDep, paging: Paging
) -> Page[AuditEventOut]:
    """Newest first."""
    events, total = await service.list_events(session, auth, paging.offset, paging.page_size)
    return Page.of([AuditEventOut.model_validate(e) for e in events], total, paging)
