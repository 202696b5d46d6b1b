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
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Generic, TypeVar

from launchgate.providers.errors import ProviderError
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
) -> CallOutcome[T]:
    """Run ``call`` (a fresh awaitable each time) under the limiter, retrying per ``policy``.

    Never raises ``ProviderError``: the last one is returned in the outcome. Any other
    exception (and cancellation) propagates, with the slot freed.
    """
    attempts = 0
    while True:
        attempts += 1
        try:
            async with limiter.slot(org_id, provider):
                value = await call()
        except ProviderError as error:
            if not error.retryable or attempts > policy.max_retries:
                return CallOutcome(None, error, attempts)
            await sleep(backoff_delay(policy, attempts, error.retry_after))
        else:
            return CallOutcome(value, None, attempts)
