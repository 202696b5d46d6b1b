"""A compiled scorer (scorers/builtin/compiled.py) answers exactly what `score()` does.

Compiling moves work from every run to once per snapshot; it must not move an answer.
Generated configs, expected values and outputs for `contains` (where the values are
prepared: taken from the config or the case, case-folded), and tables for the others,
including the configs `score()` raises on (the engine reports those as "Scorer failed").
"""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from launchgate.scorers.builtin import ScoreResult, score, validate_config
from launchgate.scorers.builtin.compiled import compile_case

TIMEOUT_S = 1.0
WORDS = st.sampled_from(["a", "A", "ß", "SS", "straße", "STRASSE", "x", "", "ǅ", "é"])


def _same(kind: str, config: dict[str, Any], expected: Any, output: str) -> None:
    try:
        want = score(kind, config, output, expected, regex_timeout_s=TIMEOUT_S)
    except Exception as exc:
        want = ScoreResult(0.0, f"Scorer failed: {type(exc).__name__}", error=True)
    compiled = compile_case(kind, config, expected)
    assert compiled is not None
    try:
        got = compiled.score(output, regex_timeout_s=TIMEOUT_S)
    except Exception as exc:
        got = ScoreResult(0.0, f"Scorer failed: {type(exc).__name__}", error=True)
    assert got == want


CONTAINS_CONFIGS = st.fixed_dictionaries(
    {
        "mode": st.sampled_from(["all", "any"]),
        "case_sensitive": st.booleans(),
        "should_contain": st.booleans(),
    },
    optional={"values": st.lists(WORDS.filter(bool), min_size=1, max_size=3)},
)


@settings(max_examples=300, deadline=None)
@given(
    config=CONTAINS_CONFIGS,
    dual=st.booleans(),
    forbidden=st.lists(WORDS.filter(bool), max_size=2),
    expected=st.one_of(st.none(), WORDS, st.lists(WORDS, max_size=3), st.integers()),
    output=st.lists(WORDS, max_size=5).map(" ".join),
)
def test_contains(
    config: dict[str, Any], dual: bool, forbidden: list[str], expected: Any, output: str
) -> None:
    if dual:
        config = {**config, "mode": "all", "should_contain": True, "forbidden": forbidden}
        if config.get("values") is None and not forbidden:
            config["forbidden"] = ["x"]
    config = validate_config("contains", config, dual_sided=dual)
    _same("contains", config, expected, output)


@pytest.mark.parametrize(
    ("kind", "config", "expected", "output"),
    [
        ("exact_match", {}, "Hello", " Hello "),
        ("exact_match", {"case_sensitive": False}, {"a": "X"}, '{"a": "x"}'),
        ("exact_match", {}, None, "x"),
        ("regex", {"pattern": r"\d+"}, None, "abc 42"),
        ("regex", {"pattern": r"(?<=\$)\d+", "should_match": False}, None, "$5"),
        ("json_schema", {"schema": {"type": "object", "required": ["a"]}}, None, '{"b": 1}'),
        ("json_schema", {"schema": {"type": "string", "pattern": "^x"}}, None, '"xy"'),
        ("json_schema", {"schema": True}, None, "not json"),
    ],
)
def test_the_other_scorers(kind: str, config: dict[str, Any], expected: Any, output: str) -> None:
    _same(kind, validate_config(kind, config), expected, output)


@pytest.mark.parametrize(
    ("kind", "config", "expected"),
    [
        ("contains", {"values": ["x"]}, None),  # skipped normalisation: no case_sensitive
        ("contains", {"mode": "all"}, None),  # nothing to look for: answers without it
        ("contains", {"dual_sided": True, "case_sensitive": True}, "x"),  # no forbidden
        ("regex", {"pattern": "a"}, None),  # no flags
        ("regex", {"pattern": r"\Aa", "flags": "", "should_match": True}, None),  # not JS
        ("regex", {"pattern": "a{99999}", "flags": "", "should_match": True}, None),
        ("json_schema", {"schema": {"$ref": "http://example.com/s"}}, None),
        ("json_schema", {}, None),
        ("exact_match", {}, "x"),
        ("no_such_type", {}, None),
    ],
)
def test_stored_configs_that_skipped_validation(
    kind: str, config: dict[str, Any], expected: Any
) -> None:
    _same(kind, config, expected, "x")


def test_a_bad_time_limit_is_refused_as_score_refuses_it() -> None:
    compiled = compile_case("contains", validate_config("contains", {"values": ["x"]}), None)
    assert compiled is not None
    with pytest.raises(ValueError, match="regex_timeout_s must be a positive number"):
        compiled.score("x", regex_timeout_s=0)
    assert compile_case("llm_judge", {}, None) is None
