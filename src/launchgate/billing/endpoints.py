from __future__ import annotations

from fastapi import APIRouter
from pydantic import BaseModel

from launchgate.billing import service
from launchgate.deps import CurrentAuth, RuntimeDep, SessionDep

router = APIRouter(prefix="/billing", tags=["billing"])


class UsageOut(BaseModel):
    """Not wrapped in ``data``: clients depend on this shape (SPEC §2)."""

    plan: str
    plan_name: str
    monthly_limit: int | None
    current_usage: int
    retention_days: int | None
    usage_percentage: float


@router.get("/usage", response_model=UsageOut)
async def get_usage(auth: CurrentAuth, session: SessionDep, runtime: RuntimeDep) -> UsageOut:
    found = await service.usage(session, auth.org_id, runtime.settings.enterprise_retention_days)
    return UsageOut.model_validate(found.__dict__)
