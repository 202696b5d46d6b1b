"""BYOK key rules. Keys are sealed here (never opened: that is ``resolver``, worker side)."""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING, Any

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from launchgate.api_keys.scope import require_credential_scope
from launchgate.audit import service as audit
from launchgate.byok import configs, repository
from launchgate.byok.schemas import ByokKeyCreate, ByokKeyUpdate
from launchgate.errors import Conflict, NotFound, ServiceUnavailable
from launchgate.kit.auth_context import AuthContext
from launchgate.kit.time import utcnow
from launchgate.models import ByokKey
from launchgate.worker import JobFailed

if TYPE_CHECKING:
    from launchgate.runtime import ApiRuntime

PREFIX_LENGTH = 8


async def get_key(session: AsyncSession, auth: AuthContext, key_id: uuid.UUID) -> ByokKey:
    key = await repository.get(session, auth.org_id, key_id)
    if key is None:
        raise NotFound.of("BYOK key", key_id)
    return key


async def list_keys(
    session: AsyncSession, auth: AuthContext, provider: str | None, offset: int, limit: int
) -> tuple[list[ByokKey], int]:
    return await repository.list_page(session, auth.org_id, provider, offset, limit)


async def _make_default(session: AsyncSession, key: ByokKey) -> None:
    """Unset the provider's previous default and set this one, in the caller's
    transaction. The organisation row is locked first so that concurrent calls queue
    instead of racing; the partial unique index is the last line of defence."""
    await repository.lock_org(session, key.org_id)
    await repository.clear_default(session, key.org_id, key.provider)
    key.is_default = True
    try:
        await session.flush()
    except IntegrityError:
        raise Conflict("Another key was made default at the same moment; try again") from None


async def create_key(
    session: AsyncSession, runtime: ApiRuntime, auth: AuthContext, body: ByokKeyCreate
) -> ByokKey:
    require_credential_scope(auth, "create BYOK keys")
    config = await configs.normalise(
        body.provider, body.config, allow_private=runtime.settings.allow_private_provider_urls
    )
    key_id = uuid.uuid4()
    key = repository.add(
        session,
        ByokKey(
            id=key_id,
            org_id=auth.org_id,
            provider=body.provider,
            name=body.name,
            key_prefix=body.key[:PREFIX_LENGTH],
            config=config,
            status="active",
            is_default=False,
            ciphertext=runtime.vault.seal(
                body.key, org_id=auth.org_id, key_id=key_id, provider=body.provider
            ),
        ),
    )
    await session.flush()
    # The first key of a provider becomes its default (SPEC §6).
    if body.is_default or await repository.default_for(session, auth.org_id, body.provider) is None:
        await _make_default(session, key)
    audit.record(session, auth.org_id, auth, "byok_key.created", "byok_key", key.id, _summary(key))
    return key


async def update_key(
    session: AsyncSession,
    runtime: ApiRuntime,
    auth: AuthContext,
    key_id: uuid.UUID,
    body: ByokKeyUpdate,
) -> ByokKey:
    require_credential_scope(auth, "change BYOK keys")
    key = await get_key(session, auth, key_id)
    if key.status == "revoked":
        raise Conflict("This key is revoked; create a new one")
    changes = body.model_dump(exclude_unset=True)
    if changes.get("name") is not None:
        key.name = changes["name"]
    if "config" in changes:
        key.config = await configs.normalise(
            key.provider,
            changes["config"],
            allow_private=runtime.settings.allow_private_provider_urls,
        )
    if changes.get("is_default") is True and not key.is_default:
        await _make_default(session, key)
        audit.record(
            session, auth.org_id, auth, "byok_key.default_set", "byok_key", key.id, _summary(key)
        )
    elif changes.get("is_default") is False and key.is_default:
        key.is_default = False
    await session.flush()
    audit.record(
        session,
        auth.org_id,
        auth,
        "byok_key.updated",
        "byok_key",
        key.id,
        {**_summary(key), "changed": sorted(changes)},
    )
    return key


async def revoke_key(session: AsyncSession, auth: AuthContext, key_id: uuid.UUID) -> None:
    """The ciphertext is destroyed; the row stays, ``revoked``, for the audit trail."""
    require_credential_scope(auth, "revoke BYOK keys")
    key = await get_key(session, auth, key_id)
    if key.status == "revoked":
        raise NotFound.of("BYOK key", key_id)
    key.ciphertext, key.status, key.is_default = None, "revoked", False
    audit.record(session, auth.org_id, auth, "byok_key.revoked", "byok_key", key.id, _summary(key))


def _summary(key: ByokKey) -> dict[str, Any]:
    return {"provider": key.provider, "name": key.name, "key_prefix": key.key_prefix}


async def test_key(
    session: AsyncSession, runtime: ApiRuntime, auth: AuthContext, key_id: uuid.UUID
) -> dict[str, Any]:
    """Runs the ``byok.test_key`` job on the worker and waits for it: only worker-side code
    opens a key. The job records the outcome (status, last_tested_at, audit) itself.
    Refused to test keys: it spends a provider call and may mark the key ``invalid``."""
    require_credential_scope(auth, "test BYOK keys")
    key = await get_key(session, auth, key_id)
    if key.status == "revoked":
        raise Conflict("This key is revoked; there is nothing to test")
    timeout_s = runtime.settings.provider_timeout_s + 10
    try:
        result: dict[str, Any] = await runtime.queue.call(
            "byok.test_key",
            timeout_s,
            org_id=str(auth.org_id),
            key_id=str(key_id),
            auth_mode=auth.auth_mode,
            actor_id=str(auth.api_key_id or auth.user_id or "") or None,
        )
    except (TimeoutError, JobFailed):
        # The worker that took the job stopped (a deploy, a crash) or no worker is
        # running: the job is delivered again later, and records its own outcome then.
        raise KeyTestUnfinished(timeout_s) from None
    return result


class KeyTestUnfinished(ServiceUnavailable):
    """The key test job did not answer in time; the caller may simply ask again."""

    def __init__(self, timeout_s: float) -> None:
        super().__init__(
            f"The key test did not finish within {timeout_s:g} s: no worker answered (one "
            "may have stopped while testing it). The key is unchanged; try again.",
            None,
            {"Retry-After": "5"},
        )


async def record_key_use(
    session: AsyncSession, org_id: uuid.UUID, *, used: set[uuid.UUID], refused: set[uuid.UUID]
) -> None:
    """After a judged run: ``last_used_at`` of the keys it used, and ``invalid`` for those
    the provider refused (SPEC §7: a 401 marks the key; the key list shows it)."""
    await repository.touch(session, org_id, used, utcnow())
    await repository.mark_invalid(session, org_id, refused)
