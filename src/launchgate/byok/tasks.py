"""BYOK jobs. ``byok.test_key`` opens the key (worker side), makes one cheap authenticated
call to the provider and records the outcome."""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING, Any

import structlog

from launchgate import providers
from launchgate.audit import service as audit
from launchgate.byok import repository, resolver
from launchgate.byok.vault import VaultError
from launchgate.db import unit_of_work
from launchgate.kit.auth_context import AuthContext
from launchgate.kit.jobs import job
from launchgate.kit.time import utcnow
from launchgate.providers.errors import ProviderAuthError, ProviderError

if TYPE_CHECKING:
    from launchgate.runtime import WorkerRuntime

log = structlog.get_logger(__name__)


@job("byok.test_key")
async def test_key(
    runtime: WorkerRuntime, org_id: str, key_id: str, auth_mode: str, actor_id: str | None
) -> dict[str, Any]:
    org, kid = uuid.UUID(org_id), uuid.UUID(key_id)
    async with unit_of_work(runtime.sessions) as session:
        key = await repository.get(session, org, kid)
        if key is None or key.status == "revoked":
            return _result(False, key.provider if key else "unknown", None, "Key is revoked")
        outcome = await _check(runtime, key)
        valid, latency_ms, message, definitive = outcome
        key.last_tested_at = utcnow()
        # Only the provider saying "this key is not accepted" makes it invalid; an outage
        # or a timeout says nothing about the key.
        if valid:
            key.status = "active"
        elif definitive:
            key.status = "invalid"
        auth = AuthContext(
            org_id=org,
            auth_mode="jwt" if auth_mode == "jwt" else "api_key",
            api_key_id=uuid.UUID(actor_id) if actor_id and auth_mode == "api_key" else None,
            user_id=uuid.UUID(actor_id) if actor_id and auth_mode == "jwt" else None,
        )
        audit.record(
            session,
            org,
            auth,
            "byok_key.tested",
            "byok_key",
            key.id,
            {"provider": key.provider, "key_prefix": key.key_prefix, "valid": valid},
        )
        return _result(valid, key.provider, latency_ms, message)


async def _check(runtime: WorkerRuntime, key: Any) -> tuple[bool, float | None, str, bool]:
    """``(valid, latency_ms, message, definitive)``."""
    try:
        credential = resolver.credential(runtime.vault, key)
    except VaultError as exc:
        return False, None, str(exc), False
    try:
        latency_ms = await providers.check_key(runtime.http, credential, runtime.provider_settings)
    except ProviderAuthError as exc:
        return False, None, f"The provider rejected the key: {exc.message}", True
    except ProviderError as exc:
        return False, None, f"Could not verify the key: {exc.message}", False
    except Exception as exc:  # e.g. a stored key no header can carry: httpx refuses it
        # The type only: the error's text may quote the key.
        log.error("testing a key failed", key_id=str(key.id), error_type=type(exc).__name__)
        return False, None, "Could not verify the key: internal error (the log has its type)", False
    finally:
        del credential  # the plaintext lives no longer than the call
    return True, round(latency_ms, 1), "The provider accepted the key", True


def _result(valid: bool, provider: str, latency_ms: float | None, message: str) -> dict[str, Any]:
    return {"valid": valid, "provider": provider, "latency_ms": latency_ms, "message": message}
