"""Issue 5's guarantees with separate OS processes: one API, two workers, PostgreSQL,
Redis and the fake provider. "Completes once" is read off the bill: usage counts a run
when its completion commits, and only the completion that wins the conditional update
counts, so usage == runs means no run completed twice and none was lost."""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx

from launchgate.testing.fake_provider.runner import FakeProviderProcess
from launchgate.testing.fleet import setup_judged_suite
from tests.scale.conftest import PROVIDER_KEY, OwnRedis, make_fleet, usage_count, wait_final

OUTPUT = "Paris is the capital. FAKE_SCORE=0.9"


def submit(url: str, api_key: str, n: int, slug: str = "judged") -> list[str]:
    """``n`` async runs from 8 client threads; their ids, all 202."""
    headers = {"Authorization": f"Bearer {api_key}"}

    def one(_: int) -> str:
        answer = httpx.post(
            f"{url}/v1/run",
            headers=headers,
            timeout=30,
            json={"suite": slug, "output": OUTPUT, "async": True},
        )
        assert answer.status_code == 202, answer.text
        run_id: str = answer.json()["id"]
        return run_id

    with ThreadPoolExecutor(8) as pool:
        return list(pool.map(one, range(n)))


def judge_calls(fake: FakeProviderProcess) -> dict[str, Any]:
    keys = fake.counters()["keys"]
    assert len(keys) == 1, keys  # one organisation, one key
    stats: dict[str, Any] = next(iter(keys.values()))
    return stats


def test_200_async_runs_on_two_workers_complete_once_within_the_judge_limit(
    tmp_path: Path, database: str, shared_redis: str, fake: FakeProviderProcess
) -> None:
    fleet = make_fleet(tmp_path, database, shared_redis, fake)
    # The demand must exceed the limit whatever the machine's speed, or "exactly 20" turns
    # into "as many as this machine could feed": the 200 runs wait in the queue before any
    # worker starts, and each call lasts long enough (600 calls / 20 × 250 ms ≈ 7.5 s) for
    # the workers' own database work to stay well below the judge time.
    fake.configure(latency_ms=250)
    try:
        api_key = fleet.create_org("acme")
        url = fleet.start_api("api")
        setup_judged_suite(url, api_key, provider_key=PROVIDER_KEY, judge_cases=3)
        run_ids = submit(url, api_key, 200)
        # Each worker alone would put 30 × 3 = 90 judge calls in flight: only the shared
        # limiter keeps the organisation at 20.
        fleet.start_worker("worker-1", concurrency=30)
        fleet.start_worker("worker-2", concurrency=30)
        final = wait_final(url, api_key, run_ids, 180, fleet)
        usage = usage_count(url, api_key)
    finally:
        fleet.stop()
    assert {run["status"] for run in final.values()} == {"cleared"}
    assert all(run["total_cases"] == 4 and run["passed_cases"] == 4 for run in final.values())
    stats = judge_calls(fake)
    assert stats["endpoints"]["chat"] == 600  # 200 runs × 3 judge cases, each judged once
    assert stats["max_concurrent"] == 20, stats
    assert usage == 200


def test_a_worker_killed_mid_run_loses_no_run(
    tmp_path: Path, database: str, shared_redis: str, fake: FakeProviderProcess
) -> None:
    lease_s = 2.0
    fleet = make_fleet(
        tmp_path,
        database,
        shared_redis,
        fake,
        LAUNCHGATE_RUN_LEASE_S=str(lease_s),
        LAUNCHGATE_SWEEP_INTERVAL_S="0.5",
        LAUNCHGATE_JUDGE_SLOT_LEASE_S="2",
    )
    fake.configure(latency_ms=400)
    try:
        api_key = fleet.create_org("acme")
        url = fleet.start_api("api")
        fleet.start_worker("doomed", concurrency=10)
        setup_judged_suite(url, api_key, provider_key=PROVIDER_KEY, judge_cases=2)
        run_ids = submit(url, api_key, 30)
        deadline = time.monotonic() + 30
        while judge_calls_seen(fake) < 5 and time.monotonic() < deadline:
            time.sleep(0.05)
        assert judge_calls_seen(fake) >= 5, fleet.logs()
        fleet.kill("doomed")  # SIGKILL: no goodbye, its runs stay "running" under a lease
        killed_at = time.monotonic()
        fleet.start_worker("survivor", concurrency=10)
        wait_final(url, api_key, run_ids, 60, fleet)
        took = time.monotonic() - killed_at
        usage = usage_count(url, api_key)
    finally:
        fleet.stop()
    assert usage == 30
    # 30 runs × 2 calls at 400 ms, 20 at a time, take ~1.2 s; the rest is the lease.
    assert took < lease_s + 20, took


def judge_calls_seen(fake: FakeProviderProcess) -> int:
    keys = fake.counters()["keys"]
    return sum(int(k["endpoints"].get("chat", 0)) for k in keys.values())


def test_runs_accepted_around_a_redis_restart_all_complete_once(
    tmp_path: Path, database: str, own_redis: OwnRedis, fake: FakeProviderProcess
) -> None:
    fleet = make_fleet(
        tmp_path,
        database,
        own_redis.url,
        fake,
        LAUNCHGATE_RUN_LEASE_S="3",
        LAUNCHGATE_SWEEP_INTERVAL_S="0.5",
        LAUNCHGATE_REQUEUE_PENDING_AFTER_S="2",
    )
    fake.configure(latency_ms=100)
    try:
        api_key = fleet.create_org("acme")
        url = fleet.start_api("api")
        fleet.start_worker("worker-1", concurrency=5)
        fleet.start_worker("worker-2", concurrency=5)
        setup_judged_suite(url, api_key, provider_key=PROVIDER_KEY, judge_cases=2)
        before = submit(url, api_key, 30)
        own_redis.restart()  # nothing kept: the queued jobs are gone with the stream
        after = submit_when_back(url, api_key, 30)
        final = wait_final(url, api_key, before + after, 90, fleet)
        usage = usage_count(url, api_key)
    finally:
        fleet.stop()
    assert len(final) == 60 and {r["status"] for r in final.values()} == {"cleared"}
    assert usage == 60


def submit_when_back(url: str, api_key: str, n: int) -> list[str]:
    """The API refuses async runs (503) until it reaches Redis again; then accepts all."""
    headers = {"Authorization": f"Bearer {api_key}"}
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        answer = httpx.post(
            f"{url}/v1/run",
            headers=headers,
            timeout=30,
            json={"suite": "judged", "output": OUTPUT, "async": True},
        )
        if answer.status_code == 202:
            return [answer.json()["id"], *submit(url, api_key, n - 1)]
        assert answer.status_code == 503, answer.text
        time.sleep(0.2)
    raise AssertionError("the API never accepted runs again after Redis came back")


def test_with_redis_down_deterministic_runs_work_and_async_ones_get_503(
    tmp_path: Path, database: str, own_redis: OwnRedis, fake: FakeProviderProcess
) -> None:
    fleet = make_fleet(
        tmp_path,
        database,
        own_redis.url,
        fake,
        LAUNCHGATE_SWEEP_INTERVAL_S="0.5",
        LAUNCHGATE_REQUEUE_PENDING_AFTER_S="1",
    )
    try:
        api_key = fleet.create_org("acme")
        url = fleet.start_api("api")
        setup_judged_suite(url, api_key, provider_key=PROVIDER_KEY, slug="judged")
        setup_judged_suite(
            url, api_key, provider_key=PROVIDER_KEY, slug="plain", judge_cases=0, exact_cases=2
        )
        headers = {"Authorization": f"Bearer {api_key}"}
        accepted = submit(url, api_key, 3)  # no worker yet: they wait, pending
        own_redis.stop()
        with httpx.Client(base_url=url, headers=headers, timeout=30) as client:
            health = client.get("/health").json()
            assert health["status"] == "degraded" and health["services"]["redis"] == "disconnected"
            plain = client.post("/v1/run", json={"suite": "plain", "output": OUTPUT})
            assert plain.status_code == 200 and plain.json()["status"] == "cleared"
            for body in (
                {"suite": "judged", "output": OUTPUT, "async": True},
                {"suite": "plain", "output": OUTPUT, "async": True},
                {"suite": "judged", "output": OUTPUT},
            ):
                refused = client.post("/v1/run", json=body)
                assert refused.status_code == 503, refused.text
                error = refused.json()["error"]
                assert error["code"] == "SERVICE_UNAVAILABLE"
                assert "job queue (Redis) is unreachable" in error["message"]
        own_redis.start()  # empty: the three accepted runs' jobs are gone
        fleet.start_worker("worker", concurrency=5)
        final = wait_final(url, api_key, accepted, 60, fleet)
        usage = usage_count(url, api_key)
    finally:
        fleet.stop()
    assert {r["status"] for r in final.values()} == {"cleared"}
    assert usage == 4  # the three accepted before the outage, and the plain sync run


def test_the_per_ip_limit_holds_across_two_api_processes(
    tmp_path: Path, database: str, shared_redis: str, fake: FakeProviderProcess
) -> None:
    fleet = make_fleet(tmp_path, database, shared_redis, fake, LAUNCHGATE_RATE_LIMIT="100/minute")
    try:
        api_key = fleet.create_org("acme")
        urls = [fleet.start_api("api-1"), fleet.start_api("api-2")]
        headers = {"Authorization": f"Bearer {api_key}"}
        statuses = [
            httpx.get(f"{urls[i % 2]}/v1/projects", headers=headers, timeout=10).status_code
            for i in range(100)
        ]
        over = [httpx.get(f"{url}/v1/projects", headers=headers, timeout=10) for url in urls]
    finally:
        fleet.stop()
    assert statuses == [200] * 100
    for answer in over:  # the 101st and 102nd, one on each process
        assert answer.status_code == 429, answer.text
        assert answer.json()["error"]["code"] == "RATE_LIMITED"
        assert int(answer.headers["retry-after"]) >= 1
