"""The in-process judge limiter: the cap per (organisation, provider), exact FIFO admission,
independent keys, cancellation without leaked or skipped slots, no state kept for idle keys."""

from __future__ import annotations

import asyncio

import pytest

from launchgate.providers.limiter import JudgeLimiter, LocalJudgeLimiter

ORG = "org_a"
OPENAI = "openai"


async def settle() -> None:
    """Let every ready task run until it blocks (several rounds: wake-ups chain)."""
    for _ in range(10):
        await asyncio.sleep(0)


class Holders:
    """Tasks that take a slot, note their admission, and keep it until released by name."""

    def __init__(self, limiter: LocalJudgeLimiter) -> None:
        self.limiter = limiter
        self.admitted: list[str] = []
        self.finished: list[str] = []
        self.tasks: dict[str, asyncio.Task[None]] = {}
        self._gates: dict[str, asyncio.Event] = {}

    async def start(self, name: str, org: str = ORG, provider: str = OPENAI) -> None:
        """Start one holder and let it run until it holds a slot or waits in the queue."""
        gate = self._gates[name] = asyncio.Event()

        async def hold() -> None:
            async with self.limiter.slot(org, provider):
                self.admitted.append(name)
                await gate.wait()
            self.finished.append(name)

        self.tasks[name] = asyncio.create_task(hold())
        await settle()

    def release(self, *names: str) -> None:
        for name in names:
            self._gates[name].set()

    def release_all(self) -> None:
        self.release(*self._gates)

    async def join(self) -> None:
        async with asyncio.timeout(5):
            await asyncio.gather(*self.tasks.values(), return_exceptions=True)


async def granted_at_once(
    limiter: LocalJudgeLimiter, org: str = ORG, provider: str = OPENAI
) -> bool:
    """Whether a new caller gets a slot without queueing (the limiter's fast path)."""
    before = limiter.in_flight(org, provider)
    async with asyncio.timeout(1), limiter.slot(org, provider):
        return limiter.in_flight(org, provider) == before + 1 and not limiter.waiting(org, provider)


def test_it_is_a_judge_limiter_and_refuses_a_zero_limit() -> None:
    assert isinstance(LocalJudgeLimiter(20), JudgeLimiter)
    with pytest.raises(ValueError, match="at least 1"):
        LocalJudgeLimiter(0)


async def test_sixty_callers_on_one_key_never_exceed_twenty_and_all_finish() -> None:
    limiter = LocalJudgeLimiter(20)
    peak = 0
    done = 0

    async def judge(i: int) -> None:
        nonlocal peak, done
        async with limiter.slot(ORG, OPENAI):
            peak = max(peak, limiter.in_flight(ORG, OPENAI))
            await asyncio.sleep(0.001 * (i % 5))
            done += 1

    async with asyncio.timeout(5):
        await asyncio.gather(*(judge(i) for i in range(60)))
    assert peak == 20
    assert done == 60
    assert limiter.in_flight(ORG, OPENAI) == 0
    assert limiter.tracked_keys() == 0


async def test_admission_is_exactly_in_arrival_order() -> None:
    limiter = LocalJudgeLimiter(2)
    holders = Holders(limiter)
    for name in ("h1", "h2", *(f"w{i}" for i in range(10))):
        await holders.start(name)
    assert holders.admitted == ["h1", "h2"]
    assert limiter.waiting(ORG, OPENAI) == 10

    holders.release("h2")
    await settle()
    assert holders.admitted == ["h1", "h2", "w0"]
    # A latecomer queues behind everyone already waiting, even as slots keep freeing.
    await holders.start("late")
    for name in ("h1", "w0", "w1", "w2"):
        holders.release(name)
        await settle()
    assert holders.admitted == ["h1", "h2", "w0", "w1", "w2", "w3", "w4"]

    holders.release_all()
    await holders.join()
    assert holders.admitted == ["h1", "h2", *(f"w{i}" for i in range(10)), "late"]
    assert holders.finished.index("h1") < holders.finished.index("w3")


async def test_a_freed_slot_is_handed_to_the_oldest_waiter_before_anyone_else_runs() -> None:
    """No barging: the hand-over happens inside the release, with no await in between."""
    limiter = LocalJudgeLimiter(1)
    holder = limiter.slot(ORG, OPENAI)
    await holder.__aenter__()
    holders = Holders(limiter)
    await holders.start("w0")
    await holders.start("w1")

    await holder.__aexit__(None, None, None)
    assert limiter.in_flight(ORG, OPENAI) == 1  # already w0's, though w0 has not run yet
    assert limiter.waiting(ORG, OPENAI) == 1
    await settle()
    assert holders.admitted == ["w0"]
    holders.release_all()
    await holders.join()
    assert holders.admitted == ["w0", "w1"]


async def test_keys_are_independent_across_organisations_and_providers() -> None:
    limiter = LocalJudgeLimiter(20)
    holders = Holders(limiter)
    keys = [("org_a", "openai"), ("org_b", "openai"), ("org_a", "anthropic")]
    for org, provider in keys:
        for i in range(25):
            await holders.start(f"{org}/{provider}/{i}", org, provider)
    for org, provider in keys:
        assert limiter.in_flight(org, provider) == 20
        assert limiter.waiting(org, provider) == 5
    assert limiter.in_flight("org_b", "anthropic") == 0

    holders.release_all()
    await holders.join()
    assert len(holders.finished) == 75
    assert limiter.tracked_keys() == 0


async def test_a_cancelled_waiter_leaves_the_queue_without_skipping_anyone() -> None:
    limiter = LocalJudgeLimiter(1)
    holders = Holders(limiter)
    for name in ("h", "w1", "w2", "w3"):
        await holders.start(name)
    holders.tasks["w2"].cancel()
    await settle()
    assert holders.tasks["w2"].cancelled()
    assert limiter.waiting(ORG, OPENAI) == 2 and limiter.in_flight(ORG, OPENAI) == 1

    holders.release("h")
    await settle()
    assert holders.admitted == ["h", "w1"]
    holders.release("w1")
    await settle()
    assert holders.admitted == ["h", "w1", "w3"]
    holders.release_all()
    await holders.join()
    assert limiter.in_flight(ORG, OPENAI) == 0 and limiter.tracked_keys() == 0
    assert await granted_at_once(limiter)


async def test_a_waiter_cancelled_just_after_being_handed_a_slot_passes_it_on() -> None:
    limiter = LocalJudgeLimiter(1)
    holders = Holders(limiter)
    for name in ("h", "w1", "w2"):
        await holders.start(name)
    holders.release("h")
    await asyncio.sleep(0)  # h's task runs its release: the slot is w1's, w1 has not resumed
    assert limiter.in_flight(ORG, OPENAI) == 1 and limiter.waiting(ORG, OPENAI) == 1
    assert "w1" not in holders.admitted
    holders.tasks["w1"].cancel()
    await settle()
    assert holders.tasks["w1"].cancelled()
    assert holders.admitted == ["h", "w2"]
    assert limiter.in_flight(ORG, OPENAI) == 1
    holders.release_all()
    await holders.join()
    assert limiter.in_flight(ORG, OPENAI) == 0 and limiter.tracked_keys() == 0


async def test_a_cancelled_holder_frees_its_slot() -> None:
    limiter = LocalJudgeLimiter(2)
    holders = Holders(limiter)
    for name in ("h1", "h2", "w"):
        await holders.start(name)
    holders.tasks["h1"].cancel()
    await settle()
    assert holders.admitted == ["h1", "h2", "w"]
    assert limiter.in_flight(ORG, OPENAI) == 2
    for name in ("h2", "w"):
        holders.tasks[name].cancel()
    await holders.join()
    assert all(task.cancelled() for task in holders.tasks.values())
    assert limiter.in_flight(ORG, OPENAI) == 0 and limiter.tracked_keys() == 0
    assert await granted_at_once(limiter)


async def test_an_error_inside_the_slot_frees_it() -> None:
    limiter = LocalJudgeLimiter(1)
    with pytest.raises(RuntimeError):
        async with limiter.slot(ORG, OPENAI):
            raise RuntimeError("boom")
    assert limiter.in_flight(ORG, OPENAI) == 0
    assert await granted_at_once(limiter)


async def test_idle_keys_are_forgotten() -> None:
    limiter = LocalJudgeLimiter(1)

    async def use(org: str) -> None:
        async with limiter.slot(org, OPENAI):
            assert limiter.tracked_keys() >= 1
            await asyncio.sleep(0)

    # Two callers per organisation, so half of them queue before their key goes idle.
    async with asyncio.timeout(5):
        await asyncio.gather(*(use(f"org_{i % 500}") for i in range(1000)))
    assert limiter.tracked_keys() == 0

    holders = Holders(limiter)
    await holders.start("h")
    await holders.start("w")
    holders.tasks["w"].cancel()
    holders.tasks["h"].cancel()
    await holders.join()
    assert limiter.tracked_keys() == 0
