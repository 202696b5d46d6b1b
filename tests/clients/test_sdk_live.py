"""The SDK against a real server (SPEC §5, §11): cleared, aborted, error, async + wait,
``project``, what ``get_run`` returns, and the 4xx answers — raised at once, never retried.
Last, inconclusive runs (issue 13): final, not passed, with typed sampling and verdict
detail, and the verdicts the suite's ``on_inconclusive`` makes of them."""

from __future__ import annotations

import logging
import time

import pytest

from launchgate import AsyncLaunchGate, LaunchGate
from launchgate.sdk import (
    AuthError,
    CaseResult,
    NotFoundError,
    PaymentError,
    RunResult,
    Sampling,
    ValidationError,
    VerdictDetail,
)
from launchgate.sdk.models import FINAL_STATUSES
from tests.clients.live import ABORTED_OUTPUT, CLEARED_OUTPUT, FIXED_OUTPUT, Gate
from tests.clients.noisy import DECIDED_OUTPUT, UNDECIDED_OUTPUT, Noisy

# Any retry would take 5 s or more: the 4xx tests prove there was none by the clock.
NO_RETRY_IN_TIME = 5.0


def test_a_cleared_run(gate: Gate) -> None:
    with LaunchGate(gate.key, gate.url) as client:
        result = client.run("refund-replies", CLEARED_OUTPUT)
    assert isinstance(result, RunResult)
    assert (result.status, result.passed, result.pass_rate) == ("cleared", True, 1.0)
    assert (result.total_cases, result.passed_cases, result.failures) == (2, 2, ())
    assert result.id and result.id.startswith("run_") and result.duration_ms is not None
    assert [case.case for case in result.scores] == ["Offers a refund", "Keeps addresses private"]
    assert all(isinstance(case, CaseResult) and case.passed for case in result.scores)


def test_an_aborted_run_lists_its_failures(gate: Gate) -> None:
    with LaunchGate(gate.key, gate.url) as client:
        result = client.run("support-answers", FIXED_OUTPUT)
    assert (result.status, result.passed, result.pass_rate) == ("aborted", False, 0.4)
    assert (result.total_cases, result.passed_cases, result.failed_cases) == (5, 2, 3)
    assert [case.case for case in result.failures] == [
        "Names the order",
        "Gives a timeline",
        "Keeps addresses private",
    ]
    assert all(case.status == "failed" and case.reason for case in result.failures)


def test_an_error_run_is_a_result_not_an_exception(gate: Gate) -> None:
    with LaunchGate(gate.key, gate.url) as client:
        result = client.run("judged", CLEARED_OUTPUT)
    assert (result.status, result.passed, result.error_cases) == ("error", False, 1)
    errored = [case for case in result.scores if case.status == "error"]
    assert len(errored) == 1 and "No active BYOK key" in errored[0].reason


def test_get_run_returns_what_was_stored_with_the_sdk_trigger(gate: Gate) -> None:
    with LaunchGate(gate.key, gate.url) as client:
        made = client.run(
            "refund-replies",
            ABORTED_OUTPUT,
            input={"customer": "Ann"},
            trigger_meta={"release": "v42"},
        )
        stored = client.get_run(made.id or "")
    assert (stored.id, stored.status, stored.pass_rate) == (made.id, "aborted", 0.5)
    assert stored.trigger == "sdk" and stored.trigger_meta == {"release": "v42"}
    assert stored.suite and stored.suite["slug"] == "refund-replies"
    assert stored.created_at and stored.completed_at
    assert stored.raw["input"] == {"customer": "Ann"} and stored.raw["output"] == ABORTED_OUTPUT
    assert [c.case for c in stored.failures] == [c.case for c in made.failures]


def test_an_async_run_is_pending_then_wait_returns_the_verdict(gate: Gate) -> None:
    with LaunchGate(gate.key, gate.url) as client:
        queued = client.run("refund-replies", ABORTED_OUTPUT, async_=True)
        assert (queued.status, queued.passed, queued.done) == ("pending", False, False)
        assert queued.id and queued.message
        final = client.wait(queued, interval=0.05, timeout=30)
    assert (final.id, final.status, final.done, final.pass_rate) == (
        queued.id,
        "aborted",
        True,
        0.5,
    )


async def test_the_async_client_runs_and_waits_too(gate: Gate) -> None:
    async with AsyncLaunchGate(gate.key, gate.url) as client:
        cleared = await client.run("refund-replies", CLEARED_OUTPUT)
        queued = await client.run("refund-replies", CLEARED_OUTPUT, async_=True)
        final = await client.wait(queued.id or "", interval=0.05, timeout=30)
        assert (await client.get_run(cleared.id or "")).status == "cleared"
    assert cleared.status == "cleared" and final.status == "cleared"


def test_project_picks_a_suite_slug_that_two_projects_share(gate: Gate) -> None:
    with LaunchGate(gate.key, gate.url, backoff=NO_RETRY_IN_TIME) as client:
        with pytest.raises(ValidationError) as raised:
            client.run("tone-check", CLEARED_OUTPUT)
        assert raised.value.code == "VALIDATION_ERROR"
        assert "support" in raised.value.message and "other" in raised.value.message
        support = client.run("tone-check", "A refund, no apology", project="support")
        other = client.run("tone-check", "A refund, no apology", project="other")
    assert (support.status, other.status) == ("cleared", "aborted")


@pytest.mark.parametrize(
    ("setup", "kind", "code", "needle"),
    [
        ("bad_key", AuthError, "UNAUTHORIZED", "API key"),
        ("paid_out", PaymentError, "USAGE_LIMIT_EXCEEDED", "500"),
        ("too_big", ValidationError, "VALIDATION_ERROR", "output"),
        ("unknown_suite", NotFoundError, "NOT_FOUND", "no-such-suite"),
    ],
)
def test_refusals_raise_at_once_with_the_servers_code_and_message(
    gate: Gate,
    request: pytest.FixtureRequest,
    caplog: pytest.LogCaptureFixture,
    setup: str,
    kind: type[Exception],
    code: str,
    needle: str,
) -> None:
    caplog.set_level(logging.DEBUG, logger="launchgate.sdk")
    key = gate.key
    if setup == "bad_key":
        key = "lg_live_" + "x" * 32
    elif setup == "paid_out":
        key = request.getfixturevalue("broke_key")
    suite = "no-such-suite" if setup == "unknown_suite" else "refund-replies"
    output = "x" * (1024 * 1024 + 1) if setup == "too_big" else CLEARED_OUTPUT
    with LaunchGate(key, gate.url, backoff=NO_RETRY_IN_TIME) as client:
        started = time.monotonic()
        with pytest.raises(kind) as raised:
            client.run(suite, output)
        assert time.monotonic() - started < 4.5
    error = raised.value
    assert error.code == code and needle in error.message  # type: ignore[attr-defined]
    assert not [r for r in caplog.records if "retrying" in r.getMessage()]


# --- inconclusive runs (issue 13) -------------------------------------------------------


def test_an_inconclusive_run_is_final_not_passed_and_typed(noisy: Noisy) -> None:
    with LaunchGate(noisy.key, noisy.url) as client:
        result = client.run("undecided", UNDECIDED_OUTPUT)
    assert (result.status, result.passed, result.done) == ("inconclusive", False, True)
    assert "inconclusive" in FINAL_STATUSES
    assert (result.passed_cases, result.failed_cases, result.inconclusive_cases) == (1, 0, 1)
    assert result.pass_rate == 0.5
    assert result.verdict_detail == VerdictDetail(
        status="inconclusive",
        on_inconclusive="inconclusive",
        pass_rate_low=0.5,
        pass_rate_high=1.0,
        inconclusive_cases=1,
    )
    assert result.verdict_detail is not None and not result.verdict_detail.mapped
    judged, plain = result.scores
    assert (judged.status, judged.passed) == ("inconclusive", False)
    assert result.failures == (judged,) and plain.sampling is None
    sampling = judged.sampling
    assert isinstance(sampling, Sampling) and sampling.stopped == "max_samples"
    assert len(sampling.samples) == 10 and all(isinstance(s, float) for s in sampling.samples)
    assert sampling.confidence == 0.95 and sampling.mean == judged.score
    low, high = sampling.interval
    assert low < judged.threshold <= high
    stored = noisy.stored_run(result.id or "")
    assert list(sampling.samples) == stored["scores"][0]["sampling"]["samples"]
    assert [low, high] == stored["scores"][0]["sampling"]["interval"]
    plain_dict = result.to_dict()
    assert plain_dict["verdict_detail"]["pass_rate_high"] == 1.0
    assert plain_dict["scores"][0]["sampling"]["stopped"] == "max_samples"


def test_wait_treats_inconclusive_as_final(noisy: Noisy) -> None:
    with LaunchGate(noisy.key, noisy.url) as client:
        queued = client.run("undecided", UNDECIDED_OUTPUT, async_=True)
        final = client.wait(queued, interval=0.05, timeout=30)
        stored = client.get_run(queued.id or "")
    assert (final.id, final.status, final.done, final.passed) == (
        queued.id,
        "inconclusive",
        True,
        False,
    )
    assert stored.inconclusive_cases == 1 and stored.suite and stored.suite["slug"] == "undecided"


async def test_the_async_client_waits_for_an_inconclusive_run_too(noisy: Noisy) -> None:
    async with AsyncLaunchGate(noisy.key, noisy.url) as client:
        queued = await client.run("undecided", UNDECIDED_OUTPUT, async_=True)
        final = await client.wait(queued.id or "", interval=0.05, timeout=30)
    assert (final.status, final.inconclusive_cases) == ("inconclusive", 1)


@pytest.mark.parametrize(
    ("suite", "status"), [("undecided-abort", "aborted"), ("undecided-clear", "cleared")]
)
def test_on_inconclusive_gives_a_verdict_and_keeps_the_raw_outcome(
    noisy: Noisy, suite: str, status: str
) -> None:
    with LaunchGate(noisy.key, noisy.url) as client:
        result = client.run(suite, UNDECIDED_OUTPUT)
    assert (result.status, result.passed) == (status, status == "cleared")
    assert result.scores[0].status == "inconclusive"
    detail = result.verdict_detail
    assert detail is not None and detail.mapped
    assert (detail.status, detail.on_inconclusive) == (
        "inconclusive",
        suite.removeprefix("undecided-"),
    )


def test_a_decided_run_has_sampling_but_no_verdict_detail(noisy: Noisy) -> None:
    with LaunchGate(noisy.key, noisy.url) as client:
        result = client.run("undecided", DECIDED_OUTPUT)
    assert (result.status, result.inconclusive_cases, result.verdict_detail) == ("cleared", 0, None)
    sampling = result.scores[0].sampling
    assert sampling == Sampling(
        samples=(0.9, 0.9, 0.9), mean=0.9, interval=(0.9, 0.9), confidence=0.95, stopped="decided"
    )
