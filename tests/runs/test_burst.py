"""A burst of synchronous judge runs (issue 11, item 5): 200 at once against the fake
provider, on a fresh app (cold snapshot, key and facts caches) with the default database
pool, on each backend. Every answer is 200 — or 503 with ``Retry-After`` once the
admission limit is reached — never a 500, and every run that was accepted reaches a
final status in the database.

Before the fix the request kept its session's connection checked out while it waited for
the worker, and the job kept another across the LLM call: at 25 runs the pool ran dry
and the requests answered 500 after the pool's 30 s timeout."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import select

from launchgate.app import create_app
from launchgate.db import overflow, unit_of_work
from launchgate.models import Run
from launchgate.testing.fake_provider import FakeProviderServer
from tests.byok.conftest import fake_provider, provider_settings  # noqa: F401  (fixture)
from tests.conftest import started
from tests.factories import Api, Org
from tests.judge.test_judge_runs import judge_suite

BURST = 200
FINAL = {"cleared", "aborted", "error"}


async def _fresh_api(
    database_url: str, data_dir: Any, fake: FakeProviderServer, **overrides: Any
) -> AsyncIterator[Api]:
    """A new app on the session's database: its caches start empty. An error the app
    answered (a 500 included) reaches the test as the answer, not as an exception."""
    settings = provider_settings(database_url, data_dir, fake, **overrides)
    app: FastAPI
    async for app in started(create_app(settings)):
        transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
        async with httpx.AsyncClient(
            transport=transport, base_url="http://testserver", timeout=120
        ) as client:
            yield Api(client, app.state.runtime)


async def _burst(api: Api, org: Org, suite: str) -> list[httpx.Response]:
    body = {"suite": suite, "output": "FAKE_SCORE=0.9"}
    return list(
        await asyncio.gather(*(api.call("POST", "/v1/run", org, json=body) for _ in range(BURST)))
    )


async def _stored_statuses(api: Api, org: Org) -> list[str]:
    async with unit_of_work(api.runtime.sessions) as session:
        rows = await session.scalars(select(Run.status).where(Run.org_id == org.id))
        return list(rows)


def _check(answers: list[httpx.Response]) -> tuple[int, int]:
    """(answered 200, refused 503); anything else fails the test, quoting it."""
    ok = refused = 0
    for answer in answers:
        if answer.status_code == 503:
            error = answer.json()["error"]
            assert error["code"] == "SERVICE_UNAVAILABLE", answer.text
            assert int(answer.headers["retry-after"]) >= 1, answer.headers
            refused += 1
            continue
        assert answer.status_code == 200, answer.text
        assert answer.json()["status"] == "cleared", answer.text
        ok += 1
    return ok, refused


@pytest.fixture
def slow_fake(fake_provider: FakeProviderServer) -> Iterator[FakeProviderServer]:  # noqa: F811
    fake_provider.reset()
    fake_provider.configure(latency_ms=300)
    yield fake_provider
    fake_provider.reset()


async def test_two_hundred_simultaneous_judge_runs_all_answer(
    database_url: str, tmp_path: Any, slow_fake: FakeProviderServer
) -> None:
    async for api in _fresh_api(database_url, tmp_path, slow_fake):
        org = await api.org()
        suite, _ = await judge_suite(api, org, slow_fake, "openai")
        ok, refused = _check(await _burst(api, org, suite["slug"]))
        # The default admission limit is above 200: none is refused.
        assert (ok, refused) == (BURST, 0)
        statuses = await _stored_statuses(api, org)
        assert len(statuses) == BURST and set(statuses) == {"cleared"}


async def test_past_the_admission_limit_a_run_is_refused_with_retry_after(
    database_url: str, tmp_path: Any, slow_fake: FakeProviderServer
) -> None:
    async for api in _fresh_api(database_url, tmp_path, slow_fake, max_waiting_sync_runs=50):
        org = await api.org()
        suite, _ = await judge_suite(api, org, slow_fake, "openai")
        ok, refused = _check(await _burst(api, org, suite["slug"]))
        assert ok >= 50 and refused >= 1 and ok + refused == BURST
        statuses = await _stored_statuses(api, org)
        # A refused run was never stored; every accepted one finished.
        assert len(statuses) == ok and set(statuses) <= FINAL


async def test_when_no_database_connection_comes_free_the_answer_is_503(
    database_url: str, tmp_path: Any, slow_fake: FakeProviderServer
) -> None:
    async for api in _fresh_api(
        database_url, tmp_path, slow_fake, database_pool_size=1, database_pool_timeout_s=0.2
    ):
        org = await api.org()
        engine = api.runtime.engine
        held = [await engine.connect() for _ in range(1 + overflow(database_url, 1))]
        try:
            answer = await api.call("GET", "/v1/projects", org)
        finally:
            for connection in held:
                await connection.close()
        assert answer.status_code == 503, answer.text
        assert answer.json()["error"]["code"] == "SERVICE_UNAVAILABLE"
        assert int(answer.headers["retry-after"]) >= 1
        # The pool is free again: the server answers as before.
        assert (await api.call("GET", "/v1/projects", org)).status_code == 200
