"""Issue 14's batches in the scaled-out mode, with separate OS processes: one API, workers,
PostgreSQL, Redis and the fake provider. Scaled out, each item of a batch is its own
``run.execute`` job, so the items spread over the workers while the organisation's judge
calls still share one limiter of 20 slots in Redis; and since an item is an ordinary run,
a worker that dies mid-batch leaves runs that the sweep hands to another worker, and the
batch completes once its last item is final. "No item lost, none counted twice" is read
off the bill: usage counts a run when its completion commits, once."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import httpx
import pytest

from launchgate.testing.fake_provider.runner import FakeProviderProcess
from launchgate.testing.fleet import Fleet, setup_judged_suite
from tests.scale.conftest import PROVIDER_KEY, make_fleet, usage_count
from tests.scale.test_fleet import judge_calls, judge_calls_seen

FINAL = {"cleared", "aborted", "inconclusive", "error"}


def items(n: int) -> list[dict[str, Any]]:
    """``n`` outputs every judge case passes (the fake judge answers FAKE_SCORE)."""
    return [
        {"output": f"answer {i}: Paris. FAKE_SCORE=0.9", "key": f"row-{i:04d}"} for i in range(n)
    ]


def batch_items(client: httpx.Client, batch_id: str) -> list[dict[str, Any]]:
    """Every item (run) of the batch, through the paginated list, in the order sent."""
    found: list[dict[str, Any]] = []
    page = 1
    while True:
        answer = client.get(f"/v1/batches/{batch_id}/items", params={"page": page, "pageSize": 100})
        assert answer.status_code == 200, answer.text
        body = answer.json()
        found += body["data"]
        if len(found) >= body["pagination"]["total"] or not body["data"]:
            return found
        page += 1


def wait_batch(
    client: httpx.Client, batch_id: str, timeout_s: float, fleet: Fleet
) -> dict[str, Any]:
    """The batch once it is no longer running (a read completes it when its last item
    is final); fails quoting the fleet's logs on timeout."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        batch: dict[str, Any] = client.get(f"/v1/batches/{batch_id}").json()["data"]
        if batch["status"] != "running":
            return batch
        time.sleep(0.2)
    pytest.fail(
        f"batch {batch_id} still running after {timeout_s} s: {batch['items']}\n{fleet.logs()}"
    )


def test_200_judge_items_on_two_workers_stay_within_20_calls_and_clear(
    tmp_path: Path, database: str, shared_redis: str, fake: FakeProviderProcess
) -> None:
    # 400 calls / 20 slots × 200 ms = 4 s of judging at best. Each worker alone would put
    # 30 items × 2 cases = 60 calls in flight: only the shared limiter holds the key at 20.
    fleet = make_fleet(tmp_path, database, shared_redis, fake, LAUNCHGATE_SYNC_RUN_TIMEOUT_S="120")
    fake.configure(latency_ms=200)
    try:
        api_key = fleet.create_org("acme")
        url = fleet.start_api("api")
        setup_judged_suite(url, api_key, provider_key=PROVIDER_KEY, judge_cases=2, exact_cases=0)
        fleet.start_worker("worker-1", concurrency=30)
        fleet.start_worker("worker-2", concurrency=30)
        headers = {"Authorization": f"Bearer {api_key}"}
        with httpx.Client(base_url=url, headers=headers, timeout=150) as client:
            started = time.monotonic()
            # Synchronous, as CI sends it: the request waits for the workers to score all.
            answer = client.post("/v1/batches", json={"suite": "judged", "items": items(200)})
            took = time.monotonic() - started
            assert answer.status_code == 200, f"{answer.text}\n{fleet.logs()}"
            batch = answer.json()["data"]
            runs = batch_items(client, batch["id"])
        usage = usage_count(url, api_key)
    finally:
        fleet.stop()
    assert batch["status"] == "cleared" and batch["pass_rate"] == 1.0, batch
    assert batch["items"] == {
        "total": 200,
        "done": 200,
        "cleared": 200,
        "aborted": 0,
        "inconclusive": 0,
        "error": 0,
    }
    assert [(c["items"], c["passed"], c["errors"]) for c in batch["cases"]] == [(200, 200, 0)] * 2
    assert [run["key"] for run in runs] == [f"row-{i:04d}" for i in range(200)]
    assert {run["status"] for run in runs} == {"cleared"}
    assert {run["batch_id"] for run in runs} == {batch["id"]}
    stats = judge_calls(fake)
    assert stats["endpoints"]["chat"] == 400  # 200 items × 2 judge cases, each judged once
    assert stats["max_concurrent"] == 20, stats
    assert usage == 200
    print(f"\n200 items × 2 judge cases at 200 ms, synchronous batch: {took:.2f} s (ideal 4.0 s)")


def test_a_worker_killed_mid_batch_loses_no_item(
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
    n = 40
    try:
        api_key = fleet.create_org("acme")
        url = fleet.start_api("api")
        fleet.start_worker("doomed", concurrency=10)
        setup_judged_suite(url, api_key, provider_key=PROVIDER_KEY, judge_cases=2, exact_cases=0)
        headers = {"Authorization": f"Bearer {api_key}"}
        with httpx.Client(base_url=url, headers=headers, timeout=30) as client:
            body = {"suite": "judged", "items": items(n), "async": True}
            answer = client.post("/v1/batches", json=body)
            assert answer.status_code == 202, answer.text
            batch_id = answer.json()["data"]["id"]
            deadline = time.monotonic() + 30
            while judge_calls_seen(fake) < 5 and time.monotonic() < deadline:
                time.sleep(0.05)
            assert judge_calls_seen(fake) >= 5, fleet.logs()
            fleet.kill("doomed")  # SIGKILL mid-batch: its items stay "running" under a lease
            killed_at = time.monotonic()
            during = client.get(f"/v1/batches/{batch_id}").json()["data"]
            fleet.start_worker("survivor", concurrency=10)
            batch = wait_batch(client, batch_id, 60, fleet)
            took = time.monotonic() - killed_at
            runs = batch_items(client, batch_id)
        usage = usage_count(url, api_key)
    finally:
        fleet.stop()
    assert during["status"] == "running" and during["items"]["done"] < n, during
    assert batch["status"] == "cleared", batch
    assert batch["items"]["done"] == batch["items"]["cleared"] == n, batch["items"]
    assert [(c["items"], c["passed"]) for c in batch["cases"]] == [(n, n)] * 2
    assert len(runs) == n and {run["status"] for run in runs} <= FINAL
    assert {run["status"] for run in runs} == {"cleared"}
    assert usage == n  # every item completed exactly once
    # 40 items × 2 calls at 400 ms, 20 at a time, take ~1.6 s; the rest is the lease.
    assert took < lease_s + 20, took
