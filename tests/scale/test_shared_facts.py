"""Two `launchgate serve` processes on one PostgreSQL database: whatever one commits — a plan
change, a key revocation, a config edit — the other honours on its very next request.

Scaled out, an API process reads a key together with its organisation's plan and config
version in one query on every request (api_keys/service.py, ``KeyCaller``) and keeps
nothing across requests; these tests are what would catch a cache slipped in later.
"""

from __future__ import annotations

from typing import Any

import httpx
import psycopg

from launchgate.kit.time import month_key, utcnow
from launchgate.testing.fake_provider.runner import FakeProviderProcess
from tests.scale.conftest import make_fleet


def _post(client: httpx.Client, path: str, body: dict[str, Any], status: int = 201) -> Any:
    answer = client.post(path, json=body)
    assert answer.status_code == status, answer.text
    return answer.json()


def _case(client: httpx.Client, project: str, suite_id: str, value: str) -> None:
    scorer = _post(
        client,
        f"/v1/projects/{project}/scorers",
        {"name": f"has {value}", "type": "contains", "config": {"values": [value]}},
    )["data"]
    _post(
        client,
        f"/v1/suites/{suite_id}/cases",
        {"name": f"has {value}", "scorer_id": scorer["id"]},
    )


def _set_plan(database: str, org_id: str, plan: str) -> None:
    """A plan change, committed the way any process commits one (there is no API for it:
    billing changes it)."""
    with psycopg.connect(database, autocommit=True) as db:
        db.execute("UPDATE organisations SET plan = %s WHERE id = %s", (plan, org_id))


def test_a_plan_change_a_revocation_and_an_edit_show_on_the_other_process_at_once(
    tmp_path: Any, database: str, shared_redis: str, fake: FakeProviderProcess
) -> None:
    fleet = make_fleet(tmp_path, database, shared_redis, fake)
    try:
        api_key = fleet.create_org("acme")
        one, other = fleet.start_api("one"), fleet.start_api("other")
        headers = {"Authorization": f"Bearer {api_key}"}
        with (
            httpx.Client(base_url=one, headers=headers, timeout=30) as a,
            httpx.Client(base_url=other, headers=headers, timeout=30) as b,
        ):
            org_id = a.get("/v1/organization").json()["data"]["id"]
            project = _post(a, "/v1/projects", {"name": "Bot", "slug": "bot"})["data"]["slug"]
            suite = _post(a, f"/v1/projects/{project}/suites", {"name": "Gate"})["data"]
            _case(a, project, suite["id"], "hello")
            run = {"suite": suite["slug"], "output": "hello world"}

            # A month far past the free plan's limit: only the plan decides the answer.
            with psycopg.connect(database, autocommit=True) as db:
                db.execute(
                    "INSERT INTO usage_counters (org_id, period, runs) VALUES (%s, %s, %s)",
                    (org_id, month_key(utcnow()), 10**9),
                )
            first = b.post("/v1/run", json=run)
            assert first.status_code == 200, first.text
            assert first.json()["total_cases"] == 1
            for plan, status in (("free", 402), ("enterprise", 200), ("pro", 402)):
                _set_plan(database, org_id, plan)
                assert b.post("/v1/run", json=run).status_code == status, plan
                assert a.post("/v1/run", json=run).status_code == status, plan
            # The month's runs, counted by any process, decide the next request anywhere.
            with psycopg.connect(database, autocommit=True) as db:
                db.execute("UPDATE usage_counters SET runs = 0 WHERE org_id = %s", (org_id,))
            assert b.post("/v1/run", json=run).status_code == 200
            with psycopg.connect(database, autocommit=True) as db:
                db.execute("UPDATE usage_counters SET runs = 15000 WHERE org_id = %s", (org_id,))
            assert b.post("/v1/run", json=run).status_code == 402  # pro: 15,000 a month
            _set_plan(database, org_id, "enterprise")

            # A config edit through one process: the other's next run has the new case.
            _case(a, project, suite["id"], "world")
            edited = b.post("/v1/run", json=run)
            assert edited.status_code == 200, edited.text
            assert edited.json()["total_cases"] == 2

            # A key revoked through one process is refused by the other at once.
            second = _post(a, "/v1/api-keys", {"name": "ci", "mode": "live"})["data"]
            other_key = {"Authorization": f"Bearer {second['key']}"}
            assert b.post("/v1/run", json=run, headers=other_key).status_code == 200
            revoked = a.delete(f"/v1/api-keys/{second['id']}")
            assert revoked.status_code == 204, revoked.text
            refused = b.post("/v1/run", json=run, headers=other_key)
            assert refused.status_code == 401, refused.text
            assert refused.json()["error"]["message"] == "Invalid API key"
    finally:
        fleet.stop()
