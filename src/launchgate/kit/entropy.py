"""What "obviously low entropy" means for a secret an operator sets.

A secret is refused when either holds:

- it uses fewer than ``MIN_DISTINCT`` (8) distinct symbols — bytes for a binary key,
  characters for a text secret (``00…00``, ``aaaa…``, ``0101…``);
- it is a shorter pattern repeated: its first ``p`` symbols, repeated, make the whole of it,
  for some period ``p`` at most half its length (``abcdefghabcdefgh…``, a 16-byte key
  written twice).

Neither happens by chance to a secret drawn at random: 32 random bytes have fewer than 8
distinct values with a probability below 10^-20, and repeat with period 16 with 2^-128.
Both catch what people type when asked for a key: a placeholder, a keyboard run, a copy
pasted twice. This is not a strength meter — a memorable sentence passes — only a guard
against keys that are plainly not keys.
"""

from __future__ import annotations

from collections.abc import Sequence

MIN_DISTINCT = 8


def weakness(secret: Sequence[object], unit: str = "byte") -> str | None:
    """Why ``secret`` is obviously not random (one clause, naming no symbol of it), or
    ``None``. ``unit`` names a symbol in the message: "byte" or "character"."""
    distinct = len(set(secret))
    if distinct < MIN_DISTINCT:
        return f"uses only {distinct} distinct {unit}{'s' if distinct != 1 else ''}"
    period = _period(secret)
    if period is not None:
        return f"is a {period}-{unit} pattern repeated"
    return None


def _period(secret: Sequence[object]) -> int | None:
    """The smallest ``p <= len/2`` such that the secret is its first ``p`` symbols repeated
    (the last copy may be cut short), or ``None``."""
    length = len(secret)
    for p in range(1, length // 2 + 1):
        if all(secret[i] == secret[i - p] for i in range(p, length)):
            return p
    return None
