"""SPEC §7's retry policy around one provider call, as the judge makes it.

429, 5xx (Anthropic's 529 included), timeouts and connection failures (the errors whose class
says ``retryable``) are retried with exponential backoff — base × 1, 2, 4 plus up to
``jitter`` of that — or after the provider's ``Retry-After``, capped; at most
``max_retries`` retries. 400/401/403/404 and quota exhaustion are final at once. Each
attempt holds a limiter slot only while the call runs, never while sleeping before a retry.

    outcome = await call_with_retries(lambda: providers.chat(http, cred, ps, request),
                                      limiter=limiter, org_id=org.id, provider="openai",
                                      policy=retry_policy(settings))
    if outcome.error is not None: ...        # the last ProviderError, after outcome.attempts

Each attempt is observed (observability/): a span ``launchgate.judge.call`` with the
provider, the model, the attempt number and the tokens of its reply; the metrics of the
slot (in flight, the wait for it) and the attempt's outcome. Never the key or the prompt.
"""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Generic, TypeVar

from launchgate.observability import metrics, tracing
from launchgate.providers.errors import (
    ProviderAuthError,
    ProviderError,
    ProviderQuotaExhausted,
    ProviderRateLimited,
    ProviderServerError,
    ProviderTimeout,
)
from launchgate.providers.limiter import JudgeLimiter

if TYPE_CHECKING:  # only for the annotation: providers never read settings themselves
    from launchgate.config import Settings

T = TypeVar("T")


@dataclass(frozen=True)
class RetryPolicy:
    """How often and how long to retry one provider call (defaults: SPEC §7)."""

    max_retries: int = 3
    backoff_base_s: float = 1.0
    retry_after_cap_s: float = 60.0
    # Up to this fraction of the backoff is added at random, so callers that failed together
    # do not all come back in the same instant.
    jitter: float = 0.25


def retry_policy(settings: Settings) -> RetryPolicy:
    """The judge's policy from the server's ``Settings``."""
    return RetryPolicy(
        backoff_base_s=settings.judge_backoff_base_s,
        retry_after_cap_s=settings.judge_retry_after_cap_s,
    )


def backoff_delay(
    policy: RetryPolicy,
    retry_number: int,
    retry_after: float | None,
    rand: Callable[[], float] = random.random,
) -> float:
    """Seconds to sleep before retry ``retry_number`` (1, 2, 3…).

    The provider's ``retry_after`` wins when given (capped at ``retry_after_cap_s``); else
    ``base × 2^(n-1)`` plus ``rand() × jitter`` of that.
    """
    if retry_after is not None:
        return min(max(retry_after, 0.0), policy.retry_after_cap_s)
    delay = policy.backoff_base_s * 2 ** (retry_number - 1)
    return delay + delay * policy.jitter * rand()


@dataclass(frozen=True)
class CallOutcome(Generic[T]):
    """The value of the successful attempt, or the last error; and how many attempts it took."""

    value: T | None
    error: ProviderError | None
    attempts: int

    @property
    def ok(self) -> bool:
        return self.error is None


async def call_with_retries(
    call: Callable[[], Awaitable[T]],
    *,
    limiter: JudgeLimiter,
    org_id: str,
    provider: str,
    policy: RetryPolicy,
    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    model: str | None = None,
) -> CallOutcome[T]:
    """Run ``call`` (a fresh awaitable each time) under the limiter, retrying per ``policy``.

    Never raises ``ProviderError``: the last one is returned in the outcome. Any other
    exception (and cancellation) propagates, with the slot freed. ``model``: for the
    attempt's span only.
    """
    attempts = 0
    while True:
        attempts += 1
        try:
            value = await _attempt(call, limiter, org_id, provider, model, attempts)
        except ProviderError as error:
            final = not error.retryable or attempts > policy.max_retries
            metrics.judge_request(provider, outcome(error) if final else "retried")
            if final:
                return CallOutcome(None, error, attempts)
            await sleep(backoff_delay(policy, attempts, error.retry_after))
        else:
            metrics.judge_request(provider, "ok")
            return CallOutcome(value, None, attempts)


async def _attempt(
    call: Callable[[], Awaitable[T]],
    limiter: JudgeLimiter,
    org_id: str,
    provider: str,
    model: str | None,
    attempt: int,
) -> T:
    """One attempt in its span, holding a limiter slot (its wait and its time in flight
    measured) only around the call."""
    attributes: dict[str, Any] = {"launchgate.provider": provider, "launchgate.attempt": attempt}
    if model:
        attributes["launchgate.model"] = model
    with tracing.span("launchgate.judge.call", attributes, kind="client") as span:
        asked = time.perf_counter()
        async with limiter.slot(org_id, provider):
            metrics.judge_wait(time.perf_counter() - asked)
            metrics.judge_inflight(provider, 1)
            try:
                value = await call()
            except ProviderError as error:
                tracing.set_attributes(span, {"launchgate.outcome": outcome(error)})
                raise
            finally:
                metrics.judge_inflight(provider, -1)
        tracing.set_attributes(span, _usage(value))
        return value


def outcome(error: ProviderError) -> str:
    """The metric's word for a failed attempt: 429, 5xx, timeout, auth, quota, or error
    (a 400/404, a provider unreachable or its answer unreadable)."""
    if isinstance(error, ProviderRateLimited):
        return "429"
    if isinstance(error, ProviderTimeout):
        return "timeout"
    if isinstance(error, ProviderAuthError):
        return "auth"
    if isinstance(error, ProviderQuotaExhausted):
        return "quota"
    if isinstance(error, ProviderServerError) and (error.status or 0) >= 500:
        return "5xx"
    return "error"


def _usage(value: Any) -> dict[str, Any]:
    """A reply's model and tokens, when it has them (a ``ChatReply``)."""
    found: dict[str, Any] = {"launchgate.outcome": "ok"}
    for name in ("input_tokens", "output_tokens"):
        if isinstance(count := getattr(value, name, None), int):
            found[f"gen_ai.usage.{name}"] = count
    if isinstance(model := getattr(value, "model", None), str) and model:
        found["gen_ai.response.model"] = model
    return found
