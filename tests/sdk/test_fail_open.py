"""Fail-open is never silent (issue 12): a skipped run names the URL it tried and the cause;
a host that does not resolve or an invalid URL is a ``ConfigError``, never a skip;
``fail_open=False`` / ``LAUNCHGATE_FAIL_OPEN=false`` turns every skip into an
``UnreachableError``. An empty output is refused unless ``allow_empty_output=True``.

Against real local listeners only: the scripted server, a refused port on 127.0.0.1, and
names under ``.invalid``, which never resolve (RFC 6761), so no traffic leaves the machine.
"""

from __future__ import annotations

import json
import logging
import socket
from pathlib import Path

import httpx
import pytest

from launchgate.sdk import (
    AsyncLaunchGate,
    ConfigError,
    LaunchGate,
    UnreachableError,
    ValidationError,
)
from launchgate.sdk.config import ClientConfig, resolve_config
from tests.sdk.scripted_server import (
    Entry,
    closed_port,
    error_answer,
    run_answer,
    scripted_server,
)

FAST = 0.001
UNRESOLVABLE = "http://launchgate.invalid"
UNAVAILABLE = error_answer(503, "UNAVAILABLE", "down for maintenance")
LIMITED: Entry = (429, {}, {"error": {"code": "RATE_LIMITED", "message": "slow down"}})


@pytest.fixture(autouse=True)
def _no_fail_open_setting(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("LAUNCHGATE_FAIL_OPEN", raising=False)


def _warnings(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [
        r.getMessage()
        for r in caplog.records
        if r.name == "launchgate.sdk" and r.levelno >= logging.WARNING
    ]


# --- a skip names the URL and the cause ----------------------------------------------------


def test_a_refused_port_is_a_skip_that_names_the_url_and_the_cause(
    caplog: pytest.LogCaptureFixture,
) -> None:
    url = closed_port()
    with LaunchGate("lg_test_k", url, backoff=FAST) as gate:
        result = gate.run("refund-replies", "hello")
    assert (result.status, result.passed) == ("skipped", True)
    message = result.message or ""
    assert f"LaunchGate API at {url} unreachable: connection refused" in message
    assert "POST /v1/run failed 4 times" in message and "fail-open" in message
    assert "fail_open=False or LAUNCHGATE_FAIL_OPEN=false" in message  # how to make it fail
    assert _warnings(caplog) == [message]  # said once, where an unconfigured logger prints


@pytest.mark.parametrize(
    ("entry", "cause"),
    [(UNAVAILABLE, "HTTP 503"), (LIMITED, "HTTP 429 (rate limited)")],
)
def test_5xx_or_429_after_the_retries_is_a_skip_that_says_so(
    entry: Entry, cause: str, caplog: pytest.LogCaptureFixture
) -> None:
    with scripted_server(entry) as (url, script), LaunchGate("k", url, backoff=FAST) as gate:
        result = gate.run("refund-replies", "hello")
    assert len(script.requests) == 4 and result.status == "skipped"
    assert (result.message or "").startswith(f"LaunchGate API at {url} unreachable: {cause} — ")
    assert len(_warnings(caplog)) == 1


# --- configuration errors: never a skip ----------------------------------------------------


def test_a_host_that_does_not_resolve_is_a_config_error_at_once(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG, logger="launchgate.sdk")
    with LaunchGate("lg_test_k", UNRESOLVABLE, backoff=10) as gate:
        with pytest.raises(ConfigError) as raised:
            gate.run("refund-replies", "hello")
        with pytest.raises(ConfigError):
            gate.get_run("run_0000000000000000000000aa")
    error = raised.value
    assert error.code == "DNS_FAILURE"
    assert "'launchgate.invalid' does not resolve (DNS failure" in error.message
    assert "the base URL comes from base_url=" in error.message  # the SDK's word for it
    assert not [r for r in caplog.records if "retrying" in r.getMessage()]  # a 10 s backoff
    assert _warnings(caplog) == []


async def test_the_async_client_refuses_an_unresolvable_host_too() -> None:
    async with AsyncLaunchGate("lg_test_k", UNRESOLVABLE, backoff=10) as gate:
        with pytest.raises(ConfigError, match="does not resolve"):
            await gate.run("refund-replies", "hello")


def test_the_hosted_default_that_does_not_resolve_says_how_to_point_at_your_own() -> None:
    """What a self-hosted user without LAUNCHGATE_API_URL meets (the real default is not
    looked up here: no traffic may leave the machine, so a .invalid host stands in)."""
    config = ClientConfig("lg_test_k", "https://api.launchgate.invalid", "argument", "default")
    with LaunchGate(config=config) as gate, pytest.raises(ConfigError) as raised:
        gate.run("refund-replies", "hello")
    message = raised.value.message
    assert "https://api.launchgate.ai is the default, the hosted service" in message
    assert "set LAUNCHGATE_API_URL (or base_url=), e.g. http://127.0.0.1:4001" in message


@pytest.mark.parametrize(
    ("url", "problem"),
    [
        ("api.example.com", "must start with http:// or https://"),
        ("ftp://example.com", "must start with http:// or https://"),
        ("http://", "must start with http:// or https://"),
        ("http://:4001", "has no host"),
        ("http://exa mple.com", "a space or a control character"),
        ("http://127.0.0.1:port", "cannot be parsed"),
        ("http://127.0.0.1:99999", "cannot be parsed"),
        ("http://[::1", "cannot be parsed"),
        ("http://127.0.0.1:4001/?key=x", "must not carry a query"),
    ],
)
def test_an_invalid_url_is_a_config_error_when_the_client_is_made(url: str, problem: str) -> None:
    with pytest.raises(ConfigError) as raised:
        LaunchGate("lg_test_k", url)
    assert raised.value.code == "BAD_BASE_URL"
    assert problem in raised.value.message and "(from base_url=)" in raised.value.message


def test_a_dns_lookup_that_failed_for_now_is_retried_then_a_config_error() -> None:
    """``EAI_AGAIN`` (the resolver did not answer) may pass; ``EAI_NONAME`` will not."""
    from launchgate.sdk._attempts import classify

    for errno, final in ((socket.EAI_AGAIN, False), (socket.EAI_NONAME, True)):
        error = httpx.ConnectError("lookup failed")
        error.__cause__ = socket.gaierror(errno, "lookup failed")
        failure = classify(error)
        assert (failure.dns, failure.final) == (True, final)


def test_a_dns_lookup_that_keeps_failing_for_now_ends_as_a_config_error() -> None:
    from launchgate.sdk._attempts import Attempts
    from launchgate.sdk._http import RetryPolicy

    config = ClientConfig("k", "http://launchgate.invalid", "base_url=", "base_url=")
    attempts = Attempts(config, RetryPolicy(backoff=0.5), "POST", "/v1/run")
    error = httpx.ConnectError("lookup failed")
    error.__cause__ = socket.gaierror(socket.EAI_AGAIN, "Temporary failure in name resolution")
    assert [attempts.failed(error) for _ in range(3)] == [0.5, 1.0, 2.0]  # retried
    with pytest.raises(ConfigError) as raised:
        attempts.failed(error)
    assert raised.value.code == "DNS_FAILURE"
    assert "Temporary failure in name resolution" in raised.value.message


# --- fail-open off -------------------------------------------------------------------------


def test_fail_open_false_raises_instead_of_skipping(caplog: pytest.LogCaptureFixture) -> None:
    url = closed_port()
    with (
        LaunchGate("lg_test_k", url, backoff=FAST, fail_open=False) as gate,
        pytest.raises(UnreachableError) as raised,
    ):
        gate.run("refund-replies", "hello")
    assert (raised.value.url, raised.value.cause, raised.value.attempts) == (
        url,
        "connection refused",
        4,
    )
    assert _warnings(caplog) == []


def test_launchgate_fail_open_false_in_the_environment_does_the_same(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("LAUNCHGATE_FAIL_OPEN", "false")
    with scripted_server(UNAVAILABLE) as (url, script):
        with LaunchGate("k", url, backoff=FAST) as gate:
            assert gate.fail_open is False
            with pytest.raises(UnreachableError, match="HTTP 503"):
                gate.run("refund-replies", "hello")
        with LaunchGate("k", url, backoff=FAST, fail_open=True) as gate:  # the argument wins
            assert gate.run("refund-replies", "hello").status == "skipped"
    assert len(script.requests) == 8


async def test_the_async_client_honours_fail_open_false() -> None:
    async with AsyncLaunchGate("k", closed_port(), backoff=FAST, fail_open=False) as gate:
        with pytest.raises(UnreachableError, match="connection refused"):
            await gate.run("refund-replies", "hello")


@pytest.mark.parametrize(("value", "expected"), [("0", False), ("off", False), ("YES", True)])
def test_fail_open_values(value: str, expected: bool, tmp_path: Path) -> None:
    env = {"LAUNCHGATE_FAIL_OPEN": value}
    assert resolve_config("k", env=env, cwd=tmp_path, home=tmp_path).fail_open is expected


def test_a_fail_open_value_that_is_neither_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="LAUNCHGATE_FAIL_OPEN must be true or false"):
        resolve_config("k", env={"LAUNCHGATE_FAIL_OPEN": "maybe"}, cwd=tmp_path, home=tmp_path)


# --- empty outputs -------------------------------------------------------------------------


@pytest.mark.parametrize(("output", "what"), [("", "empty"), (" \n\t", "only whitespace")])
def test_an_empty_output_is_refused_before_any_request(output: str, what: str) -> None:
    with (
        scripted_server((200, {}, run_answer())) as (url, script),
        LaunchGate("k", url, backoff=FAST) as gate,
        pytest.raises(ValidationError) as raised,
    ):
        gate.run("refund-replies", output)
    assert script.requests == []
    assert raised.value.code == "VALIDATION_ERROR"
    assert raised.value.message.startswith(f"output is {what}: ")
    assert "pass allow_empty_output=True to score it anyway" in raised.value.message
    assert "--" not in raised.value.message  # the SDK speaks of arguments, not CLI flags


def test_allow_empty_output_sends_the_opt_in_and_only_then() -> None:
    with (
        scripted_server((200, {}, run_answer())) as (url, script),
        LaunchGate("k", url, backoff=FAST) as gate,
    ):
        assert gate.run("refund-replies", "", allow_empty_output=True).status == "cleared"
        gate.run("refund-replies", "hello")
    first, second = (json.loads(body) for *_, body in script.requests)
    assert (first["output"], first["allow_empty_output"]) == ("", True)
    assert "allow_empty_output" not in second  # a server without the field still answers


async def test_the_async_client_refuses_an_empty_output_too() -> None:
    async with AsyncLaunchGate("k", closed_port(), backoff=FAST) as gate:
        with pytest.raises(ValidationError, match="allow_empty_output=True"):
            await gate.run("refund-replies", "")


def test_no_key_names_the_argument_not_a_flag(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as raised:
        resolve_config(env={}, cwd=tmp_path, home=tmp_path)
    assert "pass api_key=, set LAUNCHGATE_API_KEY" in raised.value.message
    assert "--api-key" not in raised.value.message
