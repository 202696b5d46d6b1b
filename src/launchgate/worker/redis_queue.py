"""The scaled-out queue: taskiq-redis's Redis Streams broker (a job is acknowledged only
once it ran, so one that a dead worker held is delivered again) and its Redis result
backend (for a request that waits on its job: a synchronous judge run, a key test).

The runs table stays the source of truth: a stream that Redis lost in a restart costs no
run, because the workers' sweep re-queues runs that no worker holds (runs/tasks.py).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator
from typing import Any

from redis.asyncio import Redis
from redis.asyncio.retry import Retry
from redis.backoff import ExponentialBackoff
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import RedisError, ResponseError
from redis.exceptions import TimeoutError as RedisTimeoutError
from taskiq import AckableMessage, AsyncBroker
from taskiq_redis import RedisAsyncResultBackend, RedisStreamBroker

STREAM = "launchgate:jobs"
GROUP = "launchgate-workers"
# Socket limits: a dead Redis is noticed in seconds, and a blocking read of up to
# XREAD_BLOCK_MS never looks like a timeout.
XREAD_BLOCK_MS = 1000
# A pooled connection that Redis dropped (a restart) fails its next command: retried on
# a fresh connection, so one restart does not fail one request per pooled connection.
_CONNECTION: dict[str, Any] = {
    "socket_connect_timeout": 2.0,
    "socket_timeout": 10.0,
    "health_check_interval": 15,
    "retry": Retry(ExponentialBackoff(cap=0.5, base=0.05), retries=2),
    "retry_on_error": [RedisConnectionError, RedisTimeoutError],
}


class JobStreamBroker(RedisStreamBroker):
    """taskiq-redis's stream broker, reading one job at a time and taking back the jobs of
    dead consumers whether or not new jobs arrive.

    taskiq-redis looks for unacknowledged jobs (XAUTOCLAIM) only after a read that
    returned new ones, so a job a killed worker had taken stayed with it for as long as
    the stream was quiet: its run waited for the sweep's ``requeue_pending_after_s``. Here
    a reclaimable job is taken first, without blocking, and only then does the read block
    for new jobs. XAUTOCLAIM is atomic, so no lock is needed for two workers not to take
    the same job; each call takes at most ``xread_count`` of them, one per free slot."""

    async def listen(self) -> AsyncGenerator[AckableMessage, None]:
        async with Redis(connection_pool=self.connection_pool) as redis:
            while True:
                claimed: Any = await redis.xautoclaim(
                    self.queue_name,
                    self.consumer_group_name,
                    self.consumer_name,
                    min_idle_time=self.idle_timeout,
                    start_id="0-0",
                    count=self.count,
                )
                batch: list[Any] = claimed[1]
                if not batch:
                    read: Any = await redis.xreadgroup(
                        self.consumer_group_name,
                        self.consumer_name,
                        {self.queue_name: ">"},
                        block=self.block,
                        count=self.count,
                    )
                    batch = [entry for _, entries in read or [] for entry in entries]
                for message_id, fields in batch:
                    if fields:  # an entry deleted from the stream comes back empty
                        yield AckableMessage(
                            data=fields[b"data"],
                            ack=self._ack_generator(id=message_id, queue_name=self.queue_name),
                        )


def redis_broker(url: str, result_ttl_s: int, redelivery_idle_s: float) -> RedisStreamBroker:
    """One consumer group for every worker: each job goes to one of them.

    ``consumer_id="0"``: a group created after jobs were sent (a worker starting late, or
    after a Redis restart) still reads them. ``xread_count=1``: a worker takes one job per
    free slot, so work spreads over the fleet instead of the first worker taking a batch.
    A job a dead worker took and never acknowledged is claimed again after
    ``redelivery_idle_s`` (the run's lease makes sure only one worker finishes it)."""
    broker = JobStreamBroker(
        url,
        queue_name=STREAM,
        consumer_group_name=GROUP,
        consumer_id="0",
        xread_block=XREAD_BLOCK_MS,
        xread_count=1,
        idle_timeout=int(redelivery_idle_s * 1000),
        **_CONNECTION,
    )
    backend: RedisAsyncResultBackend[Any] = RedisAsyncResultBackend(
        url,
        keep_results=False,
        result_ex_time=result_ttl_s,
        prefix_str="launchgate:result",
        **_CONNECTION,
    )
    return broker.with_result_backend(backend)


async def ping(broker: AsyncBroker, timeout_s: float = 1.0) -> bool:
    pool = getattr(broker, "connection_pool", None)
    if pool is None:
        return False
    try:
        async with asyncio.timeout(timeout_s), Redis(connection_pool=pool) as redis:
            return bool(await redis.ping())
    except (RedisError, OSError, TimeoutError):
        return False


async def declare_group(broker: RedisStreamBroker) -> None:
    """(Re)create the consumer group: after a Redis restart without persistence the
    stream and its group are gone, and XREADGROUP would fail until they exist again."""
    async with Redis(connection_pool=broker.connection_pool) as redis:
        try:
            await redis.xgroup_create(STREAM, GROUP, id="0", mkstream=True)
        except ResponseError as exc:
            if "BUSYGROUP" not in str(exc):
                raise


async def take_turn(broker: RedisStreamBroker, name: str, seconds: float) -> bool:
    """True for one caller across the fleet per ``seconds``: periodic work (the sweep)
    runs once per period however many workers there are."""
    async with Redis(connection_pool=broker.connection_pool) as redis:
        return bool(
            await redis.set(f"launchgate:turn:{name}", "1", nx=True, px=max(1, int(seconds * 1000)))
        )


async def depth(broker: AsyncBroker) -> int:
    """Jobs on the stream that no worker has taken yet: the consumer group's lag (Redis 7),
    else every entry after the group's last delivered one. 0 before the stream exists."""
    pool = getattr(broker, "connection_pool", None)
    if pool is None:
        return 0
    async with Redis(connection_pool=pool) as redis:
        try:
            groups: Any = await redis.xinfo_groups(STREAM)
        except ResponseError:  # no stream yet: nothing was ever sent
            return 0
        for group in groups:
            name = group.get("name")
            if (name.decode() if isinstance(name, bytes) else name) != GROUP:
                continue
            if group.get("lag") is not None:
                return int(group["lag"])
            last = group.get("last-delivered-id") or "0-0"
            entries: Any = await redis.xrange(STREAM, min=f"({_text(last)}", count=100_000)
            return len(entries)
        return int(await redis.xlen(STREAM))  # no worker's group yet: all of it waits


def _text(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)
