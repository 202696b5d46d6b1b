"""Verified API keys kept in memory for a minute — embedded mode only.

One process owns an embedded database, so a revocation made through it is forgotten here
at once (``service.revoke_key``); expiry is checked on every use. A minute also bounds how
stale ``last_used_at`` may be: a miss re-reads the key and touches it.
"""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass
from datetime import datetime

from launchgate.kit.auth_context import AuthContext

TTL_S = 60.0


@dataclass(frozen=True, slots=True)
class _Entry:
    context: AuthContext
    expires_at: datetime | None
    cached_until: float


class KeyCache:
    def __init__(self, ttl_s: float = TTL_S) -> None:
        self._ttl_s = ttl_s
        self._entries: dict[str, _Entry] = {}

    def get(self, key_hash: str, now: datetime) -> AuthContext | None:
        entry = self._entries.get(key_hash)
        if entry is None:
            return None
        if entry.cached_until < time.monotonic() or (
            entry.expires_at is not None and entry.expires_at <= now
        ):
            del self._entries[key_hash]
            return None
        return entry.context

    def put(self, key_hash: str, context: AuthContext, expires_at: datetime | None) -> None:
        if len(self._entries) > 10_000:
            self._entries.clear()
        self._entries[key_hash] = _Entry(context, expires_at, time.monotonic() + self._ttl_s)

    def forget(self, key_id: uuid.UUID) -> None:
        for key_hash in [h for h, e in self._entries.items() if e.context.api_key_id == key_id]:
            del self._entries[key_hash]
