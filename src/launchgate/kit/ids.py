"""Run (and batch) ids: ``run_`` + 24 lowercase base32 characters that sort by creation time.

10 characters of millisecond timestamp (good until the year 10889) and 14 random ones
(70 bits), in Crockford's alphabet so they never spell confusing letters.
"""

from __future__ import annotations

import secrets
import time

_ALPHABET = "0123456789abcdefghjkmnpqrstvwxyz"
RUN_PREFIX = "run_"
RUN_ID_LENGTH = len(RUN_PREFIX) + 24


def _encode(number: int, width: int) -> str:
    chars = []
    for _ in range(width):
        number, rem = divmod(number, 32)
        chars.append(_ALPHABET[rem])
    return "".join(reversed(chars))


def new_run_id(now_ms: int | None = None) -> str:
    stamp = int(time.time() * 1000) if now_ms is None else now_ms
    return RUN_PREFIX + _encode(stamp, 10) + _encode(secrets.randbits(70), 14)


def is_run_id(value: str) -> bool:
    return (
        len(value) == RUN_ID_LENGTH
        and value.startswith(RUN_PREFIX)
        and all(c in _ALPHABET for c in value[len(RUN_PREFIX) :])
    )


BATCH_PREFIX = "bat_"
BATCH_ID_LENGTH = len(BATCH_PREFIX) + 24


def new_batch_id(now_ms: int | None = None) -> str:
    """Batch ids: like run ids, ``bat_`` and 24 characters that sort by creation time."""
    return BATCH_PREFIX + new_run_id(now_ms)[len(RUN_PREFIX) :]


def is_batch_id(value: str) -> bool:
    return (
        len(value) == BATCH_ID_LENGTH
        and value.startswith(BATCH_PREFIX)
        and all(c in _ALPHABET for c in value[len(BATCH_PREFIX) :])
    )
