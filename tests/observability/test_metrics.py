"""GET /metrics: off by default, behind its token, parsed by prometheus-client; its
counters move by exactly the requests, runs and judge calls made (the fake provider
counts the calls), and no organisation's key, key prefix or output is ever in it."""

from __future__ import annotations

import secrets
import uuid

import httpx
import pytest
import redis.asyncio as aioredis

from launchgate.observability.worker_endpoint import serve_metrics
from launchgate.testing.fake_provider import FakeProviderServer
from launchgate.worker import redis_queue
from tests.factories import Api
from tests.judge.test_judge_runs import judge_suite
from tests.observability.conftest import TOKEN, moved, samples, scrape, value

REDIS_URL = "redis://127.0.0.1:6379"
REQUIRED = {
    "launchgate_runs_total",
    "launchgate_run_duration_seconds_bucket",
    "launchgate_cases_total",
    "launchgate_judge_requests_total",
    "launchgate_judge_inflight",
    "launchgate_judge_wait_seconds_bucket",
    "launchgate_judge_cost_usd_total",
    "launchgate_queue_depth",
    "launchgate_http_requests_total",
}


async def test_metrics_are_off_unless_turned_on(client: httpx.AsyncClient) -> None:
    response = await client.get("/metrics")
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "NOT_FOUND"


async def test_the_token_is_required_when_set(mapi: Api) -> None:
    for headers in ({}, {"Authorization": "Bearer nope"}, {"Authorization": TOKEN}):
        refused = await mapi.client.get("/metrics", headers=headers)
        assert refused.status_code == 401, headers
        assert refused.headers["www-authenticate"] == "Bearer"
        assert TOKEN not in refused.text
    page = await scrape(mapi.client)
    assert "# TYPE launchgate_queue_depth gauge" in page


async def test_counters_move_by_exactly_the_calls_made(
    mapi: Api, fake_provider: FakeProviderServer
) -> None:
    fake_provider.reset()
    org = await mapi.org()
    suite, _ = await judge_suite(mapi, org, fake_provider, "openai", cases=2)
    before = await scrape(mapi.client)
    # One run: two judge calls, ok. Another: a 429 then ok on one case (three calls).
    await mapi.run(org, suite["slug"], "thanks FAKE_SCORE=0.9")
    fake_provider.schedule("openai", {"kind": "rate_limit", "retry_after": 0, "endpoint": "chat"})
    await mapi.run(org, suite["slug"], "thanks FAKE_SCORE=0.9")
    after = await scrape(mapi.client)
    calls = fake_provider.counters()["providers"]["openai"]["endpoints"]["chat"]
    assert calls == 5
    judged = "launchgate_judge_requests_total"
    assert moved(before, after, judged, provider="openai", outcome="ok") == 4
    assert moved(before, after, judged, provider="openai", outcome="retried") == 1
    total = sum(
        moved(before, after, judged, provider="openai", outcome=outcome)
        for outcome in ("ok", "retried", "429", "5xx", "timeout", "auth", "quota", "error")
    )
    assert total == calls
    assert moved(before, after, "launchgate_judge_wait_seconds_count") == calls
    assert value(after, "launchgate_judge_inflight", provider="openai") == 0
    # Two POST /v1/run, labelled by the route, and the scrape before this one.
    http = "launchgate_http_requests_total"
    assert moved(before, after, http, route="/v1/run", status="200") == 2
    assert moved(before, after, http, route="/metrics", status="200") == 1


async def test_a_final_failure_is_counted_by_its_kind(
    mapi: Api, fake_provider: FakeProviderServer
) -> None:
    fake_provider.reset()
    org = await mapi.org()
    suite, _ = await judge_suite(mapi, org, fake_provider, "anthropic")
    fake_provider.schedule("anthropic", {"kind": "server_error", "count": 4, "endpoint": "chat"})
    before = await scrape(mapi.client)
    result = await mapi.run(org, suite["slug"], "thanks FAKE_SCORE=1")
    after = await scrape(mapi.client)
    assert result["scores"][0]["status"] == "error"
    judged = "launchgate_judge_requests_total"
    assert moved(before, after, judged, provider="anthropic", outcome="retried") == 3
    assert moved(before, after, judged, provider="anthropic", outcome="5xx") == 1


async def test_runs_and_cases_are_counted(mapi: Api, fake_provider: FakeProviderServer) -> None:
    org = await mapi.org()
    suite, _ = await judge_suite(mapi, org, fake_provider, "openai", extra_cases=True)
    before = await scrape(mapi.client)
    await mapi.run(org, suite["slug"], "thanks FAKE_SCORE=0.9")
    await mapi.run(org, suite["slug"], "nope FAKE_SCORE=0.1")
    after = await scrape(mapi.client)
    runs = "launchgate_runs_total"
    assert moved(before, after, runs, status="cleared", trigger="api") == 1
    assert moved(before, after, runs, status="aborted", trigger="api") == 1
    assert moved(before, after, "launchgate_run_duration_seconds_count") == 2
    cases = "launchgate_cases_total"
    assert moved(before, after, cases, scorer_type="llm_judge", status="passed") == 1
    assert moved(before, after, cases, scorer_type="contains", status="passed") == 1


async def test_routes_are_templates_and_no_secret_or_output_is_a_label(
    mapi: Api, fake_provider: FakeProviderServer
) -> None:
    org = await mapi.org()
    canary_key = "sk-test-CANARYKEY" + secrets.token_hex(12)
    canary_output = "CANARYOUTPUT" + secrets.token_hex(8)
    suite, _ = await judge_suite(mapi, org, fake_provider, "openai", key=canary_key)
    run = await mapi.run(org, suite["slug"], f"thanks {canary_output} FAKE_SCORE=0.9")
    await mapi.ok("GET", f"/v1/runs/{run['id']}", org)
    await mapi.client.get(f"/v1/{canary_output}")  # a 404: no route, so "unmatched"
    page = await scrape(mapi.client)
    assert value(page, "launchgate_http_requests_total", route="/v1/runs/{run_id}", status="200")
    assert value(page, "launchgate_http_requests_total", route="unmatched", status="404")
    for canary in (canary_key, canary_key[:12], canary_output, run["id"], org.key):
        assert canary not in page
    assert {name for name, _ in samples(page)} | _declared(page) >= REQUIRED
    labels = {label for _, pairs in samples(page) for label in pairs}
    assert not any(canary_output in v or canary_key[:12] in v for _, v in labels)


def _declared(page: str) -> set[str]:
    """Metrics declared on the page (a labelled counter has no sample before its first
    increment; its # TYPE line is there)."""
    names = set()
    for line in page.splitlines():
        if line.startswith("# TYPE "):
            name, kind = line.split()[2:4]
            names.add(name + "_total" if kind == "counter" else name)
            names.add(name + "_bucket" if kind == "histogram" else name)
    return names


async def test_the_queue_depth_on_redis_is_the_groups_lag(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    stream = f"launchgate:test-depth:{uuid.uuid4().hex}"
    monkeypatch.setattr(redis_queue, "STREAM", stream)
    client = aioredis.Redis.from_url(REDIS_URL)
    from taskiq_redis import RedisStreamBroker

    broker = RedisStreamBroker(REDIS_URL, queue_name=stream)
    try:
        assert await redis_queue.depth(broker) == 0  # no stream yet
        await client.xgroup_create(stream, redis_queue.GROUP, id="0", mkstream=True)
        for n in range(3):
            await client.xadd(stream, {"data": str(n)})
        assert await redis_queue.depth(broker) == 3
        await client.xreadgroup(redis_queue.GROUP, "c1", {stream: ">"}, count=1)
        assert await redis_queue.depth(broker) == 2  # taken by a worker: no longer waiting
    finally:
        await client.delete(stream)
        await client.aclose()
        await broker.connection_pool.disconnect()


async def test_a_worker_serves_its_own_metrics(mapi: Api) -> None:
    """A ``launchgate worker`` has no HTTP server: it serves the same page on its port."""

    async def depth() -> int:
        return 7

    async with (
        serve_metrics("127.0.0.1", 0, TOKEN, depth) as port,
        httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as client,
    ):
        assert (await client.get("/metrics")).status_code == 401
        assert (await client.get("/other")).status_code == 404
        page = await scrape(client)
    assert value(page, "launchgate_queue_depth") == 7


async def test_a_completed_run_counts_its_cases_and_cost(mapi: Api) -> None:
    """``run_scored``: the one call runs/* makes where a completion is stored."""
    from launchgate.observability import metrics

    before = await scrape(mapi.client)
    usage = {"provider": "openai", "model": "gpt-4o-obs-test", "calls": 2}
    metrics.run_scored(
        {
            "status": "aborted",
            "duration_ms": 1500.0,
            "scores": [
                {"scorer_type": "llm_judge", "status": "failed", "cost_usd": 0.25, "usage": usage},
                {"scorer_type": "llm_judge", "status": "passed", "cost_usd": None, "usage": usage},
                {"scorer_type": "contains", "status": "passed"},
            ],
        },
        "ci",
    )
    after = await scrape(mapi.client)
    assert moved(before, after, "launchgate_runs_total", status="aborted", trigger="ci") == 1
    # The histogram has no labels: a run of another test finishing in the background
    # (this process's registry is shared) may add to it too.
    assert moved(before, after, "launchgate_run_duration_seconds_sum") >= 1.5
    cases = "launchgate_cases_total"
    assert moved(before, after, cases, scorer_type="llm_judge", status="failed") == 1
    assert moved(before, after, cases, scorer_type="contains", status="passed") == 1
    cost = "launchgate_judge_cost_usd_total"
    assert moved(before, after, cost, provider="openai", model="gpt-4o-obs-test") == 0.25
