"""The job stream on a real Redis: a job that a dead worker took and never acknowledged
is taken back by a live one even when no new job arrives (taskiq-redis's own listen
only looks for such jobs after a read that returned new ones), and each read takes one
job, so a worker never hoards a batch it has no slot for."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncGenerator
from typing import Any, cast

from redis.asyncio import Redis
from taskiq import AckableMessage, BrokerMessage

from launchgate.worker.redis_queue import GROUP, STREAM, declare_group, redis_broker


def _message(n: int) -> BrokerMessage:
    return BrokerMessage(
        task_id=f"job-{n}", task_name="test.job", message=json.dumps({"n": n}).encode(), labels={}
    )


async def _next(stream: AsyncGenerator[AckableMessage, None], within_s: float) -> bytes:
    message = await asyncio.wait_for(anext(stream), within_s)
    return message.data


async def test_a_dead_consumers_job_is_taken_back_on_a_quiet_stream(shared_redis: str) -> None:
    broker = redis_broker(shared_redis, result_ttl_s=60, redelivery_idle_s=0.5)
    await declare_group(broker)
    await broker.kick(_message(1))
    async with Redis.from_url(shared_redis) as redis:
        # The dead worker: it reads the job and is never heard of again.
        read = await redis.xreadgroup(GROUP, "dead-worker", {STREAM: ">"}, count=10)
        taken = cast(list[list[Any]], read)  # RESP2 (the default): [[stream, entries]]
        assert len(taken[0][1]) == 1
        stream = broker.listen()
        try:
            # Nothing new is ever sent: the job comes back once it has sat idle 0.5 s.
            assert json.loads(await _next(stream, 10)) == {"n": 1}
            pending = await redis.xpending(STREAM, GROUP)
            assert pending["pending"] == 1
            assert [c["name"] for c in pending["consumers"]] == [broker.consumer_name.encode()]
        finally:
            await stream.aclose()
    await broker.shutdown()


async def test_each_read_takes_one_job_and_new_jobs_still_flow(shared_redis: str) -> None:
    broker = redis_broker(shared_redis, result_ttl_s=60, redelivery_idle_s=60)
    await declare_group(broker)
    for n in range(3):
        await broker.kick(_message(n))
    stream = broker.listen()
    try:
        first = await _next(stream, 10)
        async with Redis.from_url(shared_redis) as redis:
            # One job taken, two left for the other workers.
            assert (await redis.xpending(STREAM, GROUP))["pending"] == 1
        rest = [await _next(stream, 10) for _ in range(2)]
    finally:
        await stream.aclose()
    assert sorted(json.loads(m)["n"] for m in [first, *rest]) == [0, 1, 2]
    await broker.shutdown()
