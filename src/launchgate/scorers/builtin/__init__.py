"""The built-in scorers: pure functions from (config, output, expected) to a ScoreResult.

Pure on purpose: no web, database, settings or HTTP here, so the same code validates a
config in a request, scores in the worker, and runs under hypothesis. `llm_judge` only
validates its config in this package; the run engine asks the judge.

``regex`` and ``json_schema`` are imported on the first config or output that needs them:
with them come the regex engines (regex, google-re2) and jsonschema (~5 MB resident), which
a server whose suites use neither never loads (bench/RESULTS.md, "Resident memory").
"""

from __future__ import annotations

import math
from typing import Any

from launchgate.scorers.builtin import contains, exact_match, llm_judge
from launchgate.scorers.builtin.result import ScorerConfigError, ScoreResult

SCORER_TYPES: tuple[str, ...] = ("exact_match", "contains", "regex", "json_schema", "llm_judge")

__all__ = [
    "SCORER_TYPES",
    "ScoreResult",
    "ScorerConfigError",
    "config_warnings",
    "score",
    "validate_config",
]


def config_warnings(scorer_type: str, config: dict[str, Any]) -> list[str]:
    """What a user should know about a stored, valid config (shown by the API and the
    dashboard; never a reason to refuse it)."""
    return llm_judge.warnings(config) if scorer_type == "llm_judge" else []


def validate_config(
    scorer_type: str, config: dict[str, Any], *, dual_sided: bool = False
) -> dict[str, Any]:
    """Return the normalised config (defaults filled in) or raise ScorerConfigError.

    The normalised form is what gets stored and later passed to `score`; validating it
    again yields the same config.
    """
    if scorer_type not in SCORER_TYPES:
        raise ScorerConfigError(
            f"Unknown scorer type {scorer_type!r}; expected one of {', '.join(SCORER_TYPES)}",
            path="type",
        )
    if not isinstance(dual_sided, bool):
        raise ScorerConfigError("dual_sided must be a boolean", path="dual_sided")
    if dual_sided and scorer_type != "contains":
        raise ScorerConfigError(
            f"dual_sided applies to contains scorers only, not {scorer_type}", path="dual_sided"
        )
    match scorer_type:
        case "exact_match":
            return exact_match.validate(config)
        case "contains":
            return contains.validate(config, dual_sided=dual_sided)
        case "regex":
            from launchgate.scorers.builtin import regex_match

            return regex_match.validate(config)
        case "json_schema":
            from launchgate.scorers.builtin import json_schema

            return json_schema.validate(config)
        case _:
            return llm_judge.validate(config)


def score(
    scorer_type: str, config: dict[str, Any], output: str, expected: Any, *, regex_timeout_s: float
) -> ScoreResult:
    """Score one output with an already-normalised config.

    `regex_timeout_s` bounds every pattern match (the regex scorer's and a schema's own
    patterns). `llm_judge` raises ValueError: the engine asks the judge, not this package.
    """
    if not regex_timeout_s > 0 or math.isinf(regex_timeout_s):
        raise ValueError(f"regex_timeout_s must be a positive number, got {regex_timeout_s!r}")
    match scorer_type:
        case "exact_match":
            return exact_match.score(config, output, expected)
        case "contains":
            return contains.score(config, output, expected)
        case "regex":
            from launchgate.scorers.builtin import regex_match

            return regex_match.score(config, output, timeout_s=regex_timeout_s)
        case "json_schema":
            from launchgate.scorers.builtin import json_schema

            return json_schema.score(config, output, regex_timeout_s=regex_timeout_s)
        case "llm_judge":
            raise ValueError("llm_judge is scored by the run engine, not by the built-in scorers")
        case _:
            raise ScorerConfigError(f"Unknown scorer type {scorer_type!r}", path="type")
