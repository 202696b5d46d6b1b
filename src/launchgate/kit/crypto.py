"""Prefixed random tokens, shown once and stored as a hash (Polar's ``kit/crypto.py``)."""

from __future__ import annotations

import hashlib
import secrets
import string

_BASE62 = string.digits + string.ascii_letters


def random_base62(length: int) -> str:
    return "".join(secrets.choice(_BASE62) for _ in range(length))


def token_hash(token: str) -> str:
    """Fast hash, fine for 190-bit random tokens (no dictionary to attack), indexable."""
    return hashlib.sha256(token.encode()).hexdigest()
