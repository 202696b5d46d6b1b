"""Batches of judge items (issue 14) against the fake provider over real HTTP: every
item's judge calls share the organisation's 20 slots, with no barrier between items."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import pytest

from launchgate.testing.fake_provider import FakeProviderServer, key_fingerprint
from tests.factories import Api
from tests.judge.test_judge_runs import judge_suite


@pytest.fixture(autouse=True)
def clean_fake(fake_provider: FakeProviderServer) -> Iterator[None]:
    fake_provider.reset()
    yield
    fake_provider.reset()


def chats(fake: FakeProviderServer) -> int:
    return int(fake.counters()["providers"]["openai"]["endpoints"].get("chat", 0))


async def test_judge_items_flow_through_twenty_slots(
    papi: Api, fake_provider: FakeProviderServer
) -> None:
    fake_provider.configure(latency_ms=300)
    org = await papi.org()
    suite, key = await judge_suite(papi, org, fake_provider, "openai", cases=2)
    items = [{"output": f"answer {i} FAKE_SCORE=0.9", "key": f"q{i}"} for i in range(30)]
    answer = await papi.ok(
        "POST", "/v1/batches", org, json={"suite": suite["slug"], "items": items}
    )
    batch = answer["data"]
    assert batch["status"] == "cleared" and batch["items"]["cleared"] == 30
    assert [case["passed"] for case in batch["cases"]] == [30, 30]
    assert chats(fake_provider) == 60
    assert fake_provider.counters()["keys"][key_fingerprint(key)]["max_concurrent"] == 20


async def test_an_async_judge_batch_completes_on_the_worker(
    papi: Api, fake_provider: FakeProviderServer
) -> None:
    org = await papi.org()
    suite, _ = await judge_suite(papi, org, fake_provider, "openai", threshold=0.5)
    items = [{"output": f"FAKE_SCORE={0.9 if i % 2 else 0.1}"} for i in range(10)]
    body = {"suite": suite["slug"], "items": items, "async": True, "min_cleared": 0.5}
    batch = (await papi.ok("POST", "/v1/batches", org, 202, json=body))["data"]
    for _ in range(300):
        got = (await papi.ok("GET", f"/v1/batches/{batch['id']}", org))["data"]
        if got["status"] != "running":
            break
        await asyncio.sleep(0.05)
    assert got["status"] == "cleared" and got["pass_rate"] == 0.5
    assert got["items"] == {
        "total": 10,
        "done": 10,
        "cleared": 5,
        "aborted": 5,
        "inconclusive": 0,
        "error": 0,
    }
