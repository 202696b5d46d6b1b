"""Settings: rate strings, one-line errors naming the variable, database URLs, the secret."""

from __future__ import annotations

import base64
import hashlib
import os
import secrets
import stat
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st
from pydantic import ValidationError

from launchgate.billing.plans import PLANS as BILLING_PLANS
from launchgate.config import (
    PLANS,
    Settings,
    SettingsError,
    load_settings,
    normalise_database_url,
    parse_rate,
)


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Only the variables a test sets: none leak in from the shell or CI."""
    for name in list(os.environ):
        if name.upper().startswith("LAUNCHGATE_"):
            monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("100/minute", (100, 60)),
        ("20/15 minutes", (20, 900)),
        ("10/15 minutes", (10, 900)),
        ("1/second", (1, 1)),
        ("5 per hour", (5, 3600)),
        ("10/2 days", (10, 2 * 86400)),
        ("3/15 MINUTES", (3, 900)),
        ("  7 / minute  ", (7, 60)),
        ("100/minutes", (100, 60)),
        ("off", None),
        ("OFF", None),
        (" Off ", None),
    ],
)
def test_parse_rate(value: str, expected: tuple[int, int] | None) -> None:
    assert parse_rate(value) == expected


@pytest.mark.parametrize(
    "value",
    [
        "",
        "  ",
        "abc",
        "never",
        "100",
        "100/",
        "/minute",
        "0/minute",
        "-1/minute",
        "1.5/minute",
        "100/fortnight",
        "100 minute",
        "100/0 minutes",
        "on",
        "off/minute",
        "100/minute/extra",
    ],
)
def test_parse_rate_refuses(value: str) -> None:
    with pytest.raises(ValueError, match="is not a rate like"):
        parse_rate(value)


def test_defaults_follow_the_spec() -> None:
    settings = Settings()
    assert settings.rate == (100, 60)
    assert settings.auth_rate == (20, 15 * 60)
    assert settings.lockout == (10, 15 * 60)
    assert settings.oidc_audience == "https://api.launchgate.ai"
    assert settings.oidc_jwks_url is None and settings.redis_url is None


def test_off_turns_each_limit_off() -> None:
    settings = Settings(rate_limit="off", auth_rate_limit="off", lockout_limit="off")
    assert (settings.rate, settings.auth_rate, settings.lockout) == (None, None, None)


def test_settings_refuse_a_bad_rate() -> None:
    with pytest.raises(ValidationError):
        Settings(rate_limit="lots")


def test_load_settings_reads_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LAUNCHGATE_RATE_LIMIT", "50/minute")
    monkeypatch.setenv("LAUNCHGATE_AUTH_RATE_LIMIT", "off")
    monkeypatch.setenv("LAUNCHGATE_LOCKOUT_LIMIT", "5/15 minutes")
    monkeypatch.setenv("LAUNCHGATE_OIDC_AUDIENCE", "https://api.example.com")
    settings = load_settings()
    assert (settings.rate, settings.auth_rate, settings.lockout) == ((50, 60), None, (5, 900))
    assert settings.oidc_audience == "https://api.example.com"


@pytest.mark.parametrize(
    "variable", ["LAUNCHGATE_RATE_LIMIT", "LAUNCHGATE_AUTH_RATE_LIMIT", "LAUNCHGATE_LOCKOUT_LIMIT"]
)
def test_bad_rate_in_the_environment_is_one_line(
    monkeypatch: pytest.MonkeyPatch, variable: str
) -> None:
    monkeypatch.setenv(variable, "lots/minute")
    with pytest.raises(SettingsError) as info:
        load_settings()
    message = str(info.value)
    assert message.startswith(f"{variable}: ")
    assert "\n" not in message
    assert "lots/minute" in message and "100/minute" in message  # the value and an example
    assert info.value.__suppress_context__  # no pydantic traceback chained under it


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("LAUNCHGATE_ENV", "staging"),
        ("LAUNCHGATE_REGEX_TIMEOUT_MS", "0"),
        ("LAUNCHGATE_JWT_TTL_S", "ten"),
        ("LAUNCHGATE_DEFAULT_PLAN", "platinum"),
    ],
)
def test_other_bad_values_name_their_variable(
    monkeypatch: pytest.MonkeyPatch, variable: str, value: str
) -> None:
    monkeypatch.setenv(variable, value)
    with pytest.raises(SettingsError, match=f"^{variable}: ") as info:
        load_settings()
    assert "\n" not in str(info.value)


def test_production_refuses_a_short_secret(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LAUNCHGATE_ENV", "production")
    monkeypatch.setenv("LAUNCHGATE_SECRET_KEY", "short")
    with pytest.raises(SettingsError, match="LAUNCHGATE_SECRET_KEY"):
        load_settings()
    good = secrets.token_urlsafe(32)
    monkeypatch.setenv("LAUNCHGATE_SECRET_KEY", good)
    assert load_settings().jwt_secret() == good


# What an operator pastes when asked for a secret: random ones always pass; a pattern
# repeated, or a handful of characters, never does (kit/entropy.py defines both).
random_secrets = st.binary(min_size=24, max_size=64).map(
    lambda seed: base64.urlsafe_b64encode(hashlib.sha512(seed).digest()).decode()
)
repeated_secrets = st.tuples(
    st.text(st.characters(min_codepoint=0x21, max_codepoint=0x7E), min_size=1, max_size=16),
    st.integers(32, 80),
).map(lambda pattern_length: (pattern_length[0] * 80)[: pattern_length[1]])
few_character_secrets = st.text(st.sampled_from("abcdefg"), min_size=32, max_size=80)


@hypothesis_settings(max_examples=200, deadline=None)
@given(secret=random_secrets, env=st.sampled_from(["development", "production"]))
def test_random_secret_keys_are_accepted(secret: str, env: str) -> None:
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("LAUNCHGATE_ENV", env)
        patch.setenv("LAUNCHGATE_SECRET_KEY", secret)
        assert load_settings().secret_key == secret


@hypothesis_settings(max_examples=200, deadline=None)
@given(
    secret=st.one_of(repeated_secrets, few_character_secrets),
    env=st.sampled_from(["development", "production"]),
)
def test_low_entropy_secret_keys_are_refused(secret: str, env: str) -> None:
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("LAUNCHGATE_ENV", env)
        patch.setenv("LAUNCHGATE_SECRET_KEY", secret)
        with pytest.raises(SettingsError) as info:
            load_settings()
    message = str(info.value)
    assert message.startswith("LAUNCHGATE_SECRET_KEY ") and "\n" not in message
    assert "secrets.token_urlsafe" in message  # how to make a good one
    assert secret not in message


def test_a_one_character_secret_is_refused_in_production(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LAUNCHGATE_ENV", "production")
    monkeypatch.setenv("LAUNCHGATE_SECRET_KEY", "p" * 64)
    with pytest.raises(SettingsError, match="uses only 1 distinct character"):
        load_settings()


def test_env_test_accepts_a_fixed_secret(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LAUNCHGATE_ENV", "test")
    monkeypatch.setenv("LAUNCHGATE_SECRET_KEY", "x" * 40)
    assert load_settings().secret_key == "x" * 40


def test_plan_names_come_from_the_one_plan_table() -> None:
    assert PLANS == tuple(BILLING_PLANS) == ("free", "pro", "scale", "enterprise")
    for plan in PLANS:
        assert Settings(default_plan=plan).default_plan == plan


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("postgres://u:p@db:5432/lg", "postgresql+psycopg://u:p@db:5432/lg"),
        ("postgresql://u@db/lg", "postgresql+psycopg://u@db/lg"),
        ("postgresql+psycopg://u@db/lg", "postgresql+psycopg://u@db/lg"),
        ("sqlite:///data/lg.db", "sqlite+aiosqlite:///data/lg.db"),
        ("sqlite+aiosqlite:///data/lg.db", "sqlite+aiosqlite:///data/lg.db"),
    ],
)
def test_database_urls_get_async_drivers(url: str, expected: str) -> None:
    assert normalise_database_url(url) == expected
    assert Settings(database_url=url).resolved_database_url == expected


def test_default_database_is_sqlite_in_the_data_dir(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path / "data")
    assert settings.embedded
    assert settings.resolved_database_url == (
        f"sqlite+aiosqlite:///{(tmp_path / 'data' / 'launchgate.db').resolve()}"
    )
    assert not Settings(database_url="postgresql://db/lg").embedded


def test_embedded_secret_is_generated_once_and_private(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    first = Settings(data_dir=data_dir).jwt_secret()
    assert len(first) >= 48
    path = data_dir / "secret_key"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert Settings(data_dir=data_dir).jwt_secret() == first  # survives a restart


def test_an_explicit_secret_wins(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path, secret_key="k" * 40)
    assert settings.jwt_secret() == "k" * 40
    assert not (tmp_path / "secret_key").exists()


@pytest.mark.parametrize(
    "overrides",
    [{"env": "production"}, {"database_url": "postgresql://db/lg"}],
)
def test_no_generated_secret_outside_embedded_development(
    tmp_path: Path, overrides: dict[str, Any]
) -> None:
    settings = Settings(data_dir=tmp_path, **overrides)
    with pytest.raises(SettingsError, match="LAUNCHGATE_SECRET_KEY"):
        settings.jwt_secret()
    assert not (tmp_path / "secret_key").exists()
