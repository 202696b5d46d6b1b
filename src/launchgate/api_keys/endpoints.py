from __future__ import annotations

from typing import Any
from uuid import UUID

from fastapi import APIRouter, Response

from launchgate.api_keys import service
from launchgate.api_keys.schemas import ApiKeyCreate, ApiKeyCreated, ApiKeyOut
from launchgate.deps import CurrentAuth, RuntimeDep, SessionDep
from launchgate.kit.pagination import Envelope, Page, Paging

router = APIRouter(prefix="/api-keys", tags=["api-keys"])
# A test key may list keys, not create or revoke them (api_keys/scope.py).
LIVE_ONLY: dict[int | str, dict[str, Any]] = {
    403: {"description": "FORBIDDEN: a test key (lg_test_) cannot manage credentials"}
}


@router.get("", response_model=Page[ApiKeyOut])
async def list_api_keys(auth: CurrentAuth, session: SessionDep, paging: Paging) -> Page[ApiKeyOut]:
    keys, total = await service.list_keys(session, auth, paging.offset, paging.page_size)
    return Page.of([ApiKeyOut.model_validate(k) for k in keys], total, paging)


@router.post("", response_model=Envelope[ApiKeyCreated], status_code=201, responses=LIVE_ONLY)
async def create_api_key(
    body: ApiKeyCreate, auth: CurrentAuth, session: SessionDep
) -> Envelope[ApiKeyCreated]:
    created = await service.create_key(
        session,
        auth.org_id,
        name=body.name,
        mode=body.mode,
        expires_at=body.expires_at,
        auth=auth,
    )
    out = ApiKeyCreated.model_validate(
        {**ApiKeyOut.model_validate(created.key).__dict__, "key": created.secret}
    )
    return Envelope(data=out)


@router.delete("/{key_id}", status_code=204, response_class=Response, responses=LIVE_ONLY)
async def revoke_api_key(
    key_id: UUID, auth: CurrentAuth, session: SessionDep, runtime: RuntimeDep
) -> Response:
    await service.revoke_key(session, auth, key_id, runtime.key_cache)
    return Response(status_code=204)
