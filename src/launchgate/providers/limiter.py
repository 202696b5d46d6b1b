"""The judge concurrency limit: at most N provider calls in flight per (organisation, provider).

Further callers wait in strict arrival order (SPEC §7). ``JudgeLimiter`` is the one interface
the judge depends on; ``LocalJudgeLimiter`` holds the limit inside one process (the embedded
mode), and the scaled-out mode implements the same protocol on Redis.

    limiter = LocalJudgeLimiter(settings.judge_concurrency)   # once, in the lifespan
    async with limiter.slot(org_id, "openai"):
        reply = await providers.chat(...)

Hold a slot only around the call itself: a request sleeping before a retry must not hold one
(``providers.retry.call_with_retries`` does this).
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass, field
from typing import Protocol, runtime_checkable

_Key = tuple[str, str]


@runtime_checkable
class JudgeLimiter(Protocol):
    """Admits at most N concurrent judge calls per (organisation, provider), FIFO."""

    def slot(self, org_id: str, provider: str) -> AbstractAsyncContextManager[None]:
        """Wait for a free slot of this key, hold it inside the ``async with``, then free it."""
        ...


@dataclass
class _KeyState:
    in_flight: int = 0
    # Futures of the callers waiting, oldest first; a slot is handed to the head directly.
    waiters: deque[asyncio.Future[None]] = field(default_factory=deque)


class LocalJudgeLimiter:
    """The in-process limiter: one counter and one FIFO queue per key, kept only while used.

    A freed slot passes straight to the oldest waiter (never back to the pool), so a caller
    arriving later can never overtake one already queued. Not thread-safe: use it from one
    event loop.
    """

    def __init__(self, concurrency: int) -> None:
        if concurrency < 1:
            raise ValueError("concurrency must be at least 1")
        self.concurrency = concurrency
        self._keys: dict[_Key, _KeyState] = {}

    def slot(self, org_id: str, provider: str) -> AbstractAsyncContextManager[None]:
        return self._slot((org_id, provider))

    def in_flight(self, org_id: str, provider: str) -> int:
        """Slots of this key held now."""
        state = self._keys.get((org_id, provider))
        return state.in_flight if state else 0

    def waiting(self, org_id: str, provider: str) -> int:
        """Callers of this key queued for a slot now."""
        state = self._keys.get((org_id, provider))
        return len(state.waiters) if state else 0

    def tracked_keys(self) -> int:
        """Keys with state kept: only those with a slot held or a caller waiting."""
        return len(self._keys)

    @asynccontextmanager
    async def _slot(self, key: _Key) -> AsyncIterator[None]:
        await self._acquire(key)
        try:
            yield
        finally:
            self._release(key)

    async def _acquire(self, key: _Key) -> None:
        state = self._keys.setdefault(key, _KeyState())
        if state.in_flight < self.concurrency and not state.waiters:
            state.in_flight += 1
            return
        waiter = asyncio.get_running_loop().create_future()
        state.waiters.append(waiter)
        try:
            await waiter
        except asyncio.CancelledError:
            if waiter.done() and not waiter.cancelled():
                # The slot was handed over just as we were cancelled: pass it on.
                self._release(key)
            else:
                state.waiters.remove(waiter)
                self._forget_if_idle(key, state)
            raise

    def _release(self, key: _Key) -> None:
        state = self._keys[key]
        state.in_flight -= 1
        while state.waiters:
            waiter = state.waiters.popleft()
            if not waiter.done():
                state.in_flight += 1
                waiter.set_result(None)
                return
        self._forget_if_idle(key, state)

    def _forget_if_idle(self, key: _Key, state: _KeyState) -> None:
        if state.in_flight == 0 and not state.waiters:
            del self._keys[key]
