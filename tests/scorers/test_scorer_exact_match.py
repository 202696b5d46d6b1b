"""exact_match: text comparison, JSON comparison, and the missing-expected fail."""

from typing import Any

import pytest

from launchgate.scorers.builtin import ScoreResult, score, validate_config


def run(output: str, expected: Any, **config: Any) -> ScoreResult:
    normalised = validate_config("exact_match", config)
    return score("exact_match", normalised, output, expected, regex_timeout_s=0.2)


@pytest.mark.parametrize(
    ("output", "expected", "config", "want"),
    [
        ("Paris", "Paris", {}, 1.0),
        ("Paris", "London", {}, 0.0),
        ("  Paris\n", "Paris", {}, 1.0),
        ("Paris", "  Paris ", {}, 1.0),
        ("  Paris\n", "Paris", {"strip": False}, 0.0),
        (" Paris", " Paris", {"strip": False}, 1.0),
        ("paris", "Paris", {}, 0.0),
        ("paris", "Paris", {"case_sensitive": False}, 1.0),
        ("STRASSE", "straße", {"case_sensitive": False}, 1.0),
        ("", "", {}, 1.0),
    ],
)
def test_text_comparison(output: str, expected: str, config: dict[str, Any], want: float) -> None:
    assert run(output, expected, **config).score == want


@pytest.mark.parametrize(
    ("output", "expected", "want"),
    [
        ('{"b": 2, "a": [1, 2]}', {"a": [1, 2], "b": 2}, 1.0),
        ('{"a": [2, 1]}', {"a": [1, 2]}, 0.0),
        ('{"a": 1, "extra": 0}', {"a": 1}, 0.0),
        ('```json\n{"a": 1}\n```', {"a": 1}, 1.0),
        ("```\n[1, 2]\n```", [1, 2], 1.0),
        ("42", 42, 1.0),
        ("42.0", 42, 1.0),
        ("true", True, 1.0),
        ("1", True, 0.0),
        ("true", 1, 0.0),
        ("[0]", [False], 0.0),
        ('{"ok": 1}', {"ok": True}, 0.0),
        ("null", [None], 0.0),
        ("false", False, 1.0),
    ],
)
def test_non_string_expected_compares_as_json(output: str, expected: Any, want: float) -> None:
    assert run(output, expected).score == want


def test_json_string_values_follow_case_sensitivity() -> None:
    assert run('{"city": "PARIS"}', {"city": "paris"}).score == 0.0
    assert run('{"city": "PARIS"}', {"city": "paris"}, case_sensitive=False).score == 1.0


def test_unparseable_output_for_json_expected_fails_with_reason() -> None:
    result = run("not json at all", {"a": 1})
    assert result.score == 0.0
    assert not result.error
    assert result.reason.startswith("Output is not valid JSON")


def test_nan_is_not_json() -> None:
    assert run("NaN", 1).reason.startswith("Output is not valid JSON")


def test_missing_expected_is_a_fail_not_an_error() -> None:
    result = run("anything", None)
    assert result == ScoreResult(0.0, "No expected value set for this case")


def test_reasons_are_one_line_and_preview_both_sides() -> None:
    result = run("line one\nline two", "something else\n entirely " + "x" * 500)
    assert result.reason.startswith("Output does not match expected")
    assert "\n" not in result.reason
    assert len(result.reason) <= 300
    assert run("Paris", "Paris").reason == "Output matches expected"


def test_deeply_nested_output_does_not_crash() -> None:
    result = run("[" * 100_000 + "]" * 100_000, [1])
    assert result.score == 0.0
