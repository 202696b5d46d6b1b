"""The Redis judge limiter against a real Redis: the cap holds across processes (each limiter
has its own client, as a worker process would), keys are independent, a dead process's slots
come back after one lease and not before, arrival order, cancellation without a trace,
renewal, release wake-ups, and a clear error when Redis is out of reach.

Redis comes from ``LAUNCHGATE_TEST_REDIS_URL`` (default 127.0.0.1:6379). Each test works
under its own key prefix and deletes it afterwards. When Redis is unreachable the tests skip,
unless ``LAUNCHGATE_TEST_REQUIRE_REDIS=1`` turns that into a failure.
"""

from __future__ import annotations

import asyncio
import os
import socket
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import pytest
from redis.asyncio import Redis
from redis.exceptions import RedisError

from launchgate.providers.limiter import JudgeLimiter
from launchgate.providers.limiter_redis import LimiterUnavailable, RedisJudgeLimiter

REDIS_URL = os.environ.get("LAUNCHGATE_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
REQUIRE_REDIS = os.environ.get("LAUNCHGATE_TEST_REQUIRE_REDIS") == "1"
ORG = "org_a"
OPENAI = "openai"

MakeLimiter = Callable[..., Awaitable[RedisJudgeLimiter]]


@pytest.fixture
async def redis() -> AsyncIterator[Redis]:
    client = Redis.from_url(REDIS_URL, decode_responses=True)
    try:
        await client.ping()
    except RedisError:
        await client.aclose()
        if REQUIRE_REDIS:
            pytest.fail(f"Redis is required but unreachable at {REDIS_URL}")
        pytest.skip(f"Redis unreachable at {REDIS_URL}")
    yield client
    await client.aclose()


@pytest.fixture
async def prefix(redis: Redis) -> AsyncIterator[str]:
    """A key prefix of this test's own; everything under it is deleted afterwards."""
    prefix = f"lgtest:{uuid.uuid4().hex[:12]}"
    yield prefix
    leftovers = [key async for key in redis.scan_iter(match=f"{prefix}:*")]
    if leftovers:
        await redis.delete(*leftovers)


@pytest.fixture
async def make(prefix: str) -> AsyncIterator[MakeLimiter]:
    """Started limiters, each with its own connections (one per "process"), stopped after."""
    made: list[RedisJudgeLimiter] = []

    async def make_limiter(concurrency: int = 20, **options: Any) -> RedisJudgeLimiter:
        options.setdefault("key_prefix", prefix)
        limiter = RedisJudgeLimiter(options.pop("url", REDIS_URL), concurrency, **options)
        await limiter.start()
        made.append(limiter)
        return limiter

    yield make_limiter
    for limiter in made:
        await limiter.stop()


async def wait_until(condition: Callable[[], Awaitable[bool] | bool], timeout: float = 3.0) -> None:
    """Poll ``condition`` (plain or async) every 10 ms until true, or raise TimeoutError."""
    async with asyncio.timeout(timeout):
        while True:
            result = condition()
            if await result if isinstance(result, Awaitable) else result:
                return
            await asyncio.sleep(0.01)


class Holders:
    """Tasks that take a slot, note their admission, and keep it until released by name."""

    def __init__(self) -> None:
        self.admitted: list[str] = []
        self.admitted_at: dict[str, float] = {}
        self.finished: list[str] = []
        self.tasks: dict[str, asyncio.Task[None]] = {}
        self._gates: dict[str, asyncio.Event] = {}

    def start(
        self, name: str, limiter: RedisJudgeLimiter, org: str = ORG, provider: str = OPENAI
    ) -> None:
        gate = self._gates[name] = asyncio.Event()

        async def hold() -> None:
            async with limiter.slot(org, provider):
                self.admitted.append(name)
                self.admitted_at[name] = asyncio.get_running_loop().time()
                await gate.wait()
            self.finished.append(name)

        self.tasks[name] = asyncio.create_task(hold())

    def count(self, prefix: str) -> int:
        return sum(name.startswith(prefix) for name in self.admitted)

    def release(self, *names: str) -> None:
        for name in names:
            self._gates[name].set()

    async def join(self) -> None:
        for gate in self._gates.values():
            gate.set()
        async with asyncio.timeout(5):
            results = await asyncio.gather(*self.tasks.values(), return_exceptions=True)
        # Tasks a test cancelled end in CancelledError (a BaseException); anything else fails.
        if errors := [result for result in results if isinstance(result, Exception)]:
            raise errors[0]

    async def cancel(self) -> None:
        """Cancel what is still running (after a failed test) before the limiters stop."""
        for task in self.tasks.values():
            task.cancel()
        await asyncio.gather(*self.tasks.values(), return_exceptions=True)


@pytest.fixture
async def holders(make: MakeLimiter) -> AsyncIterator[Holders]:
    """Holder tasks, cancelled after the test if still running, before the limiters stop."""
    holders = Holders()
    yield holders
    await holders.cancel()


async def queued(redis: Redis, limiter: RedisJudgeLimiter) -> tuple[int, int]:
    """(members of the Redis queue, members of the seen set) for ORG/OPENAI."""
    keys = limiter.redis_keys(ORG, OPENAI)
    return await redis.zcard(keys.queue), await redis.zcard(keys.seen)


async def test_it_is_a_judge_limiter_with_one_hash_tag_per_key() -> None:
    limiter = RedisJudgeLimiter(REDIS_URL, 20, key_prefix="p")
    assert isinstance(limiter, JudgeLimiter)
    keys = limiter.redis_keys("org_a", "openai")
    assert keys.held == "p:{org_a:openai}:held" and keys.free == "p:{org_a:openai}:free"
    with pytest.raises(RuntimeError, match="start"):
        async with limiter.slot(ORG, OPENAI):
            pass
    await limiter.stop()
    with pytest.raises(ValueError, match="at least 1"):
        RedisJudgeLimiter(REDIS_URL, 0)
    with pytest.raises(ValueError, match="braces"):
        RedisJudgeLimiter(REDIS_URL, 1, key_prefix="a{b}")


async def test_sixty_callers_in_two_processes_never_exceed_twenty(
    make: MakeLimiter,
    redis: Redis,
) -> None:
    a, b = await make(20), await make(20)
    inside = peak = done = 0

    async def judge(limiter: RedisJudgeLimiter) -> None:
        nonlocal inside, peak, done
        async with limiter.slot(ORG, OPENAI):
            inside += 1
            peak = max(peak, inside)
            await asyncio.sleep(0.05)
            inside -= 1
            done += 1

    async with asyncio.timeout(10):
        await asyncio.gather(*(judge(a if i % 2 else b) for i in range(60)))
    assert peak == 20
    assert done == 60
    assert await a.in_flight(ORG, OPENAI) == 0
    assert await queued(redis, a) == (0, 0)
    assert a.tracked_keys() == b.tracked_keys() == 0
    # What is left (the ticket counter) expires on its own.
    assert 0 < await redis.pttl(a.redis_keys(ORG, OPENAI).tickets) <= 2 * (20_000 + 3_000)


@pytest.mark.parametrize(
    "other", [("org_b", OPENAI), (ORG, "anthropic")], ids=["another-org", "another-provider"]
)
async def test_each_organisation_and_provider_gets_its_own_twenty(
    make: MakeLimiter,
    other: tuple[str, str],
    holders: Holders,
) -> None:
    a, b = await make(20), await make(20)
    for i in range(25):
        holders.start(f"mine/{i}", a if i % 2 else b)
        holders.start(f"other/{i}", b if i % 2 else a, *other)
    await wait_until(lambda: holders.count("mine/") == 20 and holders.count("other/") == 20)
    await asyncio.sleep(0.3)  # several poll intervals: nobody else gets in
    assert holders.count("mine/") == holders.count("other/") == 20
    assert await a.in_flight(ORG, OPENAI) == await a.in_flight(*other) == 20
    assert await a.in_flight("org_c", "google") == 0

    await holders.join()
    assert len(holders.finished) == 50
    assert await b.in_flight(ORG, OPENAI) == await b.in_flight(*other) == 0


async def test_a_dead_process_s_slots_come_free_after_one_lease_and_not_before(
    make: MakeLimiter,
    holders: Holders,
) -> None:
    dead = await make(20, lease_s=1.0)
    taken = [dead.slot(ORG, OPENAI) for _ in range(20)]
    for slot in taken:
        await slot.__aenter__()
    await dead.stop()  # renewal ends and nothing is released: as if the process were killed
    loop = asyncio.get_running_loop()
    died_at = loop.time()

    alive = await make(20, lease_s=1.0)
    for i in range(20):
        holders.start(f"h{i}", alive)
    await wait_until(lambda: len(holders.admitted) == 20, timeout=3)
    waited = sorted(at - died_at for at in holders.admitted_at.values())
    # The last renewal was at most lease/3 before the death; the lease is 1 s from there.
    assert waited[0] >= 0.6
    assert waited[-1] <= 1.6
    await holders.join()
    for slot in taken:  # the dead limiter sends nothing any more
        await slot.__aexit__(None, None, None)
    assert await alive.in_flight(ORG, OPENAI) == 0


async def test_callers_of_one_process_get_slots_in_arrival_order(
    make: MakeLimiter,
    redis: Redis,
    holders: Holders,
) -> None:
    limiter = await make(1)
    order: list[str] = []
    holders.start("h", limiter)
    await wait_until(lambda: holders.admitted == ["h"])

    async def judge(name: str) -> None:
        async with limiter.slot(ORG, OPENAI):
            order.append(name)
            await asyncio.sleep(0.005)

    names = [f"w{i}" for i in range(10)]
    waiters = []
    for name in names:
        waiters.append(asyncio.create_task(judge(name)))
        await asyncio.sleep(0.005)
    # One contender per process in Redis; the other nine wait at the local gate.
    assert await queued(redis, limiter) == (1, 1)
    holders.release("h")
    async with asyncio.timeout(5):
        await asyncio.gather(*waiters)
    assert order == names
    await holders.join()


async def test_across_processes_the_earlier_contender_is_served_first(
    make: MakeLimiter,
    redis: Redis,
    holders: Holders,
) -> None:
    holder = await make(1, lease_s=0.5)
    early = await make(1, poll_s=0.5)  # slow to notice a free slot…
    late = await make(1, poll_s=0.02)  # …and quick: it would win any race
    holders.start("holder", holder)
    await wait_until(lambda: holders.admitted == ["holder"])
    holders.start("early", early)
    await wait_until(lambda: _eq(queued(redis, holder), (1, 1)))
    holders.start("late", late)
    await wait_until(lambda: _eq(queued(redis, holder), (2, 2)))

    # The holder dies: its lease expires with no release message, so only polling notices.
    await holder.stop()
    await wait_until(lambda: len(holders.admitted) == 2)
    await asyncio.sleep(0.1)
    assert holders.admitted == ["holder", "early"]
    holders.release("early")
    await wait_until(lambda: len(holders.admitted) == 3)
    assert holders.admitted == ["holder", "early", "late"]
    await holders.join()


async def test_a_cancelled_waiter_leaves_no_trace(
    make: MakeLimiter,
    redis: Redis,
    holders: Holders,
) -> None:
    limiter, other = await make(1), await make(1)
    holders.start("h", limiter)
    await wait_until(lambda: holders.admitted == ["h"])
    holders.start("contender", limiter)  # polls Redis
    holders.start("behind", limiter)  # waits at the local gate
    await wait_until(lambda: _eq(queued(redis, limiter), (1, 1)))

    for name in ("behind", "contender"):
        holders.tasks[name].cancel()
        await asyncio.gather(holders.tasks[name], return_exceptions=True)
        assert holders.tasks[name].cancelled()
    assert await queued(redis, limiter) == (0, 0)
    assert limiter.tracked_keys() == 1  # only h's slot
    assert await limiter.in_flight(ORG, OPENAI) == 1

    # Had the cancelled waiter kept its place, this one would wait out the waiter TTL (3 s);
    # 2 s leaves a slow machine room and still tells the two apart.
    holders.start("next", other)
    await wait_until(lambda: _eq(queued(redis, limiter), (1, 1)))
    holders.release("h")
    await wait_until(lambda: "next" in holders.admitted, timeout=2.0)
    await holders.join()
    assert holders.admitted == ["h", "next"]
    assert limiter.tracked_keys() == other.tracked_keys() == 0
    assert await limiter.in_flight(ORG, OPENAI) == 0


async def test_renewal_keeps_a_long_call_s_slot_past_its_lease(
    make: MakeLimiter,
    holders: Holders,
) -> None:
    a, b = await make(1, lease_s=0.6), await make(1, lease_s=0.6)
    holders.start("long", a)
    await wait_until(lambda: holders.admitted == ["long"])
    holders.start("b", b)
    await asyncio.sleep(1.5)  # two and a half leases
    assert holders.admitted == ["long"]
    assert await b.in_flight(ORG, OPENAI) == 1

    holders.release("long")
    await wait_until(lambda: holders.admitted == ["long", "b"], timeout=2.0)
    await holders.join()


async def test_a_release_wakes_a_waiter_in_another_process_at_once(
    make: MakeLimiter,
    redis: Redis,
    holders: Holders,
) -> None:
    a = await make(1)
    # Only the release message can wake b within 2 s: its own poll comes every 5 s.
    b = await make(1, poll_s=5.0, waiter_ttl_s=10.0)
    holders.start("a", a)
    await wait_until(lambda: holders.admitted == ["a"])
    holders.start("b", b)
    await wait_until(lambda: _eq(queued(redis, a), (1, 1)))  # b has polled once: it sleeps now
    assert holders.admitted == ["a"]

    holders.release("a")
    await wait_until(lambda: holders.admitted == ["a", "b"], timeout=2.0)
    await holders.join()


async def test_unreachable_redis_raises_limiter_unavailable_after_the_deadline(
    make: MakeLimiter,
) -> None:
    with socket.socket() as probe:  # a port nothing listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    limiter = await make(20, url=f"redis://127.0.0.1:{port}/0", unavailable_after_s=0.4)
    loop = asyncio.get_running_loop()

    async def judge() -> None:
        async with limiter.slot(ORG, OPENAI):
            pytest.fail("no slot can be granted without Redis")

    started = loop.time()
    with pytest.raises(LimiterUnavailable, match="unreachable") as raised:
        await judge()
    assert 0.4 <= loop.time() - started < 1.0
    assert isinstance(raised.value, RuntimeError)
    # Redis is known to be down: callers queued behind one another do not each wait again.
    started = loop.time()
    outcomes = await asyncio.gather(*(judge() for _ in range(5)), return_exceptions=True)
    assert all(isinstance(outcome, LimiterUnavailable) for outcome in outcomes)
    assert loop.time() - started < 0.4
    assert limiter.tracked_keys() == 0
    with pytest.raises(LimiterUnavailable):
        await limiter.in_flight(ORG, OPENAI)


async def _eq(value: Awaitable[object], expected: object) -> bool:
    return await value == expected
