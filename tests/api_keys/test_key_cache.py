from __future__ import annotations

import uuid
from datetime import timedelta

from launchgate.api_keys.cache import KeyCache
from launchgate.kit.auth_context import AuthContext
from launchgate.kit.time import utcnow


def _context() -> AuthContext:
    return AuthContext(
        org_id=uuid.uuid4(), auth_mode="api_key", api_key_id=uuid.uuid4(), key_mode="live"
    )


def test_a_cached_key_stops_working_when_it_expires() -> None:
    cache, context, now = KeyCache(), _context(), utcnow()
    cache.put("h", context, expires_at=now + timedelta(seconds=5))
    assert cache.get("h", now) == context
    assert cache.get("h", now + timedelta(seconds=5)) is None
    assert cache.get("h", now) is None  # and it is gone, not just hidden


def test_entries_live_for_the_ttl_only() -> None:
    cache, context = KeyCache(ttl_s=-1), _context()
    cache.put("h", context, expires_at=None)
    assert cache.get("h", utcnow()) is None


def test_forget_drops_every_entry_of_a_key() -> None:
    cache, context, other = KeyCache(), _context(), _context()
    cache.put("a", context, None)
    cache.put("b", other, None)
    assert context.api_key_id is not None
    cache.forget(context.api_key_id)
    assert cache.get("a", utcnow()) is None and cache.get("b", utcnow()) == other
