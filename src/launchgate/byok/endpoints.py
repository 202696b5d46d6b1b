from __future__ import annotations

from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Query, Response

from launchgate.byok import service
from launchgate.byok.schemas import (
    ByokKeyCreate,
    ByokKeyOut,
    ByokKeyUpdate,
    ByokTestResult,
    Provider,
)
from launchgate.deps import CurrentAuth, RuntimeDep, SessionDep
from launchgate.kit.pagination import Envelope, Page, Paging

router = APIRouter(prefix="/byok-keys", tags=["byok-keys"])
# A test key may read BYOK keys, not create, change, test or revoke them (api_keys/scope.py).
LIVE_ONLY: dict[int | str, dict[str, Any]] = {
    403: {"description": "FORBIDDEN: a test key (lg_test_) cannot manage credentials"}
}


@router.get("", response_model=Page[ByokKeyOut])
async def list_byok_keys(
    auth: CurrentAuth,
    session: SessionDep,
    paging: Paging,
    provider: Annotated[Provider | None, Query()] = None,
) -> Page[ByokKeyOut]:
    keys, total = await service.list_keys(session, auth, provider, paging.offset, paging.page_size)
    return Page.of([ByokKeyOut.model_validate(k) for k in keys], total, paging)


@router.post("", response_model=Envelope[ByokKeyOut], status_code=201, responses=LIVE_ONLY)
async def create_byok_key(
    body: ByokKeyCreate, auth: CurrentAuth, session: SessionDep, runtime: RuntimeDep
) -> Envelope[ByokKeyOut]:
    key = await service.create_key(session, runtime, auth, body)
    return Envelope(data=ByokKeyOut.model_validate(key))


@router.get("/{key_id}", response_model=Envelope[ByokKeyOut])
async def get_byok_key(
    key_id: UUID, auth: CurrentAuth, session: SessionDep
) -> Envelope[ByokKeyOut]:
    return Envelope(data=ByokKeyOut.model_validate(await service.get_key(session, auth, key_id)))


@router.patch("/{key_id}", response_model=Envelope[ByokKeyOut], responses=LIVE_ONLY)
async def update_byok_key(
    key_id: UUID,
    body: ByokKeyUpdate,
    auth: CurrentAuth,
    session: SessionDep,
    runtime: RuntimeDep,
) -> Envelope[ByokKeyOut]:
    key = await service.update_key(session, runtime, auth, key_id, body)
    return Envelope(data=ByokKeyOut.model_validate(key))


@router.delete("/{key_id}", status_code=204, response_class=Response, responses=LIVE_ONLY)
async def revoke_byok_key(key_id: UUID, auth: CurrentAuth, session: SessionDep) -> Response:
    await service.revoke_key(session, auth, key_id)
    return Response(status_code=204)


@router.post("/{key_id}/test", response_model=Envelope[ByokTestResult], responses=LIVE_ONLY)
async def test_byok_key(
    key_id: UUID, auth: CurrentAuth, session: SessionDep, runtime: RuntimeDep
) -> Envelope[ByokTestResult]:
    result = await service.test_key(session, runtime, auth, key_id)
    return Envelope(data=ByokTestResult.model_validate(result))
