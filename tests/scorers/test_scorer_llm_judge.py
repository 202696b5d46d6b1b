"""llm_judge: config validation only (the engine asks the judge)."""

from typing import Any

import pytest

from launchgate.scorers.builtin import ScorerConfigError, score, validate_config

KEY_ID = "3f2b8c1e-6a4d-4f7b-9c2e-1d5a7b9e0f13"


def test_minimal_config_gets_defaults() -> None:
    config = validate_config("llm_judge", {"rubric": "Be polite", "_provider": "openai"})
    assert config == {"rubric": "Be polite", "_provider": "openai", "temperature": 0, "samples": 1}


def test_full_config_is_kept() -> None:
    given = {
        "rubric": "Be polite",
        "_provider": "anthropic",
        "model": "claude-x",
        "key_id": KEY_ID.upper(),
        "temperature": 0.7,
        "max_tokens": 512,
        "samples": 10,
        "cache_ttl_s": 0,
    }
    assert validate_config("llm_judge", given) == given | {"key_id": KEY_ID}


@pytest.mark.parametrize(
    "config",
    [
        {"rubric": "r", "provider": "google"},
        {"rubric": "r", "provider": "google", "_provider": "google"},
        {"rubric": "r", "_provider": "google"},
    ],
)
def test_provider_alias_is_normalised(config: dict[str, Any]) -> None:
    normalised = validate_config("llm_judge", config)
    assert normalised["_provider"] == "google"
    assert "provider" not in normalised
    assert validate_config("llm_judge", normalised) == normalised


def test_null_optional_keys_mean_unset() -> None:
    config = {"rubric": "r", "_provider": "azure_openai", "model": None, "max_tokens": None}
    assert validate_config("llm_judge", config) == {
        "rubric": "r",
        "_provider": "azure_openai",
        "temperature": 0,
        "samples": 1,
    }


@pytest.mark.parametrize(
    ("change", "path"),
    [
        ({"rubric": None}, "config.rubric"),
        ({"rubric": ""}, "config.rubric"),
        ({"rubric": "   "}, "config.rubric"),
        ({"rubric": ["be nice"]}, "config.rubric"),
        ({"_provider": None}, "config._provider"),
        ({"_provider": "mistral"}, "config._provider"),
        ({"_provider": "OpenAI"}, "config._provider"),
        ({"provider": "anthropic"}, "config.provider"),
        ({"model": 4}, "config.model"),
        ({"key_id": "not-a-uuid"}, "config.key_id"),
        ({"temperature": True}, "config.temperature"),
        ({"temperature": "0.5"}, "config.temperature"),
        ({"temperature": -0.1}, "config.temperature"),
        ({"temperature": 2.5}, "config.temperature"),
        ({"temperature": float("nan")}, "config.temperature"),
        ({"max_tokens": 0}, "config.max_tokens"),
        ({"max_tokens": 10.0}, "config.max_tokens"),
        ({"max_tokens": True}, "config.max_tokens"),
        ({"samples": 0}, "config.samples"),
        ({"samples": 21}, "config.samples"),
        ({"samples": False}, "config.samples"),
        ({"cache_ttl_s": -1}, "config.cache_ttl_s"),
        ({"cache_ttl_s": 10**12}, "config.cache_ttl_s"),
        ({"cache_ttl_s": 30 * 24 * 3600 + 1}, "config.cache_ttl_s"),
        ({"cache_ttl_s": 1.5}, "config.cache_ttl_s"),
        ({"max_tokens": 65_537}, "config.max_tokens"),
        ({"max_tokens": 10**30}, "config.max_tokens"),
        ({"samples": 10**30}, "config.samples"),
        ({"temperature": 1e308}, "config.temperature"),
        ({"temperature": float("inf")}, "config.temperature"),
        ({"seed": 1}, "config.seed"),
    ],
)
def test_bad_configs(change: dict[str, Any], path: str) -> None:
    config = {"rubric": "r", "_provider": "openai"} | change
    with pytest.raises(ScorerConfigError) as caught:
        validate_config("llm_judge", config)
    assert caught.value.path == path


@pytest.mark.parametrize(
    ("key", "value", "message"),
    [
        ("cache_ttl_s", 10**12, "between 0 and 2592000"),
        ("max_tokens", 100_000, "between 1 and 65536"),
        ("samples", 50, "between 1 and 20"),
        ("temperature", 3, "between 0.0 and 2.0"),
    ],
)
def test_out_of_range_messages_state_the_range(key: str, value: int, message: str) -> None:
    config = {"rubric": "r", "_provider": "openai", key: value}
    with pytest.raises(ScorerConfigError, match=message):
        validate_config("llm_judge", config)


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("cache_ttl_s", 0),
        ("cache_ttl_s", 30 * 24 * 3600),
        ("max_tokens", 1),
        ("max_tokens", 65_536),
        ("samples", 1),
        ("samples", 20),
    ],
)
def test_integer_bounds_are_inclusive(key: str, value: int) -> None:
    config = {"rubric": "r", "_provider": "openai", key: value}
    assert validate_config("llm_judge", config)[key] == value


def test_temperature_bounds_are_inclusive() -> None:
    for temperature in (0, 2, 1.5):
        config = {"rubric": "r", "_provider": "openai", "temperature": temperature}
        assert validate_config("llm_judge", config)["temperature"] == temperature


def test_scoring_a_judge_here_is_refused() -> None:
    config = validate_config("llm_judge", {"rubric": "r", "_provider": "openai"})
    with pytest.raises(ValueError, match="engine"):
        score("llm_judge", config, "output", None, regex_timeout_s=0.2)
