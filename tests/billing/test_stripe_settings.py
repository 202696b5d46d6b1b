"""The five LAUNCHGATE_STRIPE_* settings (docs/billing.md, docs/configuration.md): all four
of key, webhook secret and prices, or none; a partial or malformed configuration stops
start-up with one line that names what to fix and never repeats a secret."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from launchgate.config import Settings, SettingsError, load_settings
from tests.billing.stripe_helpers import PRICE_PRO, PRICE_SCALE, SECRET_KEY, WEBHOOK_SECRET
from tests.cli.conftest import BIN, assert_one_clear_line, clean_env

FULL = {
    "LAUNCHGATE_STRIPE_SECRET_KEY": SECRET_KEY,
    "LAUNCHGATE_STRIPE_WEBHOOK_SECRET": WEBHOOK_SECRET,
    "LAUNCHGATE_STRIPE_PRICE_PRO": PRICE_PRO,
    "LAUNCHGATE_STRIPE_PRICE_SCALE": PRICE_SCALE,
}


def _load(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, **env: str) -> Settings:
    for name in (*FULL, "LAUNCHGATE_STRIPE_API_BASE"):
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    return load_settings(tmp_path)


def test_off_by_default_and_with_empty_values(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    assert not _load(monkeypatch, tmp_path).stripe_enabled
    empty = {name: "" for name in FULL}
    assert not _load(monkeypatch, tmp_path, **empty).stripe_enabled


def test_all_four_turn_it_on_and_the_secrets_stay_hidden(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    settings = _load(
        monkeypatch, tmp_path, **FULL, LAUNCHGATE_STRIPE_API_BASE="http://127.0.0.1:9/"
    )
    assert settings.stripe_enabled
    assert settings.stripe_api_base == "http://127.0.0.1:9"
    shown = repr(settings) + str(settings) + settings.model_dump_json()
    assert SECRET_KEY not in shown and WEBHOOK_SECRET not in shown


@pytest.mark.parametrize(
    "left_out",
    [
        ["LAUNCHGATE_STRIPE_WEBHOOK_SECRET"],
        ["LAUNCHGATE_STRIPE_PRICE_PRO", "LAUNCHGATE_STRIPE_PRICE_SCALE"],
        ["LAUNCHGATE_STRIPE_SECRET_KEY"],
        ["LAUNCHGATE_STRIPE_SECRET_KEY", "LAUNCHGATE_STRIPE_WEBHOOK_SECRET"],
    ],
)
def test_a_partial_configuration_names_what_is_missing(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, left_out: list[str]
) -> None:
    given = {name: value for name, value in FULL.items() if name not in left_out}
    with pytest.raises(SettingsError) as info:
        _load(monkeypatch, tmp_path, **given)
    message = str(info.value)
    assert "\n" not in message and "half configured" in message
    named = message.split(":", 1)[1].split("(")[0]
    assert all(name in named for name in left_out), message
    assert not any(name in named for name in given), message
    assert SECRET_KEY not in message and WEBHOOK_SECRET not in message


@pytest.mark.parametrize(
    ("name", "value", "needle"),
    [
        ("LAUNCHGATE_STRIPE_SECRET_KEY", "pk_test_publishable123456", "not a Stripe secret key"),
        ("LAUNCHGATE_STRIPE_SECRET_KEY", "sk_test_short", "not a Stripe secret key"),
        ("LAUNCHGATE_STRIPE_WEBHOOK_SECRET", "sk_test_Wrong123456789", "whsec_"),
        ("LAUNCHGATE_STRIPE_PRICE_PRO", "price pro", "not a Stripe price id"),
        ("LAUNCHGATE_STRIPE_PRICE_SCALE", PRICE_PRO, "the same price"),
        ("LAUNCHGATE_STRIPE_API_BASE", "ftp://127.0.0.1", "http(s)"),
        ("LAUNCHGATE_STRIPE_API_BASE", "http://", "http(s)"),
        ("LAUNCHGATE_STRIPE_API_BASE", "https://:443", "http(s)"),
        ("LAUNCHGATE_STRIPE_API_BASE", "http://127.0.0.1:99999", "http(s)"),
        ("LAUNCHGATE_STRIPE_API_BASE", "https://api.stripe.com?x=1", "http(s)"),
        ("LAUNCHGATE_STRIPE_API_BASE", "https://api stripe.com", "http(s)"),
    ],
)
def test_malformed_values_are_one_line_without_the_value(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, name: str, value: str, needle: str
) -> None:
    with pytest.raises(SettingsError) as info:
        _load(monkeypatch, tmp_path, **{**FULL, name: value})
    message = str(info.value)
    assert needle in message and "\n" not in message
    assert name.removeprefix("LAUNCHGATE_") in message
    if "SECRET" in name or "KEY" in name:
        assert value not in message


def test_launchgate_serve_refuses_a_partial_configuration(tmp_path: Path) -> None:
    env = clean_env(tmp_path, LAUNCHGATE_STRIPE_SECRET_KEY=SECRET_KEY)
    done = subprocess.run(
        [str(BIN), "serve", "--port", "1", "--data-dir", str(tmp_path / "data")],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        stdin=subprocess.DEVNULL,
    )
    assert done.returncode == 2, done.stderr
    assert_one_clear_line(done.stderr, "LAUNCHGATE_STRIPE_WEBHOOK_SECRET", "half configured")
    assert SECRET_KEY not in done.stderr + done.stdout
