"""The caller's own organisation: ``GET/PATCH /v1/organization`` (docs/cost.md)."""

from __future__ import annotations

from fastapi import APIRouter

from launchgate.deps import CurrentAuth, SessionDep
from launchgate.kit.pagination import Envelope
from launchgate.orgs import service
from launchgate.orgs.schemas import OrganizationOut, OrganizationUpdate

router = APIRouter(prefix="/organization", tags=["organization"])


@router.get("", response_model=Envelope[OrganizationOut])
async def get_organization(auth: CurrentAuth, session: SessionDep) -> Envelope[OrganizationOut]:
    found = await service.organization(session, auth)
    return Envelope(data=OrganizationOut.model_validate(found))


@router.patch("", response_model=Envelope[OrganizationOut])
async def update_organization(
    body: OrganizationUpdate, auth: CurrentAuth, session: SessionDep
) -> Envelope[OrganizationOut]:
    changes = body.model_dump(include=body.model_fields_set)
    found = await service.update_settings(session, auth, changes)
    return Envelope(data=OrganizationOut.model_validate(found))
