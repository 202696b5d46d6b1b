"""The registry: type dispatch and the rules every config shares."""

from typing import Any

import pytest

from launchgate.scorers.builtin import (
    SCORER_TYPES,
    ScorerConfigError,
    ScoreResult,
    score,
    validate_config,
)

MINIMAL: dict[str, dict[str, Any]] = {
    "exact_match": {},
    "contains": {"values": ["a"]},
    "regex": {"pattern": "a"},
    "json_schema": {"schema": {"type": "object"}},
    "llm_judge": {"rubric": "r", "provider": "openai"},
}


def test_types() -> None:
    assert SCORER_TYPES == ("exact_match", "contains", "regex", "json_schema", "llm_judge")
    assert set(MINIMAL) == set(SCORER_TYPES)


def test_unknown_type() -> None:
    with pytest.raises(ScorerConfigError) as caught:
        validate_config("fuzzy", {})
    assert caught.value.path == "type"
    with pytest.raises(ValueError):
        score("fuzzy", {}, "x", None, regex_timeout_s=0.2)


@pytest.mark.parametrize("scorer_type", SCORER_TYPES)
def test_unknown_key_is_rejected(scorer_type: str) -> None:
    with pytest.raises(ScorerConfigError, match="'colour'") as caught:
        validate_config(scorer_type, MINIMAL[scorer_type] | {"colour": "red"})
    assert caught.value.path == "config.colour"


@pytest.mark.parametrize("scorer_type", SCORER_TYPES)
@pytest.mark.parametrize("config", [None, [], "{}", 1])
def test_config_must_be_an_object(scorer_type: str, config: Any) -> None:
    with pytest.raises(ScorerConfigError) as caught:
        validate_config(scorer_type, config)
    assert caught.value.path == "config"


@pytest.mark.parametrize("scorer_type", ["exact_match", "regex", "json_schema", "llm_judge"])
def test_dual_sided_only_applies_to_contains(scorer_type: str) -> None:
    with pytest.raises(ScorerConfigError) as caught:
        validate_config(scorer_type, MINIMAL[scorer_type], dual_sided=True)
    assert caught.value.path == "dual_sided"


@pytest.mark.parametrize(
    ("scorer_type", "key", "value"),
    [
        ("exact_match", "case_sensitive", 1),
        ("exact_match", "case_sensitive", 0),
        ("exact_match", "strip", "true"),
        ("contains", "case_sensitive", 1),
        ("contains", "should_contain", 0.0),
        ("regex", "should_match", 1),
        ("llm_judge", "temperature", True),
        ("llm_judge", "samples", True),
        ("llm_judge", "samples", 2.0),
    ],
)
def test_strict_types(scorer_type: str, key: str, value: Any) -> None:
    with pytest.raises(ScorerConfigError) as caught:
        validate_config(scorer_type, MINIMAL[scorer_type] | {key: value})
    assert caught.value.path == f"config.{key}"


@pytest.mark.parametrize("scorer_type", SCORER_TYPES)
def test_normalising_is_idempotent(scorer_type: str) -> None:
    once = validate_config(scorer_type, MINIMAL[scorer_type])
    assert validate_config(scorer_type, once) == once


def test_exact_match_defaults() -> None:
    assert validate_config("exact_match", {}) == {"case_sensitive": True, "strip": True}


def test_config_error_is_a_value_error_with_a_path() -> None:
    error = ScorerConfigError("bad")
    assert isinstance(error, ValueError)
    assert (error.path, str(error)) == ("config", "bad")


@pytest.mark.parametrize("timeout", [0, -1, float("inf"), float("nan")])
def test_score_needs_a_positive_regex_timeout(timeout: float) -> None:
    with pytest.raises(ValueError, match="regex_timeout_s"):
        score(
            "exact_match",
            {"case_sensitive": True, "strip": True},
            "x",
            "x",
            regex_timeout_s=timeout,
        )


def test_score_result_keeps_its_contract() -> None:
    result = ScoreResult(1, "first line\nsecond line\r\nthird")
    assert result.score == 1.0 and isinstance(result.score, float)
    assert result.reason == "first line second line third"
    assert len(ScoreResult(0.0, "x" * 1000).reason) == 300
    for bad in (-0.1, 1.1, float("nan")):
        with pytest.raises(ValueError):
            ScoreResult(bad, "x")
