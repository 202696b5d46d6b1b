"""Opens BYOK keys — worker side only (import-linter keeps it so): a key is plaintext only
in memory, inside the code path that calls the provider, for the duration of the call."""

from __future__ import annotations

import uuid

from sqlalchemy.ext.asyncio import AsyncSession

from launchgate.byok import repository
from launchgate.byok.vault import Vault
from launchgate.models import ByokKey
from launchgate.providers.credential import Credential


class NoUsableKey(LookupError):
    """No active key for the provider (or the named key is revoked or unknown)."""


def credential(vault: Vault, key: ByokKey) -> Credential:
    if key.ciphertext is None or key.status == "revoked":
        raise NoUsableKey(f"No active BYOK key for provider {key.provider}")
    secret = vault.open(key.ciphertext, org_id=key.org_id, key_id=key.id, provider=key.provider)
    return Credential(provider=key.provider, secret=secret, config=dict(key.config))


async def key_for(
    session: AsyncSession, org_id: uuid.UUID, provider: str, key_id: uuid.UUID | None = None
) -> ByokKey:
    """The scorer's own key when it names one, else the provider's default (SPEC §6)."""
    key = (
        await repository.get(session, org_id, key_id)
        if key_id is not None
        else await repository.default_for(session, org_id, provider)
    )
    if key is None or key.provider != provider or key.status == "revoked":
        raise NoUsableKey(f"No active BYOK key for provider {provider}")
    return key
