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

A pattern that RE2 can run with the same meaning (see `re2_dialect`) is compiled there
too, and searched on RE2 when the text is within `INLINE_BUDGET`: RE2 cannot backtrack,
so such a search takes time linear in the text and needs neither the time limit nor a
thread (`runs_inline`); the engine then searches it on the event loop. Every other
pattern, and every text over the budget, is searched on `regex` under the time limit.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Any

import regex
from cachetools import LRUCache

from launchgate.scorers.builtin import js_regex
from launchgate.scorers.builtin.pattern_cost import MAX_PATTERN_LENGTH, PatternTooCostly, measure
from launchgate.scorers.builtin.re2_dialect import Linear, compile_linear
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


# What one RE2 search may cost on the event loop, in characters of text times elements of
# the pattern (pattern_cost's size): RE2 is linear in the text, but a big pattern on a long
# text could still hold the loop for tens of milliseconds. Above it, the search goes to
# `regex` in a thread under the time limit, as every search did before. A 5-element
# pattern on a 400,000-character output is inline; a 20,000-element one up to 100 characters.
INLINE_BUDGET = 2_000_000


@dataclass(frozen=True, slots=True)
class CompiledPattern:
    """A pattern compiled once: on `regex` always, on RE2 too when that is exact."""

    pattern: regex.Pattern[str]
    size: int
    linear: Linear | None


_cache: LRUCache[tuple[str, str], CompiledPattern] = LRUCache(
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
    cached = compile_both(pattern, flags)
    return cached.pattern, cached.size


def compile_both(pattern: str, flags: str = "") -> CompiledPattern:
    """The pattern on `regex` and, where the meaning is provably the same, on RE2; cached
    per (pattern, flags). Raises as `compile_pattern` does."""
    key = (pattern, flags)
    with _cache_lock:
        cached = _cache.get(key)
    if cached is None:
        translated = _translate(pattern, flags)
        size = measure(translated.pattern, translated.flags).size
        # cache_pattern=False: regex's own cache (500 patterns, unweighted) would keep
        # what ours evicts.
        compiled = regex.compile(translated.pattern, translated.flags, cache_pattern=False)
        linear = compile_linear(translated.pattern, translated.flags)
        cached = CompiledPattern(compiled, size, linear)
        with _cache_lock:
            _cache[key] = cached
    return cached


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


@dataclass(frozen=True, slots=True)
class Prepared:
    """A regex config made ready once for many outputs: the compiled pattern, or the
    error every case of it ends in (a pattern refused since it was stored)."""

    compiled: CompiledPattern | None
    should_match: bool
    refused: ScoreResult | None = None


def prepare(config: dict[str, Any]) -> Prepared:
    """Compile a stored config's pattern; a refusal becomes the case's error result."""
    should_match = bool(config["should_match"])
    try:
        return Prepared(compile_both(config["pattern"], config["flags"]), should_match)
    except PatternTooCostly as exc:
        refused = ScoreResult(0.0, f"Pattern refused: {exc}", error=True)
    except (regex.error, OverflowError, RecursionError, ValueError) as exc:
        refused = ScoreResult(0.0, f"Invalid regex: {exc}", error=True)
    return Prepared(None, should_match, refused)


def runs_inline(prepared: Prepared, output: str) -> bool:
    """Whether searching `output` is linear-time and small enough for the event loop
    (`linear_for`). A refused pattern does no search."""
    return prepared.compiled is None or linear_for(prepared.compiled, output) is not None


def linear_for(compiled: CompiledPattern, text: str) -> Linear | None:
    """The RE2 form of the pattern when it should search `text`: the pattern has one, the
    text is within `INLINE_BUDGET` and encodable as UTF-8 (a lone surrogate is not, and
    stays on `regex`)."""
    linear = compiled.linear
    if linear is None or len(text) * max(compiled.size, 1) > INLINE_BUDGET:
        return None
    if not text.isascii():
        try:
            text.encode("utf-8")
        except UnicodeEncodeError:
            return None
    return linear


def score(config: dict[str, Any], output: str, *, timeout_s: float) -> ScoreResult:
    """Search the output under a time limit; a timeout is a case error, not a fail.

    A stored pattern over today's limits (saved before they existed) is refused here too,
    as a case error, and never compiled."""
    return score_prepared(prepare(config), output, timeout_s=timeout_s)


def score_prepared(
    prepared: Prepared, output: str, *, timeout_s: float, linear: bool | None = None
) -> ScoreResult:
    """`score` with the config prepared. `linear` chooses the engine (RE2 when True; the
    default is RE2 whenever `runs_inline` says so); False forces `regex`, for the tests
    that compare the two."""
    compiled = prepared.compiled
    if compiled is None:
        assert prepared.refused is not None
        return prepared.refused
    forced = compiled.linear if linear else None
    on_re2 = linear_for(compiled, output) if linear is None else forced
    if on_re2 is not None:
        matched = on_re2.search(output)
    else:
        try:
            # concurrent=True releases the GIL while matching: the engine runs this in a
            # thread so that a slow pattern cannot hold up the event loop, which needs both.
            match = compiled.pattern.search(output, timeout=timeout_s, concurrent=True)
        except TimeoutError:
            return ScoreResult(
                0.0, f"Regex timed out after {round(timeout_s * 1000)} ms", error=True
            )
        matched = None if match is None else match.group(0)
    return _verdict(prepared.should_match, matched)


def _verdict(should_match: bool, matched: str | None) -> ScoreResult:
    if should_match:
        if matched is None:
            return ScoreResult(0.0, "Pattern did not match")
        return ScoreResult(1.0, f"Pattern matched: {preview(matched)}")
    if matched is None:
        return ScoreResult(1.0, "Pattern did not match, as required")
    return ScoreResult(0.0, f"Pattern matched but should not have: {preview(matched)}")
