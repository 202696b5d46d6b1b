"""Plans, monthly usage and retention (SPEC §5.9, §9): GET /v1/billing/usage, the 402 at
the limit, and the retention sweep."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import update

from launchgate.billing import repository as billing_repository
from launchgate.billing import service as billing
from launchgate.db import unit_of_work
from launchgate.kit.time import month_key, utcnow
from launchgate.models import Organisation, Run, UsageCounter
from tests.factories import Api, Org

USAGE_KEYS = {
    "judge_spend",
    "plan",
    "plan_name",
    "monthly_limit",
    "current_usage",
    "retention_days",
    "usage_percentage",
}
JUDGE = {"rubric": "Is it kind?", "_provider": "openai"}


async def _usage(api: Api, org: Org) -> dict[str, Any]:
    usage: dict[str, Any] = await api.ok("GET", "/v1/billing/usage", org)
    return usage


async def _set_usage(api: Api, org: Org, runs: int, period: str | None = None) -> None:
    """Write the month's counter directly: cheaper than making hundreds of runs."""
    period = period or month_key(utcnow())
    async with unit_of_work(api.runtime.sessions) as session:
        await session.merge(UsageCounter(org_id=org.id, period=period, runs=runs))
    if period == month_key(utcnow()):
        async with unit_of_work(api.runtime.sessions) as session:
            assert await billing_repository.runs_in_period(session, org.id, period) == runs


async def _runs_total(api: Api, org: Org, suite_id: str) -> int:
    page = await api.ok("GET", f"/v1/suites/{suite_id}/runs", org)
    return int(page["pagination"]["total"])


async def _backdate(api: Api, run_id: str, days: float) -> None:
    async with unit_of_work(api.runtime.sessions) as session:
        await session.execute(
            update(Run).where(Run.id == run_id).values(created_at=utcnow() - timedelta(days=days))
        )


async def _sweep(api: Api, enterprise_default: int | None = None) -> int:
    async with unit_of_work(api.runtime.sessions) as session:
        return await billing.sweep_retention(session, enterprise_default)


async def _exists(api: Api, org: Org, run_id: str) -> bool:
    response = await api.call("GET", f"/v1/runs/{run_id}", org)
    assert response.status_code in (200, 404)
    return response.status_code == 200


# --- the usage answer -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("plan", "name", "limit", "retention"),
    [
        ("free", "Free", 500, 14),
        ("pro", "Pro", 15_000, 365),
        ("scale", "Scale", 100_000, 365),
        ("enterprise", "Enterprise", None, None),
    ],
)
async def test_usage_for_each_plan(
    api: Api, plan: str, name: str, limit: int | None, retention: int | None
) -> None:
    org = await api.org(plan)
    usage = await _usage(api, org)
    assert set(usage) == USAGE_KEYS  # not wrapped in data
    assert usage == {
        "plan": plan,
        "plan_name": name,
        "monthly_limit": limit,
        "current_usage": 0,
        "retention_days": retention,
        "usage_percentage": 0.0,
        "judge_spend": {
            "month_usd": 0.0,
            "budget_usd": None,
            "budget_used": None,
            "warning": None,
            "by_model": [],
            "by_day": [],
        },
    }


async def test_usage_percentage(api: Api) -> None:
    free, pro, enterprise = await api.org("free"), await api.org("pro"), await api.org()
    await _set_usage(api, free, 125)
    await _set_usage(api, pro, 1)
    await _set_usage(api, enterprise, 10_000)
    assert (await _usage(api, free))["usage_percentage"] == 25.0
    assert (await _usage(api, pro))["usage_percentage"] == 0.01
    unlimited = await _usage(api, enterprise)
    assert unlimited["current_usage"] == 10_000 and unlimited["usage_percentage"] == 0.0


async def test_usage_needs_authentication(api: Api) -> None:
    response = await api.call("GET", "/v1/billing/usage", None)
    assert response.status_code == 401


# --- what counts ------------------------------------------------------------------------


async def test_cleared_and_aborted_runs_count_one_each(api: Api) -> None:
    org = await api.org("free")
    _, suite = await api.gated_suite(org)
    assert (await api.run(org, suite["slug"], "hello world"))["status"] == "cleared"
    assert (await _usage(api, org))["current_usage"] == 1
    assert (await api.run(org, suite["slug"], "nothing"))["status"] == "aborted"
    usage = await _usage(api, org)
    assert usage["current_usage"] == 2 and usage["usage_percentage"] == 0.4


async def test_error_runs_do_not_count(api: Api) -> None:
    org = await api.org("free")
    project = await api.project(org)
    suite = await api.suite(org, project["slug"])
    judge = await api.scorer(org, project["slug"], "llm_judge", JUDGE)
    await api.case(org, suite["id"], judge["id"])
    assert (await api.run(org, suite["slug"], "hello"))["status"] == "error"
    assert (await _usage(api, org))["current_usage"] == 0


async def test_rejected_runs_do_not_count(api: Api) -> None:
    org = await api.org("free")
    await api.call("POST", "/v1/run", org, json={"suite": "nope", "output": "x"})
    await api.call("POST", "/v1/run", org, json={"output": "x"})
    assert (await _usage(api, org))["current_usage"] == 0


async def test_runs_with_a_test_key_do_not_count(api: Api) -> None:
    org = await api.org("free")
    _, suite = await api.gated_suite(org)
    test_org = Org(org.id, await api.test_key(org))
    assert test_org.key.startswith("lg_test_")
    assert (await api.run(test_org, suite["slug"], "hello world"))["status"] == "cleared"
    assert (await api.run(test_org, suite["slug"], "nothing"))["status"] == "aborted"
    assert (await _usage(api, org))["current_usage"] == 0
    await api.run(org, suite["slug"], "hello world")  # the live key counts
    assert (await _usage(api, test_org))["current_usage"] == 1


async def test_async_runs_count_once_they_finish(api: Api) -> None:
    org = await api.org("free")
    _, suite = await api.gated_suite(org)
    test_org = Org(org.id, await api.test_key(org))
    for caller in (org, test_org):
        accepted = await api.run(
            caller, suite["slug"], "hello world", status=202, **{"async": True}
        )
        for _ in range(400):
            run = (await api.ok("GET", f"/v1/runs/{accepted['id']}", org))["data"]
            if run["status"] == "cleared":
                break
            await asyncio.sleep(0.025)
        else:
            pytest.fail("async run did not finish")
    assert (await _usage(api, org))["current_usage"] == 1


# --- the limit --------------------------------------------------------------------------


async def test_a_free_org_at_its_limit_gets_402_before_any_work(api: Api) -> None:
    org = await api.org("free")
    _, suite = await api.gated_suite(org)
    await _set_usage(api, org, 499)
    await api.run(org, suite["slug"], "hello world")  # the 500th run is allowed
    usage = await _usage(api, org)
    assert usage["current_usage"] == 500 and usage["usage_percentage"] == 100.0
    before = await _runs_total(api, org, suite["id"])
    for body in (
        {"suite": suite["slug"], "output": "hello world"},
        {"suite": suite["slug"], "output": "hello world", "async": True},
        {"suite": "no-such-suite", "output": "x"},
    ):
        response = await api.call("POST", "/v1/run", org, json=body)
        assert response.status_code == 402, body
        error = response.json()["error"]
        assert error["code"] == "USAGE_LIMIT_EXCEEDED"
        assert "500" in error["message"]
    assert await _runs_total(api, org, suite["id"]) == before
    assert (await _usage(api, org))["current_usage"] == 500
    # Reading is still allowed at the limit.
    assert (await api.ok("GET", f"/v1/suites/{suite['id']}/runs", org))["data"]


async def test_a_pro_org_at_its_limit_gets_402(api: Api) -> None:
    org = await api.org("pro")
    _, suite = await api.gated_suite(org)
    await _set_usage(api, org, 15_000)
    response = await api.call(
        "POST", "/v1/run", org, json={"suite": suite["slug"], "output": "hello world"}
    )
    assert response.status_code == 402
    assert response.json()["error"]["code"] == "USAGE_LIMIT_EXCEEDED"


async def test_error_runs_below_the_limit_are_still_allowed(api: Api) -> None:
    org = await api.org("free")
    project = await api.project(org)
    suite = await api.suite(org, project["slug"])
    judge = await api.scorer(org, project["slug"], "llm_judge", JUDGE)
    await api.case(org, suite["id"], judge["id"])
    await _set_usage(api, org, 499)
    for _ in range(2):
        assert (await api.run(org, suite["slug"], "x"))["status"] == "error"
    assert (await _usage(api, org))["current_usage"] == 499


async def test_enterprise_has_no_limit(api: Api) -> None:
    org = await api.org("enterprise")
    _, suite = await api.gated_suite(org)
    await _set_usage(api, org, 1_000_000)
    assert (await api.run(org, suite["slug"], "hello world"))["status"] == "cleared"
    assert (await _usage(api, org))["current_usage"] == 1_000_001


async def test_last_months_usage_does_not_count(api: Api) -> None:
    org = await api.org("free")
    _, suite = await api.gated_suite(org)
    last_month = month_key(utcnow().replace(day=1) - timedelta(days=1))
    assert last_month != month_key(utcnow())
    await _set_usage(api, org, 500, period=last_month)
    assert (await _usage(api, org))["current_usage"] == 0
    assert (await api.run(org, suite["slug"], "hello world"))["status"] == "cleared"
    assert (await _usage(api, org))["current_usage"] == 1
    async with unit_of_work(api.runtime.sessions) as session:
        assert await billing_repository.runs_in_period(session, org.id, last_month) == 500


# --- retention --------------------------------------------------------------------------


async def test_sweep_deletes_a_free_orgs_old_runs_only(api: Api) -> None:
    org = await api.org("free")
    _, suite = await api.gated_suite(org)
    old, recent, fresh = [
        (await api.run(org, suite["slug"], "hello world"))["id"] for _ in range(3)
    ]
    await _backdate(api, old, 15)
    await _backdate(api, recent, 13)
    assert await _sweep(api) >= 1
    assert not await _exists(api, org, old)
    assert await _exists(api, org, recent) and await _exists(api, org, fresh)
    assert await _runs_total(api, org, suite["id"]) == 2
    # The month's usage stays: deleting a run does not give the unit back.
    assert (await _usage(api, org))["current_usage"] == 3


async def test_sweep_keeps_paid_plans_for_a_year(api: Api) -> None:
    org = await api.org("pro")
    _, suite = await api.gated_suite(org)
    kept, gone = [(await api.run(org, suite["slug"], "hello"))["id"] for _ in range(2)]
    await _backdate(api, kept, 100)
    await _backdate(api, gone, 366)
    await _sweep(api)
    assert await _exists(api, org, kept) and not await _exists(api, org, gone)


async def test_sweep_keeps_enterprise_runs_by_default(api: Api) -> None:
    org = await api.org("enterprise")
    _, suite = await api.gated_suite(org)
    ancient = (await api.run(org, suite["slug"], "hello world"))["id"]
    await _backdate(api, ancient, 3650)
    await _sweep(api)
    assert await _exists(api, org, ancient)


async def test_enterprise_retention_comes_from_the_org_or_the_setting(api: Api) -> None:
    own, default = await api.org("enterprise"), await api.org("enterprise")
    async with unit_of_work(api.runtime.sessions) as session:
        await session.execute(
            update(Organisation).where(Organisation.id == own.id).values(retention_days=30)
        )
    assert (await _usage(api, own))["retention_days"] == 30
    runs = {}
    for org in (own, default):
        _, suite = await api.gated_suite(org)
        runs[org.id] = (await api.run(org, suite["slug"], "hello world"))["id"]
        await _backdate(api, runs[org.id], 45)
    await _sweep(api)  # no setting: only the org with its own retention loses the run
    assert not await _exists(api, own, runs[own.id])
    assert await _exists(api, default, runs[default.id])
    await _sweep(api, enterprise_default=60)
    assert await _exists(api, default, runs[default.id])
    await _sweep(api, enterprise_default=40)
    assert not await _exists(api, default, runs[default.id])
