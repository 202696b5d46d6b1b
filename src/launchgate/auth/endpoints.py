from __future__ import annotations

from fastapi import APIRouter, Request

from launchgate.auth import service
from launchgate.auth.schemas import LoginRequest, TokenOut
from launchgate.deps import RuntimeDep, SessionDep
from launchgate.errors import Unauthorized
from launchgate.kit.pagination import Envelope

router = APIRouter(prefix="/auth", tags=["auth"])


@router.post("/login", response_model=Envelope[TokenOut])
async def login(
    body: LoginRequest, request: Request, runtime: RuntimeDep, session: SessionDep
) -> Envelope[TokenOut]:
    try:
        token = await service.login(session, runtime, body.email, body.password)
    except Unauthorized:
        if runtime.limits is not None and request.client is not None:
            await runtime.limits.record_auth_failure(request.client.host)
        raise
    return Envelope(data=TokenOut(access_token=token, expires_in=runtime.settings.jwt_ttl_s))
