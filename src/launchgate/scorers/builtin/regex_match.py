"""`regex`: the output matches (or avoids) a pattern, searched anywhere in the output.

Flags are written the JavaScript way because that is how users bring their patterns.
Patterns run on the `regex` module, whose matcher takes a timeout, so a catastrophic
pattern ends its case in error instead of stalling the worker.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

import regex

from launchgate.scorers.builtin.result import ConfigReader, ScorerConfigError, ScoreResult, preview

ALLOWED_KEYS = ("pattern", "flags", "should_match")
# u and g are accepted for copy-paste compatibility: str patterns are always Unicode here,
# and a search has no use for "global".
FLAG_BITS: dict[str, int] = {
    "i": regex.IGNORECASE,
    "m": regex.MULTILINE,
    "s": regex.DOTALL,
    "u": 0,
    "g": 0,
}


def parse_flags(flags: str) -> int:
    """Turn JS-style flags into `regex` bits; unknown or repeated flags are config errors."""
    bits = 0
    for position, flag in enumerate(flags):
        if flag not in FLAG_BITS:
            raise ScorerConfigError(
                f"Unsupported regex flag {flag!r}; allowed: i, m, s, u, g", path="config.flags"
            )
        if flag in flags[:position]:
            raise ScorerConfigError(f"Repeated regex flag {flag!r}", path="config.flags")
        bits |= FLAG_BITS[flag]
    return bits


@lru_cache(maxsize=512)
def compile_pattern(pattern: str, flags: str = "") -> regex.Pattern[str]:
    """Compile once per (pattern, flags): scoring runs on every case of every run."""
    return regex.compile(pattern, parse_flags(flags))


def validate(config: object) -> dict[str, Any]:
    """Normalise a regex config and prove the pattern compiles."""
    reader = ConfigReader(config, ALLOWED_KEYS, scorer="regex")
    pattern = reader.required_text("pattern")
    flags = reader.text("flags", "", non_empty=False) or ""
    should_match = reader.flag("should_match", True)
    parse_flags(flags)
    try:
        compile_pattern(pattern, flags)
    except (regex.error, OverflowError, RecursionError, ValueError) as exc:
        raise ScorerConfigError(f"Invalid regex: {exc}", path="config.pattern") from exc
    return {"pattern": pattern, "flags": flags, "should_match": should_match}


def score(config: dict[str, Any], output: str, *, timeout_s: float) -> ScoreResult:
    """Search the output under a time limit; a timeout is a case error, not a fail."""
    pattern = compile_pattern(config["pattern"], config["flags"])
    try:
        # concurrent=True releases the GIL while matching: the engine runs this in a thread
        # so that a slow pattern cannot hold up the event loop, which needs both.
        match = pattern.search(output, timeout=timeout_s, concurrent=True)
    except TimeoutError:
        return ScoreResult(0.0, f"Regex timed out after {round(timeout_s * 1000)} ms", error=True)
    if config["should_match"]:
        if match is None:
            return ScoreResult(0.0, "Pattern did not match")
        return ScoreResult(1.0, f"Pattern matched: {preview(match.group(0))}")
    if match is None:
        return ScoreResult(1.0, "Pattern did not match, as required")
    return ScoreResult(0.0, f"Pattern matched but should not have: {preview(match.group(0))}")
