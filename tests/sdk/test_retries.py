"""Retries (SPEC §11): network errors, 5xx and 429 are tried 4 times in all, 1/2/4 s apart
(scaled down here through ``backoff``), honouring ``Retry-After``; then ``run`` answers
``skipped`` with one warning. 4xx answers are never retried. Against real local servers:
a scripted one that counts requests and connections, and a port nobody listens on."""

from __future__ import annotations

import logging
import time

import pytest

from launchgate.sdk import (
    AsyncLaunchGate,
    AuthError,
    LaunchGate,
    NotFoundError,
    PaymentError,
    UnreachableError,
    ValidationError,
    WaitTimeout,
)
from launchgate.sdk._http import RetryPolicy
from tests.sdk.scripted_server import CLOSE, closed_port, error_answer, run_answer, scripted_server

FAST = 0.001  # seconds: the backoff that makes retries instant
UNAVAILABLE = error_answer(503, "UNAVAILABLE", "down for maintenance")


def _gate(url: str) -> LaunchGate:
    return LaunchGate("lg_test_k", url, backoff=FAST)


def _warnings(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    return [
        r for r in caplog.records if r.name == "launchgate.sdk" and r.levelno >= logging.WARNING
    ]


def test_the_default_policy_waits_1_2_4_seconds_and_honours_retry_after() -> None:
    policy = RetryPolicy()
    assert policy.attempts == 4
    assert [policy.delay(n, None) for n in range(3)] == [1.0, 2.0, 4.0]
    assert policy.delay(0, 7.0) == 7.0  # Retry-After asks for longer
    assert policy.delay(2, 0.5) == 4.0  # never shorter than the backoff
    assert policy.delay(0, 3600.0) == 60.0  # but capped


def test_a_5xx_api_is_tried_4_times_then_the_run_is_skipped(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG, logger="launchgate.sdk")
    with (
        scripted_server(UNAVAILABLE) as (url, script),
        LaunchGate("lg_test_k", url, backoff=0.05) as gate,
    ):
        started = time.monotonic()
        result = gate.run("refund-replies", "hello")
        elapsed = time.monotonic() - started
    assert len(script.requests) == 4
    assert (result.status, result.passed, result.id) == ("skipped", True, None)
    assert result.skipped and result.done
    assert result.message and "failed 4 times" in result.message and "503" in result.message
    assert elapsed >= 0.05 + 0.1 + 0.2  # backoff × 1, 2, 4
    warnings = _warnings(caplog)
    assert len(warnings) == 1 and "refund-replies" in warnings[0].getMessage()


def test_a_closed_port_is_tried_4_times_then_the_run_is_skipped(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG, logger="launchgate.sdk")
    with _gate(closed_port()) as gate:
        result = gate.run("refund-replies", "hello")
    assert (result.status, result.passed) == ("skipped", True)
    assert result.message and "ConnectError" in result.message
    retries = [r for r in caplog.records if "retrying" in r.getMessage()]
    assert [r.getMessage().split()[1] for r in retries] == ["1", "2", "3"]
    assert len(_warnings(caplog)) == 1


def test_dropped_connections_are_network_errors_too() -> None:
    with scripted_server(CLOSE) as (url, script), _gate(url) as gate:
        result = gate.run("refund-replies", "hello")
    assert result.status == "skipped"
    assert script.connections == 4 and len(script.requests) == 4


def test_a_recovering_api_answers_within_the_retries() -> None:
    entries = [
        UNAVAILABLE,
        CLOSE,
        error_answer(500, "INTERNAL_ERROR", "boom"),
        (200, {}, run_answer("aborted")),
    ]
    with scripted_server(*entries) as (url, script), _gate(url) as gate:
        result = gate.run("refund-replies", "hello")
    assert len(script.requests) == 4
    assert (result.status, result.passed, result.pass_rate) == ("aborted", False, 0.0)
    assert result.failures[0].case == "Offers a refund"


def test_429_waits_as_long_as_retry_after_says() -> None:
    limited = (429, {"Retry-After": "1"}, {"error": {"code": "RATE_LIMITED", "message": "slow"}})
    with scripted_server(limited, (200, {}, run_answer())) as (url, script), _gate(url) as gate:
        started = time.monotonic()
        result = gate.run("refund-replies", "hello")
        elapsed = time.monotonic() - started
    assert result.status == "cleared" and len(script.requests) == 2
    assert elapsed >= 1.0


def test_an_answer_that_is_not_json_is_retried_like_an_outage() -> None:
    with (
        scripted_server((200, {"Content-Type": "text/html"}, b"<html>proxy</html>")) as (
            url,
            script,
        ),
        _gate(url) as gate,
    ):
        result = gate.run("refund-replies", "hello")
    assert result.status == "skipped" and len(script.requests) == 4


@pytest.mark.parametrize(
    ("status", "code", "kind"),
    [
        (400, "VALIDATION_ERROR", ValidationError),
        (401, "UNAUTHORIZED", AuthError),
        (402, "USAGE_LIMIT_EXCEEDED", PaymentError),
        (404, "NOT_FOUND", NotFoundError),
        (409, "CONFLICT", ValidationError),
    ],
)
def test_4xx_answers_raise_at_once_with_the_servers_code_and_message(
    status: int, code: str, kind: type[Exception]
) -> None:
    answer = error_answer(status, code, f"said the server ({status})")
    with (
        scripted_server(answer) as (url, script),
        LaunchGate("lg_test_k", url, backoff=10) as gate,
        pytest.raises(kind) as raised,
    ):
        gate.run("refund-replies", "hello")
    assert len(script.requests) == 1
    error = raised.value
    assert (error.code, error.message, error.status) == (  # type: ignore[attr-defined]
        code,
        f"said the server ({status})",
        status,
    )


def test_a_4xx_without_the_envelope_still_says_what_happened() -> None:
    with (
        scripted_server((401, {"Content-Type": "text/plain"}, b"go away")) as (url, _),
        _gate(url) as gate,
        pytest.raises(AuthError) as raised,
    ):
        gate.run("refund-replies", "hello")
    assert (raised.value.code, raised.value.message) == ("HTTP_401", "go away")


def test_the_request_carries_the_key_and_the_run_fields() -> None:
    import json

    with (
        scripted_server((200, {}, run_answer())) as (url, script),
        LaunchGate("lg_test_secret", url, backoff=FAST) as gate,
    ):
        gate.run(
            "refund-replies", "hello", input={"q": 1}, trigger_meta={"build": 7}, project="support"
        )
    method, path, headers, body = script.requests[0]
    assert (method, path) == ("POST", "/v1/run")
    assert headers["Authorization"] == "Bearer lg_test_secret"
    assert headers["User-Agent"].startswith("launchgate-python/")
    assert json.loads(body) == {
        "suite": "refund-replies",
        "output": "hello",
        "input": {"q": 1},
        "trigger": "sdk",
        "trigger_meta": {"build": 7},
        "async": False,
        "project": "support",
    }


def test_one_client_keeps_one_connection_for_many_runs() -> None:
    with scripted_server((200, {}, run_answer())) as (url, script), _gate(url) as gate:
        for _ in range(5):
            assert gate.run("refund-replies", "hello").passed
    assert (len(script.requests), script.connections) == (5, 1)


def test_get_run_cannot_invent_a_run_so_it_raises_after_the_retries() -> None:
    with (
        scripted_server(UNAVAILABLE) as (url, script),
        _gate(url) as gate,
        pytest.raises(UnreachableError) as raised,
    ):
        gate.get_run("run_0000000000000000000000aa")
    assert raised.value.attempts == 4 and len(script.requests) == 4


def test_wait_gives_up_after_its_timeout_with_the_last_run() -> None:
    pending = {"data": {"id": "run_x", "status": "pending", "passed": False}}
    with scripted_server((200, {}, pending)) as (url, script), _gate(url) as gate:
        started = time.monotonic()
        with pytest.raises(WaitTimeout) as raised:
            gate.wait("run_x", interval=0.05, timeout=0.5)
        elapsed = time.monotonic() - started
    assert raised.value.run.status == "pending"
    # Polled every 50 ms (about 10 times, at least 3 even if each poll took 150 ms), and
    # given up soon after the timeout rather than at some later poll.
    assert 0.5 <= elapsed < 5 and 3 <= len(script.requests) <= 12, (elapsed, script.requests)


async def test_the_async_client_retries_and_skips_the_same_way(
    caplog: pytest.LogCaptureFixture,
) -> None:
    with scripted_server(UNAVAILABLE) as (url, script):
        async with AsyncLaunchGate("lg_test_k", url, backoff=FAST) as gate:
            result = await gate.run("refund-replies", "hello")
    assert (result.status, result.passed, len(script.requests)) == ("skipped", True, 4)
    assert len(_warnings(caplog)) == 1


async def test_the_async_client_raises_4xx_at_once_and_reuses_its_connection() -> None:
    entries = [
        (200, {}, run_answer()),
        (200, {}, run_answer()),
        error_answer(402, "USAGE_LIMIT_EXCEEDED", "Monthly run limit of 500 reached"),
    ]
    with scripted_server(*entries) as (url, script):
        async with AsyncLaunchGate("lg_test_k", url, backoff=10) as gate:
            assert (await gate.run("a", "x")).passed and (await gate.run("a", "x")).passed
            with pytest.raises(PaymentError, match="Monthly run limit"):
                await gate.run("a", "x")
    assert (len(script.requests), script.connections) == (3, 1)
