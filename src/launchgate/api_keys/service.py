from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from functools import partial
from typing import Literal

from sqlalchemy import Connection
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from launchgate.api_keys import repository
from launchgate.api_keys.cache import KeyCache
from launchgate.api_keys.repository import KeyWithFacts
from launchgate.api_keys.scope import require_credential_scope
from launchgate.audit import service as audit
from launchgate.db import after_commit, in_autocommit
from launchgate.errors import NotFound, Unauthorized, ValidationFailed
from launchgate.kit.auth_context import AuthContext
from launchgate.kit.crypto import random_base62, token_hash
from launchgate.kit.time import as_utc, month_key, utcnow
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


@dataclass(frozen=True, slots=True, kw_only=True)
class KeyCaller(AuthContext):
    """An API key's caller, with its organisation's plan, config version and runs of the
    month as the same query read them: ``orgs.service.get_facts`` and the monthly-limit
    check (``runs_read_with``) take them from here instead of a round trip each on every
    run (issue 17). They were read by this request, after it began, so a plan change,
    config edit or run committed before it began is in them, exactly as in a read of
    their own. Not a cache: a ``KeyCaller`` lives as long as its request (the embedded
    mode's ``KeyCache``, which outlives requests, holds plain ``AuthContext`` objects)."""

    plan: str
    config_version: int
    period: str  # the usage period (kit.time.month_key) runs_in_period counts
    runs_in_period: int


def _verified(key_hash: str, period: str, now: datetime, connection: Connection) -> KeyWithFacts:
    """The key's row if it may be used now (synchronous: ``in_autocommit`` runs it)."""
    key = repository.with_facts(connection, key_hash, period)
    if key is None or key.revoked_at is not None:
        raise Unauthorized("Invalid API key")
    if key.expires_at is not None and key.expires_at <= now:
        raise Unauthorized("API key has expired")
    # Touch at most once a minute: a write on every request would cost the hot path.
    if key.last_used_at is None or (now - key.last_used_at).total_seconds() > TOUCH_EVERY_S:
        repository.touch(connection, key.id, now)
    return key


def runs_read_with(caller: AuthContext | None, org_id: uuid.UUID, period: str) -> int | None:
    """The organisation's runs in ``period`` as read with the caller's key, or None when
    they were not (another caller, another organisation, or the month turned since)."""
    if isinstance(caller, KeyCaller) and caller.org_id == org_id and caller.period == period:
        return caller.runs_in_period
    return None


async def authenticate(
    engine: AsyncEngine, secret: str, cache: KeyCache | None = None
) -> AuthContext:
    """The caller of an API key: from ``cache`` (embedded mode), else read with its
    organisation's facts on a connection of its own in autocommit. The lookup is one
    statement and the ``last_used_at`` touch may commit on its own, so neither needs a
    transaction (a BEGIN and a COMMIT: two more round trips on PostgreSQL), and the
    request's session is not opened for it."""
    key_hash = token_hash(secret)
    now = utcnow()
    cached = cache.get(key_hash, now) if cache is not None else None
    if cached is not None:
        return cached
    period = month_key(now)
    key = await in_autocommit(engine, partial(_verified, key_hash, period, now))
    mode: Literal["live", "test"] = "test" if key.mode == "test" else "live"
    if cache is not None:
        context = AuthContext(
            org_id=key.org_id, auth_mode="api_key", api_key_id=key.id, key_mode=mode
        )
        cache.put(key_hash, context, key.expires_at)
        return context
    return KeyCaller(
        org_id=key.org_id,
        auth_mode="api_key",
        api_key_id=key.id,
        key_mode=mode,
        plan=key.plan,
        config_version=key.config_version,
        period=period,
        runs_in_period=key.runs_in_period,
    )


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
