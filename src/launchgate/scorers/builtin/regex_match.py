"""`regex`: the output matches (or avoids) a pattern, searched anywhere in the output.

Patterns and flags are JavaScript's, because that is how users bring them: `js_regex`
translates each one into an explicit `regex` pattern that means what JavaScript means
(`^abc$` does not match "abc\\n", `.` does not match "\\r", `\\d` is ASCII), and says
where we differ on purpose. Patterns run on the `regex` module, whose matcher takes a
timeout, so a catastrophic pattern ends its case in error instead of stalling the worker.
Compiling has no timeout and its memory grows with the repeats, so every pattern is
measured before it is compiled (`pattern_cost`, on the translated pattern: what is
measured is what is compiled), here and for the json_schema scorer alike:
`compile_pattern` is the one door to `regex.compile`. The stored config keeps the pattern
as the user wrote it; the translation is cached with the compiled pattern.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Any

import regex
from cachetools import LRUCache

from launchgate.scorers.builtin import js_regex
from launchgate.scorers.builtin.pattern_cost import MAX_PATTERN_LENGTH, PatternTooCostly, measure
from launchgate.scorers.builtin.result import ConfigReader, ScorerConfigError, ScoreResult, preview

ALLOWED_KEYS = ("pattern", "flags", "should_match")


def parse_flags(flags: str) -> None:
    """Check JS-style flags (i, m, s, u, g, each once); anything else is a config error."""
    try:
        js_regex.parse_flags(flags)
    except js_regex.JsRegexError as exc:
        raise ScorerConfigError(str(exc), path="config.flags") from exc


# The compiled-pattern cache is bounded by what its patterns weigh (expanded size, see
# pattern_cost, plus a fixed part per pattern), not by their number: at the limits one
# pattern holds several MB, so 512 of them could hold gigabytes. 100,000 units is about
# 12 MB for ordinary patterns, 35 MB for the heaviest kinds.
CACHE_BUDGET = 100_000
ENTRY_OVERHEAD = 10


@dataclass(frozen=True, slots=True)
class _Compiled:
    pattern: regex.Pattern[str]
    size: int


_cache: LRUCache[tuple[str, str], _Compiled] = LRUCache(
    maxsize=CACHE_BUDGET, getsizeof=lambda entry: entry.size + ENTRY_OVERHEAD
)
_cache_lock = threading.Lock()  # scoring runs in worker threads


def compile_pattern(pattern: str, flags: str = "") -> regex.Pattern[str]:
    """Translate from JavaScript, measure, then compile once per (pattern, flags): scoring
    runs on every case of every run. Raises PatternTooCostly (over a limit),
    `js_regex.JsRegexError` (not a JavaScript pattern) or `regex.error` (invalid)."""
    return compile_measured(pattern, flags)[0]


def compile_measured(pattern: str, flags: str = "") -> tuple[regex.Pattern[str], int]:
    """`compile_pattern`, with the pattern's expanded size (see pattern_cost)."""
    key = (pattern, flags)
    with _cache_lock:
        cached = _cache.get(key)
    if cached is None:
        translated = _translate(pattern, flags)
        size = measure(translated.pattern, translated.flags).size
        # cache_pattern=False: regex's own cache (500 patterns, unweighted) would keep
        # what ours evicts.
        compiled = regex.compile(translated.pattern, translated.flags, cache_pattern=False)
        cached = _Compiled(compiled, size)
        with _cache_lock:
            _cache[key] = cached
    return cached.pattern, cached.size


def _translate(pattern: str, flags: str) -> js_regex.Translation:
    """The pattern in the engine's syntax; the length limit applies to what the user wrote
    (before the translation does any work) and to what will be compiled."""
    if len(pattern) > MAX_PATTERN_LENGTH:
        raise PatternTooCostly(
            f"Pattern is too long: {len(pattern):,} characters; the limit is {MAX_PATTERN_LENGTH:,}"
        )
    translated = js_regex.translate(pattern, flags)
    if len(translated.pattern) > MAX_PATTERN_LENGTH:
        raise PatternTooCostly(
            f"Pattern is too long once written out for the engine: {len(translated.pattern):,} "
            f"characters (classes such as . \\d \\s \\w are written out in full); the limit "
            f"is {MAX_PATTERN_LENGTH:,}"
        )
    return translated


def validate(config: object) -> dict[str, Any]:
    """Normalise a regex config and prove the pattern compiles."""
    reader = ConfigReader(config, ALLOWED_KEYS, scorer="regex")
    if isinstance(config, dict) and config.get("pattern") == "":
        raise ScorerConfigError(
            "config.pattern is an empty string, which matches every output; give a pattern",
            path="config.pattern",
        )
    pattern = reader.required_text("pattern")
    flags = reader.text("flags", "", non_empty=False) or ""
    should_match = reader.flag("should_match", True)
    parse_flags(flags)
    try:
        compile_pattern(pattern, flags)
    except PatternTooCostly as exc:
        raise ScorerConfigError(str(exc), path="config.pattern") from exc
    except (regex.error, OverflowError, RecursionError, ValueError) as exc:
        raise ScorerConfigError(f"Invalid regex: {exc}", path="config.pattern") from exc
    return {"pattern": pattern, "flags": flags, "should_match": should_match}


def score(config: dict[str, Any], output: str, *, timeout_s: float) -> ScoreResult:
    """Search the output under a time limit; a timeout is a case error, not a fail.

    A stored pattern over today's limits (saved before they existed) is refused here too,
    as a case error, and never compiled."""
    try:
        pattern = compile_pattern(config["pattern"], config["flags"])
    except PatternTooCostly as exc:
        return ScoreResult(0.0, f"Pattern refused: {exc}", error=True)
    except (regex.error, OverflowError, RecursionError, ValueError) as exc:
        return ScoreResult(0.0, f"Invalid regex: {exc}", error=True)
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
