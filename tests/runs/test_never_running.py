"""A run never stays ``running`` (issue 11, item 4): whatever raises while a run is scored
or completed, the run reaches a final status (``error``), the answer is never a 500, and
no secret reaches the answer.

The two configurations that used to strand a run are stored straight into the database,
past the validation that now refuses them at creation — rows written before that
validation existed are still there:

- a judge scorer with ``cache_ttl_s: 10**12``: storing the cached verdict overflowed
  (``timedelta``) in the completion, which raised, and the run stayed ``running``;
- a BYOK key with a non-ASCII character: httpx refuses to put it in a header, the judge
  call raised, and the run stayed ``running``.
"""

from __future__ import annotations

import asyncio
import secrets
import uuid
from typing import Any

import pytest
from sqlalchemy import update

from launchgate.db import unit_of_work
from launchgate.models import ByokKey, Scorer
from launchgate.runs.engine import SCORING_FAILED
from launchgate.runs.execution import RUN_FAILED
from launchgate.testing.fake_provider import FakeProviderServer
from tests.byok.conftest import fake_provider, papi, provider_app  # noqa: F401  (fixtures)
from tests.factories import Api, Org
from tests.judge.test_judge_runs import RUBRIC, judge_suite

FINAL = ("cleared", "aborted", "error")


@pytest.fixture(autouse=True)
def clean_fake(fake_provider: FakeProviderServer) -> None:  # noqa: F811
    fake_provider.reset()


async def _final(api: Api, org: Org, run_id: str) -> dict[str, Any]:
    """GET the run until it is final (a generous bound: a slow machine only waits longer)."""
    for _ in range(1200):
        run: dict[str, Any] = (await api.ok("GET", f"/v1/runs/{run_id}", org))["data"]
        if run["status"] in FINAL:
            return run
        await asyncio.sleep(0.05)
    pytest.fail(f"run {run_id} stayed {run['status']}")


async def _sync_and_async(api: Api, org: Org, suite: str) -> list[dict[str, Any]]:
    """The run made both ways, as stored once final; each answer checked on the way."""
    body = {"suite": suite, "output": "FAKE_SCORE=0.9"}
    answer = await api.call("POST", "/v1/run", org, json=body)
    assert answer.status_code == 200, answer.text
    assert answer.json()["status"] == "error", answer.text
    sync = await _final(api, org, answer.json()["id"])
    accepted = await api.call("POST", "/v1/run", org, json={**body, "async": True})
    assert accepted.status_code == 202, accepted.text
    return [sync, await _final(api, org, accepted.json()["id"])]


async def test_a_cache_ttl_that_overflows_ends_the_run_in_error(
    papi: Api,  # noqa: F811
    fake_provider: FakeProviderServer,  # noqa: F811
) -> None:
    org = await papi.org()
    suite, _ = await judge_suite(papi, org, fake_provider, "openai", cache_ttl_s=60)
    async with unit_of_work(papi.runtime.sessions) as session:
        await session.execute(
            update(Scorer)
            .where(Scorer.org_id == org.id)
            .values(config={"rubric": RUBRIC, "_provider": "openai", "cache_ttl_s": 10**12})
        )
    for run in await _sync_and_async(papi, org, suite["slug"]):
        # Scored, but the completion could not be written: the run ends in error, in a
        # fresh transaction, every case with the generic reason; nothing is billed.
        assert run["status"] == "error" and run["completed_at"] is not None, run
        assert [s["reason"] for s in run["scores"]] == [RUN_FAILED]
        assert run["error_cases"] == run["total_cases"] == 1


async def test_a_key_no_header_can_carry_ends_the_case_in_error_and_stays_secret(
    papi: Api,  # noqa: F811
) -> None:
    org = await papi.org()
    secret = "sk-test-é" + secrets.token_hex(20)
    key_id = uuid.uuid4()
    sealed = papi.runtime.vault.seal(secret, org_id=org.id, key_id=key_id, provider="openai")
    async with unit_of_work(papi.runtime.sessions) as session:
        session.add(
            ByokKey(
                id=key_id,
                org_id=org.id,
                provider="openai",
                name="accented",
                config={},
                key_prefix=secret[:8],
                ciphertext=sealed,
                status="active",
                is_default=True,
            )
        )
    project = await papi.project(org)
    config = {"rubric": RUBRIC, "_provider": "openai"}
    judge = await papi.scorer(org, project["slug"], type="llm_judge", config=config)
    plain = await papi.scorer(org, project["slug"], config={"values": ["FAKE"]})
    suite = await papi.suite(org, project["slug"])
    await papi.case(org, suite["id"], judge["id"], name="judged")
    await papi.case(org, suite["id"], plain["id"], name="plain")
    for run in await _sync_and_async(papi, org, suite["slug"]):
        assert run["status"] == "error", run
        by_name = {s["case"]: s for s in run["scores"]}
        # The judged case ends in error with the generic reason; the other is scored.
        assert by_name["judged"]["status"] == "error"
        assert by_name["judged"]["reason"] == SCORING_FAILED
        assert by_name["plain"]["status"] == "passed"
        assert secret[8:] not in str(run) and "é" not in str(run)
    # Its test answers too: not valid, not verified, and still secret.
    tested = await papi.call("POST", f"/v1/byok-keys/{key_id}/test", org)
    assert tested.status_code == 200, tested.text
    assert tested.json()["data"]["valid"] is False
    assert secret[8:] not in tested.text
