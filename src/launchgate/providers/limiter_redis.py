"""The judge limiter of the scaled-out deployment: SPEC §7's "at most N in flight per
(organisation, provider)" held on Redis, across every worker process and machine together.

It implements the same ``JudgeLimiter`` protocol as ``LocalJudgeLimiter``:

    limiter = RedisJudgeLimiter(settings.redis_url, settings.judge_concurrency)
    await limiter.start()                     # in the lifespan: pub/sub reader, lease renewal
    async with limiter.slot(org_id, "openai"):
        reply = await providers.chat(...)
    await limiter.stop()                      # after the work: stops renewing, closes

Per (organisation, provider) it keeps, all under one hash tag so that a Lua script may touch
them together (one Redis Cluster slot)::

    {prefix}:{org:provider}:held     ZSET token → lease expiry (ms)   the slots taken now
    {prefix}:{org:provider}:queue    ZSET token → arrival ticket      the processes waiting
    {prefix}:{org:provider}:seen     ZSET token → last poll (ms)      to drop vanished waiters
    {prefix}:{org:provider}:tickets  counter handing out the tickets
    {prefix}:{org:provider}:free     pub/sub channel, published on every release

Times come from the Redis server's clock (``TIME`` inside the scripts), so machines with
skewed clocks agree. A holder's lease is renewed every lease/3 while its process lives, so a
killed process's slots come free within one lease. A waiter that stops polling (killed, or
cancelled before it could withdraw) drops out of the queue after ``waiter_ttl_s``. Every key
expires when unused for a while, so idle organisations leave nothing behind.

Ordering: inside one process the callers of a key pass a FIFO gate and only the oldest one
contends in Redis; between processes the contenders are admitted in ticket order. Arrival
order therefore holds exactly within a process and approximately across processes.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import re
import secrets
import socket
from collections import defaultdict
from collections.abc import AsyncIterator, Coroutine
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

from redis.asyncio import Redis
from redis.backoff import NoBackoff
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import RedisError
from redis.exceptions import TimeoutError as RedisTimeoutError
from redis.retry import Retry

logger = logging.getLogger(__name__)

_Key = tuple[str, str]
# Errors worth retrying: the server may be restarting or failing over.
_TRANSIENT = (RedisConnectionError, RedisTimeoutError, OSError)
# A caller's first connection error joins the outage other callers saw if the latest error
# was this recent (longer than a failed call plus a backoff), else it starts a new one.
_OUTAGE_GAP_S = 10.0

# Milliseconds since the epoch by the server's clock: shared by every script below.
_NOW = """
local clock = redis.call('TIME')
local now = tonumber(clock[1]) * 1000 + math.floor(tonumber(clock[2]) / 1000)
"""

# KEYS: held, queue, seen, tickets. ARGV: token, limit, lease_ms, waiter_ttl_ms, idle_ttl_ms.
# Returns 1 when the token now holds a slot, else 0 (it stays queued; poll again).
_ACQUIRE = (
    _NOW
    + """
local token, limit = ARGV[1], tonumber(ARGV[2])
local lease, waiter_ttl, idle_ttl = tonumber(ARGV[3]), tonumber(ARGV[4]), tonumber(ARGV[5])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
for _, gone in ipairs(redis.call('ZRANGEBYSCORE', KEYS[3], '-inf', now - waiter_ttl)) do
  redis.call('ZREM', KEYS[2], gone)
end
redis.call('ZREMRANGEBYSCORE', KEYS[3], '-inf', now - waiter_ttl)
if not redis.call('ZSCORE', KEYS[2], token) then
  redis.call('ZADD', KEYS[2], redis.call('INCR', KEYS[4]), token)
end
redis.call('ZADD', KEYS[3], now, token)
local granted = 0
-- Admitted only when there is a free slot for everyone queued ahead too: no overtaking.
if limit - redis.call('ZCARD', KEYS[1]) > redis.call('ZRANK', KEYS[2], token) then
  redis.call('ZREM', KEYS[2], token)
  redis.call('ZREM', KEYS[3], token)
  redis.call('ZADD', KEYS[1], now + lease, token)
  granted = 1
end
for i = 1, 4 do redis.call('PEXPIRE', KEYS[i], idle_ttl) end
return granted
"""
)

# KEYS: held, queue, seen, tickets. ARGV: lease_ms, idle_ttl_ms, token... Returns the tokens
# no longer held. Those are never re-added: their slot may already be someone else's.
_RENEW = (
    _NOW
    + """
local lost = {}
for i = 3, #ARGV do
  if redis.call('ZSCORE', KEYS[1], ARGV[i]) then
    redis.call('ZADD', KEYS[1], 'XX', now + tonumber(ARGV[1]), ARGV[i])
  else
    lost[#lost + 1] = ARGV[i]
  end
end
for i = 1, 4 do redis.call('PEXPIRE', KEYS[i], ARGV[2]) end
return lost
"""
)

# KEYS: held, queue, seen. ARGV: token, channel. Frees a slot or withdraws a waiter (both, when
# a grant raced a cancellation) and tells the other processes to look again.
_LEAVE = """
redis.call('ZREM', KEYS[1], ARGV[1])
redis.call('ZREM', KEYS[2], ARGV[1])
redis.call('ZREM', KEYS[3], ARGV[1])
redis.call('PUBLISH', ARGV[2], ARGV[1])
"""

# KEYS: held. Leases not yet expired.
_COUNT = (
    _NOW
    + """
return redis.call('ZCOUNT', KEYS[1], '(' .. now, '+inf')
"""
)


class LimiterUnavailable(RuntimeError):
    """Redis could not be reached, or refused the limiter's commands: no slot was granted."""


@dataclass(frozen=True)
class RedisKeys:
    """The Redis names of one (organisation, provider); one hash tag keeps them in one slot."""

    held: str
    queue: str
    seen: str
    tickets: str
    free: str  # the pub/sub channel

    @classmethod
    def of(cls, prefix: str, org_id: str, provider: str) -> RedisKeys:
        base = f"{prefix}:{{{org_id}:{provider}}}"
        return cls(
            f"{base}:held", f"{base}:queue", f"{base}:seen", f"{base}:tickets", f"{base}:free"
        )

    @property
    def scripted(self) -> list[str]:
        """The keys the acquire and renew scripts take, in their order."""
        return [self.held, self.queue, self.seen, self.tickets]


@dataclass
class _Gate:
    # asyncio.Lock wakes its waiters in FIFO order and lets no newcomer barge past them.
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    users: int = 0


class RedisJudgeLimiter:
    """The cross-process limiter (see the module docstring). Use it from one event loop.

    ``redis`` is a client (left open by ``stop``) or a URL (a client is made and closed
    here). ``unavailable_after_s``: how long an acquire retries through connection errors
    before raising ``LimiterUnavailable``. ``waiter_ttl_s``: how long a waiter that stopped
    polling keeps its place in the queue.
    """

    def __init__(
        self,
        redis: Redis | str,
        concurrency: int,
        *,
        lease_s: float = 20.0,
        poll_s: float = 0.1,
        key_prefix: str = "launchgate:judge",
        unavailable_after_s: float = 30.0,
        waiter_ttl_s: float = 3.0,
    ) -> None:
        if concurrency < 1:
            raise ValueError("concurrency must be at least 1")
        if min(lease_s, poll_s, unavailable_after_s) <= 0:
            raise ValueError("lease_s, poll_s and unavailable_after_s must be positive")
        if waiter_ttl_s < 2 * poll_s:
            raise ValueError("waiter_ttl_s must be at least two poll intervals")
        if "{" in key_prefix or "}" in key_prefix:
            raise ValueError("key_prefix must not contain braces (they make the hash tag)")
        self.concurrency = concurrency
        self.lease_s = lease_s
        self.poll_s = poll_s
        self.key_prefix = key_prefix
        self.unavailable_after_s = unavailable_after_s
        self._owns_client = isinstance(redis, str)
        # Our own acquire loop retries with a deadline; the client's retries would only
        # stretch each failed call, so a client made here does not retry by itself.
        self._redis = (
            Redis.from_url(
                redis, socket_connect_timeout=2.0, socket_timeout=5.0, retry=Retry(NoBackoff(), 0)
            )
            if isinstance(redis, str)
            else redis
        )
        self._lease_ms = int(lease_s * 1000)
        self._waiter_ttl_ms = int(waiter_ttl_s * 1000)
        # Past this long unused, every lease has expired and every waiter is stale.
        self._idle_ttl_ms = 2 * (self._lease_ms + self._waiter_ttl_ms)
        self._acquire_script = self._redis.register_script(_ACQUIRE)
        self._renew_script = self._redis.register_script(_RENEW)
        self._leave_script = self._redis.register_script(_LEAVE)
        self._count_script = self._redis.register_script(_COUNT)
        # Readable in Redis: which host and process holds or awaits a slot.
        self._instance = f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(4)}"
        self._gates: dict[_Key, _Gate] = {}
        self._wakes: dict[str, asyncio.Event] = {}  # free channel → its local contender's event
        self._held: dict[str, _Key] = {}  # token → key, for renewal
        self._tasks: list[asyncio.Task[None]] = []
        self._cleanups: set[asyncio.Task[None]] = set()
        self._stopped = False
        self._failing_since: float | None = None  # loop time of the first error in a row…
        self._failed_at = 0.0  # …and of the latest one

    # -- lifecycle -------------------------------------------------------------------------

    async def start(self) -> None:
        """Start the pub/sub reader and the lease renewal. Needs no Redis yet: both retry."""
        if self._stopped:
            raise RuntimeError("a stopped RedisJudgeLimiter cannot start again")
        if not self._tasks:
            self._tasks = [
                asyncio.create_task(self._listen(), name="judge-limiter-listen"),
                asyncio.create_task(self._renew_forever(), name="judge-limiter-renew"),
            ]

    async def stop(self) -> None:
        """Stop renewing and listening and close a client made here.

        Slots still held are not released (nothing more is sent): their leases free them
        within ``lease_s``. Waiting callers get ``LimiterUnavailable``.
        """
        self._stopped = True
        tasks, self._tasks = self._tasks, []
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        if self._cleanups:  # releases and withdrawals already on their way
            await asyncio.wait(self._cleanups, timeout=5.0)
        if self._owns_client:
            await self._redis.aclose()

    async def __aenter__(self) -> RedisJudgeLimiter:
        await self.start()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.stop()

    # -- the protocol and observability ----------------------------------------------------

    def slot(self, org_id: str, provider: str) -> AbstractAsyncContextManager[None]:
        return self._slot((org_id, provider))

    async def in_flight(self, org_id: str, provider: str) -> int:
        """Slots of this key held now by all processes together (unexpired leases)."""
        try:
            return int(await self._count_script(keys=[self.redis_keys(org_id, provider).held]))
        except (RedisError, OSError) as error:
            raise LimiterUnavailable(f"judge limiter: Redis failed: {error}") from error

    def tracked_keys(self) -> int:
        """Keys with local state: a caller of this process waiting or holding a slot."""
        return len(self._gates.keys() | set(self._held.values()))

    def redis_keys(self, org_id: str, provider: str) -> RedisKeys:
        """Where this key's state lives in Redis."""
        return RedisKeys.of(self.key_prefix, org_id, provider)

    # -- acquire and release ---------------------------------------------------------------

    @asynccontextmanager
    async def _slot(self, key: _Key) -> AsyncIterator[None]:
        if not self._tasks:
            raise RuntimeError("RedisJudgeLimiter is not running: call start() first")
        token = await self._acquire(key)
        try:
            yield
        finally:
            await self._shielded(self._release(key, token))

    async def _acquire(self, key: _Key) -> str:
        token = f"{self._instance}:{secrets.token_hex(6)}"
        gate = self._gates.setdefault(key, _Gate())
        gate.users += 1
        try:
            # Only the oldest local caller passes; it lets the next one in as soon as it holds
            # a Redis slot. So each process puts at most one contender per key on Redis.
            async with gate.lock:
                await self._contend(key, token)
        finally:
            gate.users -= 1
            if not gate.users:
                del self._gates[key]
        return token

    async def _contend(self, key: _Key, token: str) -> None:
        """Poll the acquire script until it grants: on a release message or every poll_s."""
        keys = self.redis_keys(*key)
        wake = self._wakes[keys.free] = asyncio.Event()
        try:
            while True:
                wake.clear()  # before the attempt, so a release during it is not missed
                if await self._attempt(keys, token):
                    self._held[token] = key  # no await since the grant: renewal covers it
                    return
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(self.poll_s):
                        await wake.wait()
        except BaseException:
            # Cancelled, or Redis gave up: leave the queue now rather than after waiter_ttl,
            # and free the slot in case the script granted it just as we stopped listening.
            await self._shielded(self._leave(keys, token, "withdraw from the queue"))
            raise
        finally:
            del self._wakes[keys.free]

    async def _attempt(self, keys: RedisKeys, token: str) -> bool:
        """One acquire; connection errors are retried until Redis has been failing for
        ``unavailable_after_s``. The outage's start is shared by the process, so once it is
        that old, the callers queued behind fail at their first error instead of each
        waiting the whole time again."""
        loop = asyncio.get_running_loop()
        since: float | None = None  # when the outage this caller is in began
        delay = 0.05
        while True:
            if self._stopped:
                raise LimiterUnavailable("judge limiter: stopped while waiting for a slot")
            try:
                granted = await self._acquire_script(
                    keys=keys.scripted,
                    args=[
                        token,
                        self.concurrency,
                        self._lease_ms,
                        self._waiter_ttl_ms,
                        self._idle_ttl_ms,
                    ],
                )
            except _TRANSIENT as error:
                now = loop.time()
                if since is None:  # this caller's first error: join the outage or start one
                    if self._failing_since is None or now - self._failed_at > _OUTAGE_GAP_S:
                        self._failing_since = now
                    since = self._failing_since
                self._failed_at = now
                left = since + self.unavailable_after_s - now
                if left <= 0:
                    raise LimiterUnavailable(
                        f"judge limiter: Redis unreachable for {now - since:.1f}s: {error}"
                    ) from error
                await asyncio.sleep(min(delay, left))
                delay = min(delay * 2, 1.0)
            except RedisError as error:  # not a blip: a script or server error
                raise LimiterUnavailable(f"judge limiter: Redis failed: {error}") from error
            else:
                self._failing_since = None
                return bool(granted)

    async def _release(self, key: _Key, token: str) -> None:
        self._held.pop(token, None)
        await self._leave(self.redis_keys(*key), token, "release a slot")

    async def _leave(self, keys: RedisKeys, token: str, what: str) -> None:
        """Take the token out of every set and announce it. A failure only delays others:
        the lease (or the waiter TTL) clears the token, so it is logged, never raised."""
        if self._stopped:  # after stop() nothing is sent: expiry clears the token
            return
        try:
            await self._leave_script(
                keys=[keys.held, keys.queue, keys.seen], args=[token, keys.free]
            )
        except (RedisError, OSError) as error:
            logger.warning(
                "judge limiter: could not %s of %s (%s); it expires on its own",
                what,
                keys.held.removesuffix(":held"),
                error,
            )

    async def _shielded(self, work: Coroutine[Any, Any, None]) -> None:
        """Run clean-up to its end even if the caller is cancelled (again) meanwhile."""
        task = asyncio.create_task(work)
        self._cleanups.add(task)
        task.add_done_callback(self._cleanups.discard)
        await asyncio.shield(task)

    # -- background tasks ------------------------------------------------------------------

    async def _listen(self) -> None:
        """Wake the local contender of a key whenever any process frees one of its slots.

        Messages only speed things up: a contender also polls every ``poll_s``, so a lost
        connection or message costs at most one poll interval.
        """
        pattern = re.sub(r"([\\*?\[\]])", r"\\\1", self.key_prefix) + ":{*}:free"
        delay = 0.1
        while True:
            try:
                async with self._redis.pubsub() as pubsub:
                    await pubsub.psubscribe(pattern)
                    delay = 0.1
                    while True:
                        message = await pubsub.get_message(
                            ignore_subscribe_messages=True, timeout=None
                        )
                        wake = self._wakes.get(_text(message["channel"])) if message else None
                        if wake is not None:
                            wake.set()
            except Exception as error:  # whatever it was, reconnect; polling covers the gap
                logger.warning("judge limiter: pub/sub connection lost (%s); polling", error)
                await asyncio.sleep(delay)
                delay = min(delay * 2, 5.0)

    async def _renew_forever(self) -> None:
        """Extend the leases of every slot this process holds, every lease/3."""
        while True:
            await asyncio.sleep(self.lease_s / 3)
            by_key: defaultdict[_Key, list[str]] = defaultdict(list)
            for token, key in self._held.items():
                by_key[key].append(token)
            try:
                await asyncio.gather(*(self._renew(key, tokens) for key, tokens in by_key.items()))
            except Exception:  # a bug must not end renewal: leases would lapse under load
                logger.exception("judge limiter: lease renewal failed")

    async def _renew(self, key: _Key, tokens: list[str]) -> None:
        keys = self.redis_keys(*key)
        try:
            lost = await self._renew_script(
                keys=keys.scripted, args=[self._lease_ms, self._idle_ttl_ms, *tokens]
            )
        except (RedisError, OSError) as error:
            logger.warning("judge limiter: could not renew leases of %s/%s (%s)", *key, error)
            return
        # Tokens released meanwhile are not lost; the others outlived their lease (a stalled
        # process or Redis out of reach), so for a moment more than N calls may run.
        if still_held := [t for t in map(_text, lost) if t in self._held]:
            logger.warning(
                "judge limiter: %d lease(s) of %s/%s expired before renewal", len(still_held), *key
            )


def _text(value: bytes | str) -> str:
    """Redis replies are bytes unless the client decodes them."""
    return value.decode() if isinstance(value, bytes) else value
