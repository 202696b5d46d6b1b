"""Key and base-URL resolution (SPEC §11): argument, environment, ./.launchgaterc,
~/.launchgaterc, then the hosted default — each value on its own."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from launchgate.sdk import DEFAULT_BASE_URL, ConfigError, LaunchGate, resolve_config
from launchgate.sdk.config import retry_backoff


@pytest.fixture
def dirs(tmp_path: Path) -> tuple[Path, Path]:
    cwd, home = tmp_path / "project", tmp_path / "home"
    cwd.mkdir()
    home.mkdir()
    return cwd, home


def _rc(directory: Path, **values: object) -> None:
    (directory / ".launchgaterc").write_text(json.dumps(values))


def test_the_order_with_all_four_sources_present(dirs: tuple[Path, Path]) -> None:
    cwd, home = dirs
    _rc(cwd, apiKey="lg_test_from_project_rc", baseUrl="http://project-rc.test")
    _rc(home, apiKey="lg_test_from_home_rc", baseUrl="http://home-rc.test")
    env = {"LAUNCHGATE_API_KEY": "lg_test_from_env", "LAUNCHGATE_API_URL": "http://env.test"}

    def resolve(key: str | None, url: str | None, environ: dict[str, str]) -> tuple[str, str]:
        config = resolve_config(key, url, env=environ, cwd=cwd, home=home)
        return config.api_key, config.base_url

    assert resolve("lg_test_from_argument", "http://argument.test", env) == (
        "lg_test_from_argument",
        "http://argument.test",
    )
    assert resolve(None, None, env) == ("lg_test_from_env", "http://env.test")
    assert resolve(None, None, {}) == ("lg_test_from_project_rc", "http://project-rc.test")
    (cwd / ".launchgaterc").unlink()
    assert resolve(None, None, {}) == ("lg_test_from_home_rc", "http://home-rc.test")
    _rc(home, apiKey="lg_test_from_home_rc")
    assert resolve(None, None, {}) == ("lg_test_from_home_rc", DEFAULT_BASE_URL)
    (home / ".launchgaterc").unlink()
    with pytest.raises(ConfigError) as raised:
        resolve(None, None, {})
    assert "LAUNCHGATE_API_KEY" in raised.value.message and ".launchgaterc" in raised.value.message


def test_each_value_comes_from_its_own_first_source(dirs: tuple[Path, Path]) -> None:
    cwd, home = dirs
    _rc(cwd, baseUrl="http://project-rc.test")  # no key here
    _rc(home, apiKey="lg_test_home_secret", baseUrl="http://home-rc.test")
    config = resolve_config(env={"LAUNCHGATE_API_URL": ""}, cwd=cwd, home=home)
    assert (config.api_key, config.base_url) == ("lg_test_home_secret", "http://project-rc.test")
    assert config.api_key_source == str(home / ".launchgaterc")
    assert config.base_url_source == str(cwd / ".launchgaterc")
    assert "secret" not in repr(config)  # only the key's prefix is ever shown


def test_empty_values_count_as_absent(dirs: tuple[Path, Path]) -> None:
    """An action input left empty becomes an empty variable; it must not hide the rc file."""
    cwd, home = dirs
    _rc(cwd, apiKey="lg_test_rc", baseUrl="")
    config = resolve_config("", "  ", env={"LAUNCHGATE_API_KEY": ""}, cwd=cwd, home=home)
    assert (config.api_key, config.base_url) == ("lg_test_rc", DEFAULT_BASE_URL)


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("http://127.0.0.1:4001/", "http://127.0.0.1:4001"),
        ("https://lg.example.com/v1", "https://lg.example.com"),
        ("https://lg.example.com/gate/v1/", "https://lg.example.com/gate"),
    ],
)
def test_base_urls_are_normalised(given: str, expected: str, dirs: tuple[Path, Path]) -> None:
    cwd, home = dirs
    assert resolve_config("k", given, env={}, cwd=cwd, home=home).base_url == expected


@pytest.mark.parametrize(
    ("content", "needle"),
    [
        ("{not json", "not valid JSON"),
        ('["lg_test_x"]', "JSON object"),
        ('{"apiKey": 42}', "apiKey must be a string"),
    ],
)
def test_a_malformed_rc_file_is_named(content: str, needle: str, dirs: tuple[Path, Path]) -> None:
    cwd, home = dirs
    (cwd / ".launchgaterc").write_text(content)
    with pytest.raises(ConfigError) as raised:
        resolve_config(env={}, cwd=cwd, home=home)
    assert needle in raised.value.message and str(cwd / ".launchgaterc") in raised.value.message


def test_a_base_url_without_a_scheme_is_refused(dirs: tuple[Path, Path]) -> None:
    cwd, home = dirs
    with pytest.raises(ConfigError, match="http:// or https://"):
        resolve_config("k", "api.launchgate.ai", env={}, cwd=cwd, home=home)


def test_the_client_reads_the_process_environment(
    monkeypatch: pytest.MonkeyPatch, dirs: tuple[Path, Path]
) -> None:
    cwd, home = dirs
    monkeypatch.chdir(cwd)
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("LAUNCHGATE_API_KEY", "lg_test_env_secret")
    monkeypatch.delenv("LAUNCHGATE_API_URL", raising=False)
    _rc(cwd, baseUrl="http://from-rc.test")
    with LaunchGate() as gate:
        assert gate.config.api_key == "lg_test_env_secret"
        assert gate.base_url == "http://from-rc.test"
        assert "secret" not in repr(gate) and "secret" not in repr(gate.config)


# --- LAUNCHGATE_RETRY_BACKOFF (launchgate run and the pytest plugin read it the same way)


@pytest.mark.parametrize(
    ("value", "seconds"), [(None, 1.0), ("", 1.0), ("0", 0.0), ("2.5", 2.5), (" 3 ", 3.0)]
)
def test_the_retry_backoff_is_read_in_seconds(value: str | None, seconds: float) -> None:
    assert retry_backoff(value) == seconds


@pytest.mark.parametrize(
    ("value", "says"),
    [
        ("soon", "must be a number of seconds, not 'soon'"),
        ("1\x00", "must be a number of seconds"),
        ("-1", "finite number of seconds ≥ 0"),
        ("nan", "finite number of seconds ≥ 0"),  # a retry would crash on sleep(nan)
        ("inf", "finite number of seconds ≥ 0"),  # ... or wait for ever
        ("-inf", "finite number of seconds ≥ 0"),
        ("1e999", "finite number of seconds ≥ 0"),
    ],
)
def test_a_bad_retry_backoff_is_a_configuration_error(value: str, says: str) -> None:
    with pytest.raises(ConfigError, match=re.escape(says)) as refused:
        retry_backoff(value)
    assert refused.value.code == "BAD_BACKOFF"
