"""regex: search semantics, JS flags, compile-time errors and the time limit."""

from typing import Any

import pytest

from launchgate.scorers.builtin import ScorerConfigError, ScoreResult, score, validate_config
from launchgate.scorers.builtin.regex_match import compile_pattern


def run(output: str, *, timeout: float = 0.2, **config: Any) -> ScoreResult:
    normalised = validate_config("regex", config)
    return score("regex", normalised, output, None, regex_timeout_s=timeout)


@pytest.mark.parametrize(
    ("output", "config", "want"),
    [
        ("order #1234 shipped", {"pattern": r"#\d+"}, 1.0),
        ("no number here", {"pattern": r"#\d+"}, 0.0),
        ("no number here", {"pattern": r"#\d+", "should_match": False}, 1.0),
        ("order #1234", {"pattern": r"#\d+", "should_match": False}, 0.0),
        ("Hello", {"pattern": "hello"}, 0.0),
        ("Hello", {"pattern": "hello", "flags": "i"}, 1.0),
        ("one\ntwo", {"pattern": "^two$"}, 0.0),
        ("one\ntwo", {"pattern": "^two$", "flags": "m"}, 1.0),
        ("one\ntwo", {"pattern": "one.two"}, 0.0),
        ("one\ntwo", {"pattern": "one.two", "flags": "s"}, 1.0),
        ("café", {"pattern": r"caf\w", "flags": "u"}, 0.0),  # \w is ASCII, as in JavaScript
        ("café", {"pattern": r"caf\p{L}", "flags": "u"}, 1.0),
        ("a a", {"pattern": "a", "flags": "g"}, 1.0),
        ("ONE\ntwo", {"pattern": "^one.TWO$", "flags": "ismug"}, 1.0),
        ("prefix match suffix", {"pattern": "match"}, 1.0),
    ],
)
def test_matching(output: str, config: dict[str, Any], want: float) -> None:
    assert run(output, **config).score == want


def test_reasons() -> None:
    assert run("abc", pattern="b").reason == 'Pattern matched: "b"'
    assert run("abc", pattern="z").reason == "Pattern did not match"
    assert run("abc", pattern="b", should_match=False).reason.startswith(
        "Pattern matched but should not have"
    )
    assert run("abc", pattern="z", should_match=False).reason.startswith("Pattern did not match")


@pytest.mark.parametrize(
    ("flags", "message"),
    [("x", "Unsupported regex flag 'x'"), ("iy", "Unsupported regex flag 'y'"), ("ii", "Repeated")],
)
def test_bad_flags(flags: str, message: str) -> None:
    with pytest.raises(ScorerConfigError, match=message) as caught:
        validate_config("regex", {"pattern": "a", "flags": flags})
    assert caught.value.path == "config.flags"


@pytest.mark.parametrize("pattern", ["(", "a)", "a**", "[z-a]", "(?P<1>a)"])
def test_invalid_pattern_is_a_config_error(pattern: str) -> None:
    with pytest.raises(ScorerConfigError, match="Invalid regex") as caught:
        validate_config("regex", {"pattern": pattern})
    assert caught.value.path == "config.pattern"


@pytest.mark.parametrize(
    ("config", "path"),
    [
        ({}, "config.pattern"),
        ({"pattern": ""}, "config.pattern"),
        ({"pattern": 5}, "config.pattern"),
        ({"pattern": "a", "flags": 1}, "config.flags"),
        ({"pattern": "a", "should_match": 0}, "config.should_match"),
        ({"pattern": "a", "case_sensitive": False}, "config.case_sensitive"),
    ],
)
def test_bad_configs(config: dict[str, Any], path: str) -> None:
    with pytest.raises(ScorerConfigError) as caught:
        validate_config("regex", config)
    assert caught.value.path == path


def test_normalised_config_fills_defaults() -> None:
    assert validate_config("regex", {"pattern": "a"}) == {
        "pattern": "a",
        "flags": "",
        "should_match": True,
    }


@pytest.mark.parametrize(
    ("pattern", "output"),
    [
        # Exponential for a backtracking matcher, whichever way the engine is built.
        (r"(a|aa)+$", "a" * 40 + "!"),
        # The `regex` module defuses (a+)+$ on short inputs; a long one still takes too long.
        (r"(a+)+$", "a" * 50_000 + "!"),
    ],
)
def test_catastrophic_pattern_ends_in_error(pattern: str, output: str) -> None:
    result = run(output, timeout=0.2, pattern=pattern)
    assert result.error is True
    assert result.score == 0.0
    assert result.reason == "Regex timed out after 200 ms"


def test_textbook_catastrophic_pattern_on_short_input_returns() -> None:
    # (a+)+$ against "a"*40 + "!" hangs the stdlib `re`; the `regex` module answers at once.
    result = run("a" * 40 + "!", timeout=0.2, pattern=r"(a+)+$")
    assert result.score == 0.0


def test_compiled_patterns_are_cached() -> None:
    # regex's own cache is bypassed (cache_pattern=False), so the same object twice is ours.
    assert compile_pattern("cache-me", "i") is compile_pattern("cache-me", "i")
    assert compile_pattern("cache-me", "i") is not compile_pattern("cache-me", "")
