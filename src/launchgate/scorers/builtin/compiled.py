"""Scorers compiled once for many outputs: one per case of a suite snapshot.

`score()` takes a config and an output and does everything each time: find the values of
a `contains` case and fold their case, look up the compiled pattern, serialise a schema
to find its validator. A snapshot's cases do not change while the snapshot lives
(runs/cache.py keeps it until any config of the organisation changes), so that work is
done once per case here and every run of the snapshot only searches its output.

A compiled scorer answers exactly what `score()` answers for the same config, expected
value and output (each scorer's `score` is its `score_prepared` after its `prepare`), and
says whether its search may take long enough to belong in a thread (`in_thread`): only a
regex on `regex` does; one that runs on RE2 is linear-time and stays on the event loop.

`regex` and `json_schema` (and the regex engines and jsonschema with them) are imported
when a snapshot first has such a case, not with this module; a compiled case holds the
functions it scores with, so scoring an output imports nothing.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

from launchgate.scorers import builtin
from launchgate.scorers.builtin import contains, exact_match
from launchgate.scorers.builtin.result import ScoreResult


class CompiledScorer(Protocol):
    """One case's scorer, ready to score any number of outputs."""

    def in_thread(self, output: str) -> bool:
        """Whether scoring `output` may be slow (a backtracking regex): run it in a thread."""
        ...

    def score(self, output: str, *, regex_timeout_s: float) -> ScoreResult:
        """What `scorers.builtin.score` answers for this case's config and `output`."""
        ...


def check_timeout(regex_timeout_s: float) -> None:
    """The same check `scorers.builtin.score` makes on every call."""
    if not regex_timeout_s > 0 or math.isinf(regex_timeout_s):
        raise ValueError(f"regex_timeout_s must be a positive number, got {regex_timeout_s!r}")


@dataclass(frozen=True, slots=True)
class _Contains:
    prepared: contains.Prepared

    def in_thread(self, output: str) -> bool:
        return False

    def score(self, output: str, *, regex_timeout_s: float) -> ScoreResult:
        check_timeout(regex_timeout_s)
        return contains.score_prepared(self.prepared, output)


@dataclass(frozen=True, slots=True)
class _ExactMatch:
    config: dict[str, Any]
    expected: Any

    def in_thread(self, output: str) -> bool:
        return False

    def score(self, output: str, *, regex_timeout_s: float) -> ScoreResult:
        check_timeout(regex_timeout_s)
        return exact_match.score(self.config, output, self.expected)


@dataclass(frozen=True, slots=True)
class _Regex:
    prepared: Any  # a regex_match.Prepared
    runs_inline: Callable[[Any, str], bool]  # regex_match.runs_inline
    search: Callable[..., ScoreResult]  # regex_match.score_prepared

    def in_thread(self, output: str) -> bool:
        return not self.runs_inline(self.prepared, output)

    def score(self, output: str, *, regex_timeout_s: float) -> ScoreResult:
        check_timeout(regex_timeout_s)
        return self.search(self.prepared, output, timeout_s=regex_timeout_s)


@dataclass(frozen=True, slots=True)
class _JsonSchema:
    prepared: Any  # a validator, or the error result of a refused schema
    validate: Callable[..., ScoreResult]  # json_schema.score_prepared
    refers: bool  # the schema holds a $ref (json_schema.refers)
    inline_chars: int  # json_schema.INLINE_OUTPUT_CHARS

    def in_thread(self, output: str) -> bool:
        # A long output, or a schema whose work can grow faster than its size times the
        # output's (json_schema.py): in a thread, under its whole-validation time limit.
        return self.refers or len(output) > self.inline_chars

    def score(self, output: str, *, regex_timeout_s: float) -> ScoreResult:
        check_timeout(regex_timeout_s)
        return self.validate(self.prepared, output, regex_timeout_s=regex_timeout_s)


def _regex(config: dict[str, Any]) -> _Regex:
    from launchgate.scorers.builtin import regex_match

    prepared = regex_match.prepare(config)
    return _Regex(prepared, regex_match.runs_inline, regex_match.score_prepared)


def _json_schema(config: dict[str, Any]) -> _JsonSchema:
    from launchgate.scorers.builtin import json_schema

    return _JsonSchema(
        json_schema.prepare(config),
        json_schema.score_prepared,
        json_schema.refers(config.get("schema")),
        json_schema.INLINE_OUTPUT_CHARS,
    )


@dataclass(frozen=True, slots=True)
class _Uncompiled:
    """A case whose config could not be prepared (a stored config that skipped
    normalisation): scored by `score()` itself on every output, so it answers — or
    raises — exactly as it always did."""

    scorer_type: str
    config: dict[str, Any]
    expected: Any

    def in_thread(self, output: str) -> bool:
        return self.scorer_type == "regex"

    def score(self, output: str, *, regex_timeout_s: float) -> ScoreResult:
        return builtin.score(
            self.scorer_type, self.config, output, self.expected, regex_timeout_s=regex_timeout_s
        )


def compile_case(scorer_type: str, config: dict[str, Any], expected: Any) -> CompiledScorer | None:
    """The case's compiled scorer; None for `llm_judge` (the engine asks the judge).

    Never raises: a config that cannot be prepared is left to `score()`, run by
    the compiled scorer on each output (and raising there as it always did)."""
    try:
        match scorer_type:
            case "contains":
                return _Contains(contains.prepare(config, expected))
            case "exact_match":
                return _ExactMatch(config, expected)
            case "regex":
                return _regex(config)
            case "json_schema":
                return _json_schema(config)
            case "llm_judge":
                return None
            case _:
                return _Uncompiled(scorer_type, config, expected)
    except Exception:
        return _Uncompiled(scorer_type, config, expected)


def compile_snapshot(snapshot: dict[str, Any]) -> tuple[CompiledScorer | None, ...]:
    """One compiled scorer per case of the snapshot, in its order."""
    return tuple(
        compile_case(case["scorer"]["type"], case["scorer"]["config"], case["expected"])
        for case in snapshot["cases"]
    )
