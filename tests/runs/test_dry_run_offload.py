"""A dry run of many items builds its prompts off the event loop (runs/dry_run.py,
``OFFLOAD_PROMPTS``): about 50 µs an item and judge case, half a second a case at the
batch limit. A small one stays inline, where a thread hop would cost more than the work."""

from __future__ import annotations

from typing import Any

import pytest

from launchgate.runs import dry_run
from launchgate.testing.fake_provider import FakeProviderServer
from tests.byok.conftest import fake_provider, papi, provider_app  # noqa: F401
from tests.factories import Api
from tests.judge.test_judge_runs import judge_suite
from tests.threads import MAIN, calls_by_thread


@pytest.fixture
def prompt_threads(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The thread each judge prompt of a dry run is built in."""
    return calls_by_thread(monkeypatch, dry_run, "_request")


async def test_many_prompts_are_built_in_a_thread_and_few_inline(
    papi: Api,  # noqa: F811
    fake_provider: FakeProviderServer,  # noqa: F811
    prompt_threads: list[str],
) -> None:
    org = await papi.org()
    suite, _ = await judge_suite(papi, org, fake_provider, "openai", samples=3)
    body: dict[str, Any] = {"suite": suite["slug"], "dry_run": True}
    few = [{"output": f"answer {i}", "key": f"k{i}"} for i in range(3)]
    answer = await papi.ok("POST", "/v1/batches", org, json={**body, "items": few})
    assert answer["items"] == 3 and prompt_threads == [MAIN] * 3
    prompt_threads.clear()
    count = dry_run.OFFLOAD_PROMPTS + 1  # one judge case: one prompt an item
    many = [{"output": f"answer {i}", "key": f"k{i}"} for i in range(count)]
    answer = await papi.ok("POST", "/v1/batches", org, json={**body, "items": many})
    assert answer["items"] == count and answer["judge_calls"]["max"] == 3 * count
    assert len(prompt_threads) == count and MAIN not in prompt_threads
