"""The monthly judge budget in the scaled-out mode (issue 16): `launchgate serve` and two
`launchgate worker` processes on PostgreSQL and Redis, the fake provider in its own
process. The workers share one spend counter in Redis, so the fleet stops calling the
provider once the budget is spent, overshooting by at most the calls already in flight."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any, cast

import httpx

from launchgate.testing.fake_provider.runner import FakeProviderProcess
from launchgate.testing.fleet import setup_judged_suite
from tests.scale.conftest import PROVIDER_KEY, make_fleet, wait_final
from tests.scale.test_fleet import judge_calls_seen

WORKERS, CONCURRENCY = 2, 2
RUNS = 24


def _first_score(run: dict[str, object]) -> dict[str, Any]:
    """The run's first case entry (``wait_final`` hands back the JSON as ``object``)."""
    return cast(list[dict[str, Any]], run["scores"])[0]


def test_a_fleet_stops_judge_calls_once_the_budget_is_spent(
    tmp_path: Path, database: str, shared_redis: str, fake: FakeProviderProcess
) -> None:
    fleet = make_fleet(tmp_path, database, shared_redis, fake)
    try:
        api_key = fleet.create_org("acme")
        url = fleet.start_api("api")
        setup_judged_suite(url, api_key, provider_key=PROVIDER_KEY, judge_cases=1, exact_cases=0)
        for n in range(WORKERS):
            fleet.start_worker(f"worker-{n}", concurrency=CONCURRENCY)
        headers = {"Authorization": f"Bearer {api_key}"}
        with httpx.Client(base_url=url, headers=headers, timeout=60) as client:
            output = "Paris. FAKE_SCORE=0.9"  # every run the same tokens, so the same cost
            first = client.post("/v1/run", json={"suite": "judged", "output": output}).json()
            per_call = first["cost_usd"]
            assert first["status"] == "cleared" and per_call > 0, first
            budget = 5.5 * per_call  # 4.5 more calls after the first
            patched = client.patch("/v1/organization", json={"judge_budget_usd_monthly": budget})
            assert patched.status_code == 200, patched.text

            ids = [
                client.post(
                    "/v1/run", json={"suite": "judged", "output": output, "async": True}
                ).json()["id"]
                for _ in range(RUNS)
            ]
            final = wait_final(url, api_key, ids, 90, fleet)
            calls = judge_calls_seen(fake)
            # Calls allowed while the counter was below the budget, plus at most the calls
            # in flight on the fleet when it crossed (one judge case per run, so one per job).
            allowed = math.ceil(budget / per_call)
            assert allowed <= calls <= allowed + WORKERS * CONCURRENCY - 1, calls
            refused = [
                run
                for run in final.values()
                if _first_score(run).get("error")
                and _first_score(run)["error"]["code"] == "JUDGE_BUDGET_EXCEEDED"
            ]
            assert len(refused) == RUNS - (calls - 1)
            assert all(run["status"] == "error" for run in refused)

            after = client.post("/v1/run", json={"suite": "judged", "output": output}).json()
            assert after["scores"][0]["error"]["code"] == "JUDGE_BUDGET_EXCEEDED", after
            assert judge_calls_seen(fake) == calls  # the provider saw no further request
            spend = client.get("/v1/billing/usage").json()["judge_spend"]
            assert spend["by_model"][0]["calls"] == calls
            assert spend["month_usd"] >= budget and spend["budget_used"] >= 1
    finally:
        fleet.stop()
