"""SPEC §7's retry policy: what is retried, how long it sleeps, and that a sleeping request
holds no limiter slot; first with a scripted call raising our real error classes, then over
real HTTP against the fake provider server."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from typing import Any

import pytest

from launchgate import providers
from launchgate.config import Settings, SettingsError, load_settings
from launchgate.providers import (
    ChatReply,
    ChatRequest,
    HttpClient,
    ProviderAuthError,
    ProviderBadRequest,
    ProviderError,
    ProviderQuotaExhausted,
    ProviderRateLimited,
    ProviderServerError,
    ProviderTimeout,
    ProviderUnreachable,
)
from launchgate.providers.limiter import LocalJudgeLimiter
from launchgate.providers.retry import (
    CallOutcome,
    RetryPolicy,
    backoff_delay,
    call_with_retries,
    retry_policy,
)
from launchgate.testing.fake_provider import key_fingerprint
from tests.providers.conftest import Fake

ORG = "org_a"
P = "openai"


def rate_limited(retry_after: float | None = None) -> ProviderRateLimited:
    return ProviderRateLimited(P, "Rate limit reached", 429, retry_after=retry_after)


def server_error(status: int = 500) -> ProviderServerError:
    return ProviderServerError(P, f"HTTP {status}", status)


class Scripted:
    """A provider call that raises the scripted errors in turn, then answers ``"verdict"``.

    It checks that it runs holding exactly one slot of the limiter.
    """

    def __init__(self, limiter: LocalJudgeLimiter, *errors: ProviderError) -> None:
        self.limiter = limiter
        self.errors = list(errors)
        self.calls = 0

    async def __call__(self) -> str:
        self.calls += 1
        assert self.limiter.in_flight(ORG, P) == 1
        if self.errors:
            raise self.errors.pop(0)
        return "verdict"


class RecordingSleep:
    """An injected sleep: records each delay and checks no slot is held while sleeping."""

    def __init__(self, limiter: LocalJudgeLimiter, real: bool = False) -> None:
        self.limiter = limiter
        self.real = real
        self.delays: list[float] = []

    async def __call__(self, seconds: float) -> None:
        assert self.limiter.in_flight(ORG, P) == 0, "a request sleeping before a retry holds a slot"
        self.delays.append(seconds)
        if self.real:
            await asyncio.sleep(seconds)


async def run(
    *errors: ProviderError, policy: RetryPolicy | None = None
) -> tuple[CallOutcome[str], Scripted, RecordingSleep]:
    limiter = LocalJudgeLimiter(1)
    call, sleep = Scripted(limiter, *errors), RecordingSleep(limiter)
    outcome = await call_with_retries(
        call, limiter=limiter, org_id=ORG, provider=P, policy=policy or RetryPolicy(), sleep=sleep
    )
    assert outcome.attempts == call.calls
    assert limiter.in_flight(ORG, P) == 0 and limiter.tracked_keys() == 0
    return outcome, call, sleep


# -- backoff_delay -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("rand", "expected"),
    [
        (lambda: 0.0, [1.0, 2.0, 4.0]),
        (lambda: 1.0, [1.25, 2.5, 5.0]),
        (lambda: 0.5, [1.125, 2.25, 4.5]),
    ],
)
def test_backoff_doubles_from_the_base_plus_jitter(
    rand: Callable[[], float], expected: list[float]
) -> None:
    policy = RetryPolicy()
    assert [backoff_delay(policy, n, None, rand) for n in (1, 2, 3)] == expected


def test_backoff_scales_with_the_base() -> None:
    policy = RetryPolicy(backoff_base_s=0.01, jitter=0.0)
    assert [backoff_delay(policy, n, None) for n in (1, 2, 3)] == [0.01, 0.02, 0.04]
    assert backoff_delay(RetryPolicy(backoff_base_s=0.0), 3, None) == 0.0


def test_retry_after_overrides_the_backoff_up_to_the_cap() -> None:
    policy = RetryPolicy()
    assert backoff_delay(policy, 1, 1.0, lambda: 1.0) == 1.0
    assert backoff_delay(policy, 3, 7.5) == 7.5
    assert backoff_delay(policy, 1, 0.0) == 0.0  # a Retry-After date already past
    assert backoff_delay(policy, 1, 3600.0) == 60.0
    assert backoff_delay(RetryPolicy(retry_after_cap_s=5), 2, 30.0) == 5.0


# -- call_with_retries with scripted errors ---------------------------------------------------


async def test_success_at_once_is_one_attempt() -> None:
    outcome, _, sleep = await run()
    assert outcome == CallOutcome("verdict", None, 1) and outcome.ok
    assert sleep.delays == []


async def test_a_429_with_retry_after_then_success_waits_retry_after() -> None:
    outcome, _, sleep = await run(rate_limited(retry_after=1))
    assert (outcome.value, outcome.error, outcome.attempts) == ("verdict", None, 2)
    assert sleep.delays == [1.0]


async def test_four_500s_give_up_after_three_retries_with_the_last_error() -> None:
    errors = [server_error() for _ in range(4)]
    outcome, call, sleep = await run(*errors, server_error())
    assert outcome.attempts == 4 and call.calls == 4
    assert outcome.value is None and not outcome.ok
    assert outcome.error is errors[-1]
    assert len(sleep.delays) == 3
    for delay, low in zip(sleep.delays, (1.0, 2.0, 4.0), strict=True):
        assert low <= delay <= low * 1.25


@pytest.mark.parametrize(
    "error",
    [
        ProviderBadRequest(P, "bad request", 400),
        ProviderAuthError(P, "Incorrect API key provided", 401),
        ProviderAuthError(P, "forbidden", 403),
        ProviderBadRequest(P, "The model does not exist", 404),
        ProviderQuotaExhausted(P, "You exceeded your current quota", 429),
        ProviderQuotaExhausted(P, "credit balance too low", 402),
    ],
    ids=["400", "401", "403", "404", "quota-429", "quota-402"],
)
async def test_final_errors_are_not_retried(error: ProviderError) -> None:
    outcome, _, sleep = await run(error)
    assert outcome == CallOutcome(None, error, 1)
    assert sleep.delays == []


@pytest.mark.parametrize(
    "error",
    [
        ProviderTimeout(P, "no answer within 60 s"),
        ProviderUnreachable(P, "connection refused"),
        ProviderServerError("anthropic", "Overloaded", 529),
        ProviderServerError(P, "Service unavailable", 503),
        ProviderRateLimited(P, "slow down", 429),
    ],
    ids=["timeout", "unreachable", "529", "503", "429-no-retry-after"],
)
async def test_transient_errors_are_retried(error: ProviderError) -> None:
    outcome, _, sleep = await run(error, error)
    assert outcome.value == "verdict" and outcome.attempts == 3
    assert 1.0 <= sleep.delays[0] <= 1.25 and 2.0 <= sleep.delays[1] <= 2.5


async def test_a_final_error_after_retries_stops_there() -> None:
    quota = ProviderQuotaExhausted(P, "quota", 429)
    outcome, _, sleep = await run(ProviderTimeout(P, "slow"), quota, server_error())
    assert outcome == CallOutcome(None, quota, 2)
    assert len(sleep.delays) == 1


async def test_retry_after_is_capped() -> None:
    outcome, _, sleep = await run(rate_limited(retry_after=600))
    assert outcome.ok and sleep.delays == [60.0]
    outcome, _, sleep = await run(
        rate_limited(retry_after=600), policy=RetryPolicy(retry_after_cap_s=0.5)
    )
    assert sleep.delays == [0.5]


async def test_retry_after_on_a_5xx_is_honoured_too() -> None:
    error = ProviderServerError(P, "Service unavailable", 503, retry_after=3)
    _, _, sleep = await run(error)
    assert sleep.delays == [3.0]


async def test_max_retries_bounds_the_attempts() -> None:
    outcome, _, sleep = await run(*[rate_limited()] * 5, policy=RetryPolicy(max_retries=0))
    assert outcome.attempts == 1 and sleep.delays == []
    outcome, _, sleep = await run(*[rate_limited()] * 5, policy=RetryPolicy(max_retries=1))
    assert outcome.attempts == 2 and len(sleep.delays) == 1


async def test_the_slot_is_free_during_the_sleep_for_others_to_take() -> None:
    """With a limit of 1, another request runs while the first waits to retry."""
    limiter = LocalJudgeLimiter(1)
    order: list[str] = []

    async def first() -> str:
        order.append("first")
        if order.count("first") == 1:
            raise rate_limited(retry_after=0.05)
        return "first"

    async def second() -> str:
        order.append("second")
        return "second"

    async def start_second_then_sleep(seconds: float) -> None:
        other = asyncio.create_task(
            call_with_retries(second, limiter=limiter, org_id=ORG, provider=P, policy=RetryPolicy())
        )
        await asyncio.sleep(seconds)
        assert (await other).value == "second"

    outcome = await call_with_retries(
        first,
        limiter=limiter,
        org_id=ORG,
        provider=P,
        policy=RetryPolicy(),
        sleep=start_second_then_sleep,
    )
    assert outcome.value == "first" and order == ["first", "second", "first"]


async def test_other_exceptions_propagate_and_free_the_slot() -> None:
    limiter = LocalJudgeLimiter(1)

    async def broken() -> str:
        raise KeyError("a bug, not a provider failure")

    with pytest.raises(KeyError):
        await call_with_retries(
            broken, limiter=limiter, org_id=ORG, provider=P, policy=RetryPolicy()
        )
    assert limiter.in_flight(ORG, P) == 0 and limiter.tracked_keys() == 0


async def test_cancellation_while_sleeping_leaves_no_slot_behind() -> None:
    limiter = LocalJudgeLimiter(1)
    sleeping = asyncio.Event()

    async def call() -> str:
        raise rate_limited(retry_after=30)

    async def sleep(seconds: float) -> None:
        sleeping.set()
        await asyncio.sleep(seconds)

    task = asyncio.create_task(
        call_with_retries(
            call, limiter=limiter, org_id=ORG, provider=P, policy=RetryPolicy(), sleep=sleep
        )
    )
    await sleeping.wait()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert limiter.tracked_keys() == 0


# -- settings -----------------------------------------------------------------------------


def test_the_settings_and_their_defaults(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("CONCURRENCY", "BACKOFF_BASE_S", "RETRY_AFTER_CAP_S"):
        monkeypatch.delenv(f"LAUNCHGATE_JUDGE_{name}", raising=False)
    settings = Settings()
    assert (
        settings.judge_concurrency,
        settings.judge_backoff_base_s,
        settings.judge_retry_after_cap_s,
    ) == (20, 1.0, 60.0)
    assert retry_policy(settings) == RetryPolicy(3, 1.0, 60.0, 0.25)


def test_the_settings_come_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LAUNCHGATE_JUDGE_CONCURRENCY", "5")
    monkeypatch.setenv("LAUNCHGATE_JUDGE_BACKOFF_BASE_S", "0.01")
    monkeypatch.setenv("LAUNCHGATE_JUDGE_RETRY_AFTER_CAP_S", "2.5")
    settings = load_settings()
    assert settings.judge_concurrency == 5
    assert retry_policy(settings) == RetryPolicy(backoff_base_s=0.01, retry_after_cap_s=2.5)


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("LAUNCHGATE_JUDGE_CONCURRENCY", "0"),
        ("LAUNCHGATE_JUDGE_BACKOFF_BASE_S", "-1"),
        ("LAUNCHGATE_JUDGE_RETRY_AFTER_CAP_S", "-0.5"),
    ],
)
def test_bad_settings_stop_start_up_naming_the_variable(
    monkeypatch: pytest.MonkeyPatch, name: str, value: str
) -> None:
    monkeypatch.setenv(name, value)
    with pytest.raises(SettingsError, match=name):
        load_settings()


# -- against the fake provider server, over real HTTP ----------------------------------------

FAST = RetryPolicy(backoff_base_s=0.01, retry_after_cap_s=0.05)
VERDICT_SCHEMA = {
    "type": "object",
    "properties": {"reasoning": {"type": "string"}, "score": {"type": "number"}},
    "required": ["reasoning", "score"],
    "additionalProperties": False,
}


def verdict_request() -> ChatRequest:
    return ChatRequest(
        model="gpt-4o",
        system="You are a strict evaluator.",
        user="Rate: 'Paris is the capital of France.'",
        max_tokens=256,
        json_schema={"name": "judge_verdict", "schema": VERDICT_SCHEMA},
    )


async def judge(
    fake: Fake,
    http: HttpClient,
    limiter: LocalJudgeLimiter,
    *,
    org: str = ORG,
    secret: str | None = None,
    sleep: Any = asyncio.sleep,
    timeout_s: float = 5.0,
) -> CallOutcome[ChatReply]:
    credential, settings = fake.credential(P, secret), fake.with_settings(timeout_s=timeout_s)
    return await call_with_retries(
        lambda: providers.chat(http, credential, settings, verdict_request()),
        limiter=limiter,
        org_id=org,
        provider=P,
        policy=FAST,
        sleep=sleep,
    )


def requests_seen(fake: Fake) -> int:
    count: int = fake.server.counters()["providers"][P]["requests"]
    return count


async def test_fake_a_429_then_success_is_two_requests(fake: Fake, http: HttpClient) -> None:
    fake.server.schedule(P, {"kind": "rate_limit"})  # retry-after: 1
    limiter = LocalJudgeLimiter(20)
    sleep = RecordingSleep(limiter, real=True)
    outcome = await judge(fake, http, limiter, sleep=sleep)
    assert outcome.ok and outcome.attempts == 2 and outcome.value is not None
    assert set(json.loads(outcome.value.text)) == {"reasoning", "score"}
    assert sleep.delays == [0.05]  # the provider's 1 s, capped by this policy
    assert requests_seen(fake) == 2
    assert fake.server.counters()["providers"][P]["statuses"] == {"429": 1, "200": 1}


async def test_fake_four_500s_are_four_requests_and_the_error(fake: Fake, http: HttpClient) -> None:
    fake.server.schedule(P, {"kind": "server_error", "count": 5, "retry_after": None})
    limiter = LocalJudgeLimiter(20)
    sleep = RecordingSleep(limiter, real=True)
    outcome = await judge(fake, http, limiter, sleep=sleep)
    assert outcome.attempts == 4 and outcome.value is None
    assert isinstance(outcome.error, ProviderServerError) and outcome.error.status == 500
    assert requests_seen(fake) == 4
    assert fake.server.counters()["scheduled_remaining"][P] == 1
    assert len(sleep.delays) == 3 and all(0.01 <= d <= 0.05 for d in sleep.delays)


async def test_fake_quota_and_a_wrong_key_are_one_request_each(
    fake: Fake, http: HttpClient
) -> None:
    limiter = LocalJudgeLimiter(20)
    fake.server.schedule(P, {"kind": "quota", "retry_after": None})
    outcome = await judge(fake, http, limiter)
    assert isinstance(outcome.error, ProviderQuotaExhausted) and outcome.attempts == 1
    assert requests_seen(fake) == 1
    outcome = await judge(fake, http, limiter, secret="sk-wrong-" + "f00d" * 8)
    assert isinstance(outcome.error, ProviderAuthError) and outcome.attempts == 1
    assert requests_seen(fake) == 2


async def test_fake_timeout_dropped_connection_and_overload_are_retried(
    fake: Fake, http: HttpClient
) -> None:
    fake.server.schedule(
        P,
        {"kind": "timeout", "seconds": 1},
        {"kind": "drop"},
        {"kind": "overloaded", "retry_after": None},
    )
    outcome = await judge(fake, http, LocalJudgeLimiter(20), timeout_s=0.3)
    assert outcome.ok and outcome.attempts == 4
    assert requests_seen(fake) == 4


async def test_fake_sees_at_most_twenty_at_once_per_organisation(
    fake: Fake, http: HttpClient
) -> None:
    """60 calls for one organisation and 40 for another, the first 20 requests answered 429:
    each organisation's key is seen at most (and at peak exactly) 20 at a time."""
    fake.server.configure(latency_ms=300)  # long enough for all 20 to be there at once
    fake.server.schedule(P, {"kind": "rate_limit", "count": 20})
    limiter = LocalJudgeLimiter(20)
    secrets = {"org_a": fake.credential(P).secret, "org_b": fake.credential(P).secret}
    jobs = [
        judge(fake, http, limiter, org=org, secret=secrets[org])
        for org, n in (("org_a", 60), ("org_b", 40))
        for _ in range(n)
    ]
    async with asyncio.timeout(30):
        outcomes = await asyncio.gather(*jobs)
    assert all(outcome.ok for outcome in outcomes)
    assert sum(outcome.attempts for outcome in outcomes) == 120
    counters = fake.server.counters()
    assert counters["providers"][P]["requests"] == 120
    for org in ("org_a", "org_b"):
        assert counters["keys"][key_fingerprint(secrets[org])]["max_concurrent"] == 20
    assert limiter.tracked_keys() == 0
