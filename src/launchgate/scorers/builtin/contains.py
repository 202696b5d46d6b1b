"""`contains`: the output includes (or avoids) some substrings.

The values come from `config.values`, else from the case's `expected` (a string or a list
of strings), so one scorer can serve many cases. Dual-sided scoring adds `forbidden` values
and reports recall (required found) and precision (forbidden avoided) instead of pass/fail.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from launchgate.scorers.builtin.result import (
    EMPTY_VALUE,
    ConfigReader,
    ScorerConfigError,
    ScoreResult,
    quote_list,
)

ALLOWED_KEYS = ("values", "mode", "case_sensitive", "should_contain", "forbidden", "dual_sided")
MODES = ("all", "any")
NOTHING_TO_LOOK_FOR = (
    "Nothing to look for: set config.values or give this case an expected string or list of strings"
)


def validate(config: object, *, dual_sided: bool) -> dict[str, Any]:
    """Normalise a contains config; `forbidden` is only allowed when the scorer is dual-sided."""
    reader = ConfigReader(config, ALLOWED_KEYS, scorer="contains")
    # `dual_sided` is accepted in the config only so that a normalised config validates
    # again; the scorer's own flag decides, and a config that contradicts it is refused.
    if reader.has("dual_sided") and reader.flag("dual_sided", False) != dual_sided:
        raise ScorerConfigError(
            "config.dual_sided disagrees with the scorer's dual_sided setting",
            path="config.dual_sided",
        )
    normalised: dict[str, Any] = {
        "mode": reader.choice("mode", MODES, "all"),
        "case_sensitive": reader.flag("case_sensitive", True),
        "should_contain": reader.flag("should_contain", True),
    }
    values = reader.text_list("values")
    if values is not None:
        normalised["values"] = values
    if dual_sided:
        return _validate_dual(reader, normalised)
    if reader.has("forbidden"):
        raise ScorerConfigError(
            "config.forbidden needs a dual-sided scorer; use should_contain=false otherwise",
            path="config.forbidden",
        )
    if values == []:
        raise ScorerConfigError(
            "config.values must list at least one value (omit it to use each case's expected)",
            path="config.values",
        )
    return normalised


def _validate_dual(reader: ConfigReader, normalised: dict[str, Any]) -> dict[str, Any]:
    # Dual-sided scoring has its own meaning for "all" and "not": reject the knobs it ignores.
    if normalised["mode"] != "all":
        raise ScorerConfigError(
            "mode 'any' does not apply to dual-sided scoring: recall counts every value",
            path="config.mode",
        )
    if not normalised["should_contain"]:
        raise ScorerConfigError(
            "should_contain=false does not apply to dual-sided scoring; use forbidden instead",
            path="config.should_contain",
        )
    forbidden = reader.text_list("forbidden") or []
    if normalised.get("values") == [] and not forbidden:
        raise ScorerConfigError(
            "A dual-sided contains config needs values or forbidden values", path="config.values"
        )
    return {**normalised, "forbidden": forbidden, "dual_sided": True}


@dataclass(frozen=True, slots=True)
class Prepared:
    """A case's values made ready once for many outputs: as written (for the reason) and
    as searched (case-folded when the config says so)."""

    config: dict[str, Any]
    expected: Any
    wanted: list[str] | None
    wanted_needles: tuple[str, ...]
    forbidden: list[str]
    forbidden_needles: tuple[str, ...]


def prepare(config: dict[str, Any], expected: Any) -> Prepared:
    """The values a case looks for (see the module docstring), normalised once."""
    wanted = _wanted_values(config, expected)
    forbidden: list[str] = list(config["forbidden"]) if config.get("dual_sided") else []
    # Read only when there is something to search, as the scorer always has.
    fold = bool(wanted or forbidden) and not config["case_sensitive"]
    return Prepared(
        config,
        expected,
        wanted,
        _needles(wanted or [], fold=fold),
        forbidden,
        _needles(forbidden, fold=fold),
    )


def _needles(values: list[str], *, fold: bool) -> tuple[str, ...]:
    return tuple(value.casefold() for value in values) if fold else tuple(values)


def score(config: dict[str, Any], output: str, expected: Any) -> ScoreResult:
    """Score one output; see the module docstring for where the values come from."""
    return score_prepared(prepare(config, expected), output)


def score_prepared(prepared: Prepared, output: str) -> ScoreResult:
    """`score` with the case's values prepared."""
    config = prepared.config
    wanted = prepared.wanted
    if config.get("dual_sided"):
        return _score_dual(prepared, output)
    if not wanted:
        return ScoreResult(0.0, _nothing_to_look_for(prepared.expected))
    found, missing = _partition(_haystack(output, config), wanted, prepared.wanted_needles)
    if not config["should_contain"]:
        return _score_absent(found, len(wanted))
    if config["mode"] == "any":
        return _score_any(found, missing)
    if missing:
        return ScoreResult(0.0, f"Missing: {quote_list(missing)}")
    return ScoreResult(1.0, _all_found(len(wanted)))


def _wanted_values(config: dict[str, Any], expected: Any) -> list[str] | None:
    if "values" in config:
        return list(config["values"])
    if isinstance(expected, str):
        return [expected] if expected else None
    if isinstance(expected, list) and expected and all(isinstance(v, str) and v for v in expected):
        return list(expected)
    return None


def _nothing_to_look_for(expected: Any) -> str:
    """Why a case has no values: say so plainly when its expected holds an empty string."""
    if expected == "" or (isinstance(expected, list) and "" in expected):
        return f"Nothing to look for: this case's expected is (or holds) {EMPTY_VALUE}"
    return NOTHING_TO_LOOK_FOR


def _haystack(output: str, config: dict[str, Any]) -> str:
    return output if config["case_sensitive"] else output.casefold()


def _partition(
    haystack: str, values: list[str], needles: tuple[str, ...]
) -> tuple[list[str], list[str]]:
    found: list[str] = []
    missing: list[str] = []
    for value, needle in zip(values, needles, strict=True):
        (found if needle in haystack else missing).append(value)
    return found, missing


def _score_absent(found: list[str], total: int) -> ScoreResult:
    # should_contain=false asserts that none of the values occur, whatever the mode.
    if found:
        return ScoreResult(0.0, f"Found forbidden: {quote_list(found)}")
    return ScoreResult(
        1.0, "Value not found" if total == 1 else f"None of the {total} values found"
    )


def _score_any(found: list[str], missing: list[str]) -> ScoreResult:
    if found:
        return ScoreResult(1.0, f"Found: {quote_list(found)}")
    return ScoreResult(0.0, f"None found; missing: {quote_list(missing)}")


def _all_found(total: int) -> str:
    return "Value found" if total == 1 else f"All {total} values found"


def _score_dual(prepared: Prepared, output: str) -> ScoreResult:
    required = prepared.wanted or []
    forbidden = prepared.forbidden
    if not required and not forbidden:
        # Nothing was asked for: a fail on every axis rather than a vacuous pass.
        return ScoreResult(0.0, NOTHING_TO_LOOK_FOR, precision=0.0, recall=0.0)
    haystack = _haystack(output, prepared.config)
    found, missing = _partition(haystack, required, prepared.wanted_needles)
    hits, _ = _partition(haystack, forbidden, prepared.forbidden_needles)
    recall = len(found) / len(required) if required else 1.0
    precision = 1.0 - len(hits) / len(forbidden) if forbidden else 1.0
    return ScoreResult(
        harmonic_mean(precision, recall),
        _dual_reason(found, required, missing, precision, hits),
        precision=precision,
        recall=recall,
    )


def harmonic_mean(precision: float, recall: float) -> float:
    """F1 of precision and recall; 0 when both are 0."""
    if precision + recall == 0:
        return 0.0
    return min(1.0, max(0.0, 2 * precision * recall / (precision + recall)))


def _dual_reason(
    found: list[str], required: list[str], missing: list[str], precision: float, hits: list[str]
) -> str:
    recall_text = (
        f"recall {len(found)}/{len(required)}" if required else "recall 1.00 (nothing required)"
    )
    details = []
    if missing:
        details.append(f"missing: {quote_list(missing)}")
    if hits:
        details.append(f"found forbidden: {quote_list(hits)}")
    summary = f"{recall_text}, precision {precision:.2f}"
    return f"{summary} — {'; '.join(details)}" if details else summary
