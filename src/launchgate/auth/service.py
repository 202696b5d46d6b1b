"""Turn an Authorization header into an ``AuthContext``, and email+password into a JWT."""

from __future__ import annotations

import asyncio
import uuid
from typing import TYPE_CHECKING

from sqlalchemy.ext.asyncio import AsyncSession

from launchgate.api_keys import service as api_key_service
from launchgate.auth.tokens import InvalidToken, issue_token, verify_own_token
from launchgate.auth.tokens import load as load_jwt
from launchgate.errors import Unauthorized
from launchgate.kit.auth_context import AuthContext
from launchgate.kit.passwords import verify_password
from launchgate.orgs import repository as orgs
from launchgate.users import repository as users

if TYPE_CHECKING:
    from launchgate.runtime import ApiRuntime


async def authenticate(
    session: AsyncSession, runtime: ApiRuntime, header: str | None, ip: str
) -> AuthContext:
    try:
        return await _authenticate(session, runtime, header)
    except Unauthorized:
        # A request that presents no credential is not an attempt to guess one.
        if runtime.limits is not None and header:
            await runtime.limits.record_auth_failure(ip)
        raise


async def _authenticate(
    session: AsyncSession, runtime: ApiRuntime, header: str | None
) -> AuthContext:
    if not header:
        raise Unauthorized("Missing Authorization header; send 'Authorization: Bearer <api key>'")
    scheme, _, credential = header.partition(" ")
    credential = credential.strip()
    if scheme.lower() != "bearer" or not credential:
        raise Unauthorized("Authorization header must be 'Bearer <api key or token>'")
    if credential.startswith(("lg_live_", "lg_test_")):
        return await api_key_service.authenticate(runtime.engine, credential, runtime.key_cache)
    if credential.count(".") != 2:
        # Not a JWT's three parts: a mistyped or foreign key. Its holder meant an API key,
        # and "Invalid API key" is what every other bad key is told (issue 12).
        raise Unauthorized("Invalid API key")
    await load_jwt()
    try:
        org_id, user_id = verify_own_token(runtime.jwt_secret, credential)
    except InvalidToken:
        if runtime.oidc is None:
            raise Unauthorized("Invalid or expired token") from None
        try:
            org_id, maybe_user = await runtime.oidc.verify(credential)
        except InvalidToken:
            raise Unauthorized("Invalid or expired token") from None
        return await _oidc_context(session, org_id, maybe_user)
    return await _user_context(session, org_id, user_id)


async def _user_context(
    session: AsyncSession, org_id: uuid.UUID, user_id: uuid.UUID
) -> AuthContext:
    user = await users.get(session, user_id)
    if user is None or user.org_id != org_id:
        raise Unauthorized("Invalid or expired token")
    return AuthContext(org_id=org_id, user_id=user_id, auth_mode="jwt")


async def session_context(session: AsyncSession, runtime: ApiRuntime, token: str) -> AuthContext:
    """The dashboard's caller, from the built-in JWT its session cookie holds.

    Only our own tokens: a cookie is set by our sign-in alone, so neither API keys nor OIDC
    tokens are accepted there. A bad or expired cookie is not counted towards the lockout
    (unlike a bad Bearer header): a browser coming back the next day presents one routinely,
    and the sign-in form it is sent to counts the attempts that matter.
    """
    await load_jwt()
    try:
        org_id, user_id = verify_own_token(runtime.jwt_secret, token)
    except InvalidToken:
        raise Unauthorized("Invalid or expired session") from None
    return await _user_context(session, org_id, user_id)


async def _oidc_context(
    session: AsyncSession, org_id: uuid.UUID, maybe_user: uuid.UUID | None
) -> AuthContext:
    # The issuer is trusted for identity, not for our rows: an org_id we do not know would
    # otherwise act as a tenant and fail later on a foreign key (a 500).
    if await orgs.get(session, org_id) is None:
        raise Unauthorized("Invalid or expired token")
    if maybe_user is not None:
        user = await users.get(session, maybe_user)
        if user is None or user.org_id != org_id:
            maybe_user = None  # a ``sub`` that is not one of this org's users names nobody here
    return AuthContext(org_id=org_id, user_id=maybe_user, auth_mode="jwt")


async def login(session: AsyncSession, runtime: ApiRuntime, email: str, password: str) -> str:
    user = await users.get_by_email(session, email.strip().lower())
    # argon2 takes a CPU-bound fraction of a second: off the event loop, or every other
    # request of the process waits for each login.
    verified = await asyncio.to_thread(
        verify_password, user.password_hash if user else None, password
    )
    if not verified or user is None:
        raise Unauthorized("Email or password is incorrect")
    await load_jwt()
    return issue_token(
        runtime.jwt_secret, user_id=user.id, org_id=user.org_id, ttl_s=runtime.settings.jwt_ttl_s
    )
