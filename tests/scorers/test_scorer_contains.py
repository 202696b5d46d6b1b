"""contains: values from config or expected, both polarities, modes, dual-sided arithmetic."""

from typing import Any

import pytest

from launchgate.scorers.builtin import ScorerConfigError, ScoreResult, score, validate_config


def run(
    output: str, expected: Any = None, *, dual_sided: bool = False, **config: Any
) -> ScoreResult:
    normalised = validate_config("contains", config, dual_sided=dual_sided)
    return score("contains", normalised, output, expected, regex_timeout_s=0.2)


@pytest.mark.parametrize(
    ("output", "config", "want"),
    [
        ("foo and bar", {"values": ["foo", "bar"]}, 1.0),
        ("foo only", {"values": ["foo", "bar"]}, 0.0),
        ("foo only", {"values": ["foo", "bar"], "mode": "any"}, 1.0),
        ("neither", {"values": ["foo", "bar"], "mode": "any"}, 0.0),
        ("FOO BAR", {"values": ["foo", "bar"]}, 0.0),
        ("FOO BAR", {"values": ["foo", "bar"], "case_sensitive": False}, 1.0),
        ("clean text", {"values": ["password"], "should_contain": False}, 1.0),
        ("my password", {"values": ["password"], "should_contain": False}, 0.0),
        ("my PASSWORD", {"values": ["password"], "should_contain": False}, 1.0),
        (
            "my PASSWORD",
            {"values": ["password"], "should_contain": False, "case_sensitive": False},
            0.0,
        ),
        # should_contain=false means none may occur, whatever the mode.
        ("has a", {"values": ["a", "zzz"], "should_contain": False, "mode": "any"}, 0.0),
    ],
)
def test_config_values(output: str, config: dict[str, Any], want: float) -> None:
    assert run(output, **config).score == want


@pytest.mark.parametrize(
    ("output", "expected", "want"),
    [
        ("The capital is Paris.", "Paris", 1.0),
        ("The capital is Lyon.", "Paris", 0.0),
        ("red, green and blue", ["red", "blue"], 1.0),
        ("red and green", ["red", "blue"], 0.0),
    ],
)
def test_expected_supplies_values(output: str, expected: Any, want: float) -> None:
    assert run(output, expected).score == want


def test_config_values_win_over_expected() -> None:
    assert run("alpha", "beta", values=["alpha"]).score == 1.0


@pytest.mark.parametrize("expected", [None, "", [], [1, 2], ["ok", ""], {"a": 1}, 3])
def test_nothing_to_look_for_is_a_fail(expected: Any) -> None:
    result = run("anything", expected)
    assert result.score == 0.0
    assert not result.error
    assert result.reason.startswith("Nothing to look for")


@pytest.mark.parametrize("expected", ["", ["ok", ""]])
def test_an_empty_expected_value_is_named_as_the_reason(expected: Any) -> None:
    assert run("anything", expected).reason == (
        "Nothing to look for: this case's expected is (or holds) an empty string, which every "
        "output contains, so it cannot tell outputs apart"
    )


@pytest.mark.parametrize(
    ("config", "dual_sided", "message"),
    [
        (
            {"values": ["a", ""]},
            False,
            "config.values[1] is an empty string, which every output contains, so it cannot "
            "tell outputs apart; remove it",
        ),
        (
            {"values": ["a"], "forbidden": [""]},
            True,
            "config.forbidden[0] is an empty string, which every output contains, so it cannot "
            "tell outputs apart; remove it",
        ),
        ({"values": ["a", 1]}, False, "config.values[1] must be a string, got number"),
    ],
)
def test_refusals_say_what_is_wrong(config: dict[str, Any], dual_sided: bool, message: str) -> None:
    # It said "must be a non-empty string, got string" for an empty value.
    with pytest.raises(ScorerConfigError) as caught:
        validate_config("contains", config, dual_sided=dual_sided)
    assert caught.value.message == message


def test_reasons_name_missing_and_forbidden_values() -> None:
    assert run("only foo", values=["foo", "bar", "baz"]).reason == 'Missing: "bar", "baz"'
    forbidden = run("x marks", values=["x", "y"], should_contain=False)
    assert forbidden.reason == 'Found forbidden: "x"'
    assert run("foo bar", values=["foo", "bar"]).reason == "All 2 values found"


def test_long_value_lists_are_summarised() -> None:
    values = [f"value-{i}" for i in range(20)]
    result = run("", values=values)
    assert "and 15 more" in result.reason
    assert len(result.reason) <= 300


def test_dual_sided_arithmetic() -> None:
    result = run(
        "alpha beta secret",
        dual_sided=True,
        values=["alpha", "beta", "gamma"],
        forbidden=["secret", "token"],
    )
    recall, precision = 2 / 3, 1 - 1 / 2
    assert result.recall == pytest.approx(recall)
    assert result.precision == pytest.approx(precision)
    assert result.score == pytest.approx(2 * precision * recall / (precision + recall))
    assert "recall 2/3" in result.reason
    assert "precision 0.50" in result.reason
    assert '"gamma"' in result.reason and '"secret"' in result.reason


def test_dual_sided_precision_is_one_without_forbidden_values() -> None:
    result = run("alpha", dual_sided=True, values=["alpha", "beta"])
    assert result.precision == 1.0
    assert result.recall == 0.5
    assert result.score == pytest.approx(2 * 0.5 / 1.5)
    assert result.reason == 'recall 1/2, precision 1.00 — missing: "beta"'


def test_dual_sided_recall_is_one_without_required_values() -> None:
    result = run("clean", dual_sided=True, values=[], forbidden=["secret"])
    assert (result.recall, result.precision, result.score) == (1.0, 1.0, 1.0)


def test_dual_sided_both_zero_scores_zero() -> None:
    result = run("secret", dual_sided=True, values=["alpha"], forbidden=["secret"])
    assert (result.recall, result.precision, result.score) == (0.0, 0.0, 0.0)


def test_dual_sided_uses_expected_when_values_absent() -> None:
    result = run("alpha", ["alpha", "beta"], dual_sided=True, forbidden=["x"])
    assert result.recall == 0.5
    assert result.precision == 1.0


def test_dual_sided_with_nothing_to_check_fails() -> None:
    result = run("anything", None, dual_sided=True)
    assert result.score == 0.0
    assert result.reason.startswith("Nothing to look for")


def test_dual_sided_is_recorded_in_the_normalised_config() -> None:
    config = validate_config("contains", {"values": ["a"]}, dual_sided=True)
    assert config == {
        "mode": "all",
        "case_sensitive": True,
        "should_contain": True,
        "values": ["a"],
        "forbidden": [],
        "dual_sided": True,
    }
    assert validate_config("contains", config, dual_sided=True) == config
    assert "dual_sided" not in validate_config("contains", {"values": ["a"]})


@pytest.mark.parametrize(
    ("config", "dual_sided", "path"),
    [
        ({"forbidden": ["x"]}, False, "config.forbidden"),
        ({"values": []}, False, "config.values"),
        ({"values": [""]}, False, "config.values[0]"),
        ({"values": ["a", 1]}, False, "config.values[1]"),
        ({"values": "a"}, False, "config.values"),
        ({"mode": "some"}, False, "config.mode"),
        ({"mode": "any"}, True, "config.mode"),
        ({"should_contain": False}, True, "config.should_contain"),
        ({"values": [], "forbidden": []}, True, "config.values"),
        ({"dual_sided": True}, False, "config.dual_sided"),
        ({"case_sensitive": 1}, False, "config.case_sensitive"),
        ({"should_contain": "yes"}, False, "config.should_contain"),
    ],
)
def test_bad_configs(config: dict[str, Any], dual_sided: bool, path: str) -> None:
    with pytest.raises(ScorerConfigError) as caught:
        validate_config("contains", config, dual_sided=dual_sided)
    assert caught.value.path == path
