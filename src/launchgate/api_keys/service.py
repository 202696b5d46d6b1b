from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from sqlalchemy.ext.asyncio import AsyncSession

from launchgate.api_keys import repository
from launchgate.api_keys.cache import KeyCache
from launchgate.api_keys.scope import require_credential_scope
from launchgate.audit import service as audit
from launchgate.db import after_commit
from launchgate.errors import NotFound, Unauthorized, ValidationFailed
from launchgate.kit.auth_context import AuthContext
from launchgate.kit.crypto import random_base62, token_hash
from launchgate.kit.time import as_utc, utcnow
from launchgate.models import ApiKey

PREFIX_LENGTH = 12
TOUCH_EVERY_S = 60


@dataclass(frozen=True)
class CreatedKey:
    key: ApiKey
    secret: str

    def __repr__(self) -> str:  # the secret never reaches a log through a repr
        return f"CreatedKey(key_prefix={self.key.key_prefix!r}, secret='***')"


async def create_key(
    session: AsyncSession,
    org_id: uuid.UUID,
    *,
    name: str,
    mode: Literal["live", "test"],
    expires_at: datetime | None = None,
    auth: AuthContext | None = None,
) -> CreatedKey:
    require_credential_scope(auth, "create API keys")
    if expires_at is not None and as_utc(expires_at) <= utcnow():
        raise ValidationFailed(
            "expires_at must be in the future",
            details=[{"field": "expires_at", "message": "in the past"}],
        )
    secret = f"lg_{mode}_" + random_base62(32)
    key = repository.add(
        session,
        ApiKey(
            org_id=org_id,
            name=name,
            mode=mode,
            key_prefix=secret[:PREFIX_LENGTH],
            key_hash=token_hash(secret),
            expires_at=expires_at,
            created_at=utcnow(),
        ),
    )
    await session.flush()
    audit.record(
        session,
        org_id,
        auth,
        "api_key.created",
        "api_key",
        key.id,
        {"name": name, "mode": mode, "key_prefix": key.key_prefix},
    )
    return CreatedKey(key=key, secret=secret)


async def authenticate(
    session: AsyncSession, secret: str, cache: KeyCache | None = None
) -> AuthContext:
    key_hash = token_hash(secret)
    now = utcnow()
    cached = cache.get(key_hash, now) if cache is not None else None
    if cached is not None:
        return cached
    key = await repository.by_hash(session, key_hash)
    if key is None or key.revoked_at is not None:
        raise Unauthorized("Invalid API key")
    if key.expires_at is not None and key.expires_at <= now:
        raise Unauthorized("API key has expired")
    # Touch at most once a minute: a write on every request would cost the hot path.
    if key.last_used_at is None or (now - key.last_used_at).total_seconds() > TOUCH_EVERY_S:
        key.last_used_at = now
    context = AuthContext(
        org_id=key.org_id,
        auth_mode="api_key",
        api_key_id=key.id,
        key_mode="test" if key.mode == "test" else "live",
    )
    if cache is not None:
        cache.put(key_hash, context, key.expires_at)
    return context


async def list_keys(
    session: AsyncSession, auth: AuthContext, offset: int, limit: int
) -> tuple[list[ApiKey], int]:
    return await repository.list_page(session, auth.org_id, offset, limit)


async def revoke_key(
    session: AsyncSession, auth: AuthContext, key_id: uuid.UUID, cache: KeyCache | None = None
) -> None:
    require_credential_scope(auth, "revoke API keys")
    key = await repository.get(session, auth.org_id, key_id)
    if key is None or key.revoked_at is not None:
        raise NotFound.of("API key", key_id)
    key.revoked_at = utcnow()
    audit.record(
        session,
        auth.org_id,
        auth,
        "api_key.revoked",
        "api_key",
        key.id,
        {"name": key.name, "key_prefix": key.key_prefix},
    )
    if cache is not None:
        # Forget it once the revocation is committed: forgetting earlier would let a
        # request in between cache the still-valid row again.
        after_commit(session, _forget(cache, key_id))


def _forget(cache: KeyCache, key_id: uuid.UUID) -> Callable[[], Awaitable[None]]:
    async def forget() -> None:
        cache.forget(key_id)

    return forget
