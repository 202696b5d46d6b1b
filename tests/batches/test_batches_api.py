"""Batches through the API (issue 14): items as runs, the per-case figures and verdict, the
baseline comparison, bad input, usage — on both backends."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

import pytest
from scipy import stats
from sqlalchemy import delete, update

from launchgate.batches import service
from launchgate.billing import service as billing
from launchgate.db import unit_of_work
from launchgate.kit.time import utcnow
from launchgate.models import Batch, Run
from tests.factories import Api, Org, assert_error
from tests.threads import MAIN, calls_by_thread


def _items(outputs: list[str], keys: bool = True) -> list[dict[str, Any]]:
    return [
        {"output": text, **({"key": f"row-{i}"} if keys else {})} for i, text in enumerate(outputs)
    ]


def _wilson(k: int, n: int) -> list[float]:
    ci = stats.binomtest(k, n).proportion_ci(confidence_level=0.95, method="wilson")
    return [round(ci.low, 4), round(ci.high, 4)]


async def _batch(api: Api, org: Org, status: int = 200, **body: Any) -> dict[str, Any]:
    answer = await api.ok("POST", "/v1/batches", org, status, json=body)
    assert set(answer) == {"data"}
    data: dict[str, Any] = answer["data"]
    return data


# 40 items say hello and world, 5 only hello, 5 neither.
FIFTY = ["hello world"] * 40 + ["hello there"] * 5 + ["goodbye"] * 5


async def test_fifty_items_give_the_expected_case_rates_intervals_and_verdict(api: Api) -> None:
    org = await api.org()
    _, suite = await api.gated_suite(org)
    batch = await _batch(api, org, suite=suite["slug"], items=_items(FIFTY), min_cleared=0.8)
    assert batch["id"].startswith("bat_") and batch["status"] == "cleared"
    assert batch["passed"] is True and batch["pass_rate"] == 0.8
    assert batch["items"] == {
        "total": 50,
        "done": 50,
        "cleared": 40,
        "aborted": 10,
        "inconclusive": 0,
        "error": 0,
    }
    hello, world = batch["cases"]
    assert (hello["case"], hello["passed"], hello["items"], hello["pass_rate"]) == (
        "has hello",
        45,
        50,
        0.9,
    )
    assert (world["passed"], world["pass_rate"]) == (40, 0.8)
    assert hello["interval"] == _wilson(45, 50) and world["interval"] == _wilson(40, 50)
    assert batch["comparison"] is None and batch["baseline_id"] is None
    # The suite's batch_threshold (default 1.0) applies when the request names none.
    strict = await _batch(api, org, suite=suite["slug"], items=_items(FIFTY))
    assert (strict["status"], strict["min_cleared"], strict["passed"]) == ("aborted", 1.0, False)


async def test_items_are_runs_listed_in_the_order_sent_with_their_keys(api: Api) -> None:
    org = await api.org()
    _, suite = await api.gated_suite(org)
    outputs = [f"hello world {i}" for i in range(25)]
    batch = await _batch(api, org, suite=suite["slug"], items=_items(outputs))
    page = await api.ok("GET", f"/v1/batches/{batch['id']}/items?pageSize=20&page=2", org)
    assert page["pagination"]["total"] == 25 and not page["pagination"]["hasMore"]
    assert [item["key"] for item in page["data"]] == [f"row-{i}" for i in range(20, 25)]
    run = await api.ok("GET", f"/v1/runs/{page['data'][0]['id']}", org)
    assert run["data"]["output"] == "hello world 20"
    assert run["data"]["batch_id"] == batch["id"] and run["data"]["key"] == "row-20"
    listed = await api.ok("GET", f"/v1/suites/{suite['id']}/batches", org)
    assert [b["id"] for b in listed["data"]] == [batch["id"]]


async def test_an_async_batch_answers_202_and_completes(api: Api) -> None:
    org = await api.org()
    _, suite = await api.gated_suite(org)
    batch = await _batch(api, org, 202, suite=suite["slug"], items=_items(FIFTY), **{"async": True})
    assert batch["status"] in ("running", "aborted") and batch["items"]["total"] == 50
    for _ in range(200):
        got = (await api.ok("GET", f"/v1/batches/{batch['id']}", org))["data"]
        if got["status"] != "running":
            break
        await asyncio.sleep(0.05)
    assert got["status"] == "aborted" and got["items"]["done"] == 50
    assert got["completed_at"] is not None and got["cases"][0]["passed"] == 45


async def test_a_batch_counts_one_usage_unit_per_item(api: Api) -> None:
    org = await api.org()
    _, suite = await api.gated_suite(org)
    before = (await api.ok("GET", "/v1/billing/usage", org))["current_usage"]
    await _batch(api, org, suite=suite["slug"], items=_items(FIFTY[:7]))
    assert (await api.ok("GET", "/v1/billing/usage", org))["current_usage"] == before + 7


def _keyed(passing: dict[str, int], n: int = 50) -> list[dict[str, Any]]:
    """n items keyed row-0…; item i says each word whose count exceeds i."""
    return [
        {"key": f"row-{i}", "output": " ".join(w for w, k in passing.items() if i < k) or "-"}
        for i in range(n)
    ]


async def test_a_regression_is_found_against_the_auto_baseline(api: Api) -> None:
    org = await api.org()
    _, suite = await api.gated_suite(org, values=("alpha", "beta"), pass_threshold=0.0)
    main = {"branch": "main"}
    base = await _batch(
        api, org, suite=suite["slug"], items=_keyed({"alpha": 48, "beta": 48}), trigger_meta=main
    )
    current = await _batch(
        api,
        org,
        suite=suite["slug"],
        items=_keyed({"alpha": 30, "beta": 46}),
        trigger_meta={"branch": "feature"},
        baseline="auto",
        min_cleared=0.0,
    )
    assert current["baseline"] == "auto" and current["baseline_id"] == base["id"]
    comparison = current["comparison"]
    assert comparison["regressed_cases"] == 1 and comparison["improved_cases"] == 0
    alpha, beta = comparison["cases"]
    assert (alpha["case"], alpha["classification"], alpha["test"]) == (
        "has alpha",
        "regressed",
        "mcnemar",
    )
    assert alpha["pairs"] == 50 and alpha["difference"] == -0.36
    assert alpha["baseline"] == {"passed": 48, "items": 50, "pass_rate": 0.96}
    assert alpha["current"] == {"passed": 30, "items": 50, "pass_rate": 0.6}
    # Independent reference: 18 discordant pairs, all lost.
    assert alpha["p_value"] == pytest.approx(stats.binomtest(0, 18, 0.5).pvalue)
    assert beta["classification"] == "unchanged"
    assert beta["p_value"] == pytest.approx(stats.binomtest(0, 2, 0.5).pvalue)
    assert alpha["interval"][1] < 0 < beta["interval"][1]
    # The pass rate clears (min_cleared 0), so the batch clears unless asked otherwise.
    assert current["status"] == "cleared"
    strict = await _batch(
        api,
        org,
        suite=suite["slug"],
        items=_keyed({"alpha": 30, "beta": 46}),
        baseline=base["id"],
        min_cleared=0.0,
        fail_on_regression=True,
    )
    assert strict["status"] == "aborted"
    assert strict["verdict_detail"]["aborted_by_regression"] is True
    assert strict["verdict_detail"]["status"] == "cleared"
    again = await api.ok("GET", f"/v1/batches/{strict['id']}/compare?baseline={base['id']}", org)
    assert again["data"]["cases"] == strict["comparison"]["cases"]


async def test_unkeyed_items_are_compared_unpaired(api: Api) -> None:
    org = await api.org()
    _, suite = await api.gated_suite(org, values=("alpha",), pass_threshold=0.0)
    unkeyed = [{"output": item["output"]} for item in _keyed({"alpha": 48})]
    base = await _batch(api, org, suite=suite["slug"], items=unkeyed)
    worse = [{"output": item["output"]} for item in _keyed({"alpha": 30})]
    current = await _batch(api, org, suite=suite["slug"], items=worse, baseline=base["id"])
    (alpha,) = current["comparison"]["cases"]
    assert (alpha["test"], alpha["pairs"], alpha["classification"]) == ("fisher", 0, "regressed")
    assert alpha["p_value"] == pytest.approx(stats.fisher_exact([[30, 20], [48, 2]]).pvalue)


async def test_the_comparison_and_the_figures_are_computed_off_the_event_loop(
    api: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Its exact tests take tens of ms a case at the item limit, and the per-case figures
    # are O(cases × items) (batches/service.py).
    threads = calls_by_thread(monkeypatch, service, "compare")
    figured = calls_by_thread(monkeypatch, service, "case_figures")
    org = await api.org()
    _, suite = await api.gated_suite(org, values=("alpha",), pass_threshold=0.0)
    base = await _batch(api, org, suite=suite["slug"], items=_keyed({"alpha": 48}))
    current = await _batch(
        api, org, suite=suite["slug"], items=_keyed({"alpha": 30}), baseline=base["id"]
    )
    assert current["comparison"]["cases"][0]["classification"] == "regressed"
    again = await api.ok("GET", f"/v1/batches/{current['id']}/compare?baseline={base['id']}", org)
    assert again["data"]["cases"][0]["classification"] == "regressed"
    assert len(threads) >= 2 and MAIN not in threads
    assert len(figured) == 2 and MAIN not in figured


async def test_a_batch_scored_in_the_request_gives_the_loop_back_between_items(
    api: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Deterministic items score without a wait of their own: without giving the loop back
    # (batches/service.py YIELD_EVERY_S), a 10,000-item batch held every other request.
    ticks = 0

    async def ticker() -> None:
        nonlocal ticks
        while True:
            ticks += 1
            await asyncio.sleep(0)

    seen: list[int] = []
    real = service.engine.score_run

    async def watched(*args: Any, **kwargs: Any) -> dict[str, Any]:
        seen.append(ticks)
        return await real(*args, **kwargs)

    monkeypatch.setattr(service.engine, "score_run", watched)
    monkeypatch.setattr(service, "YIELD_EVERY_S", 0.0, raising=False)  # after every item
    org = await api.org()
    _, suite = await api.gated_suite(org, pass_threshold=0.0)
    running = asyncio.create_task(ticker())
    try:
        batch = await _batch(api, org, suite=suite["slug"], items=_items(["hello world"] * 20))
    finally:
        running.cancel()
    assert batch["status"] == "cleared"
    assert len(seen) == 20 and seen[-1] > seen[0]  # other tasks ran between the items


async def test_bad_batches_are_refused_and_store_nothing(api: Api) -> None:
    org = await api.org()
    _, suite = await api.gated_suite(org)
    other_org = await api.org()
    _, foreign = await api.gated_suite(other_org)
    foreign_batch = await _batch(api, other_org, suite=foreign["slug"], items=_items(["hello"]))
    _, sibling = await api.gated_suite(org)
    sibling_batch = await _batch(api, org, suite=sibling["slug"], items=_items(["hello"]))
    slug = suite["slug"]
    cases: list[tuple[dict[str, Any], int, str, str]] = [
        ({"suite": slug, "items": []}, 400, "VALIDATION_ERROR", "items"),
        (
            {"suite": slug, "items": [{"output": "x"}] * 1001},
            400,
            "VALIDATION_ERROR",
            "at most 1000 are allowed",
        ),
        (
            {"suite": slug, "items": [{"output": "a", "key": "k"}, {"output": "b", "key": "k"}]},
            400,
            "VALIDATION_ERROR",
            "items[1].key 'k' repeats items[0].key",
        ),
        (
            {"suite": slug, "items": [{"output": "a"}, {"output": "  "}]},
            400,
            "VALIDATION_ERROR",
            "items[1].output is empty",
        ),
        (
            {"suite": slug, "items": [{"output": "a"}], "baseline": foreign_batch["id"]},
            404,
            "NOT_FOUND",
            "not found",
        ),
        (
            {"suite": slug, "items": [{"output": "a"}], "baseline": sibling_batch["id"]},
            404,
            "NOT_FOUND",
            "not found in this suite",
        ),
        (
            {"suite": slug, "items": [{"output": "a"}], "baseline": "latest"},
            400,
            "VALIDATION_ERROR",
            "baseline",
        ),
    ]
    for body, status, code, words in cases:
        error = assert_error(await api.call("POST", "/v1/batches", org, json=body), status, code)
        assert words in error["message"] + str(error.get("details")), (body, error)
    assert (await api.ok("GET", f"/v1/suites/{suite['id']}/batches", org))["data"] == []
    assert (await api.ok("GET", f"/v1/suites/{suite['id']}/runs", org))["data"] == []
    assert_error(await api.call("GET", f"/v1/batches/{foreign_batch['id']}", org), 404, "NOT_FOUND")
    assert_error(await api.call("GET", "/v1/batches/nonsense", org), 404, "NOT_FOUND")


async def test_single_runs_compare_case_by_case(api: Api) -> None:
    org = await api.org()
    _, suite = await api.gated_suite(org, pass_threshold=0.5)
    base = await api.run(org, suite["slug"], "hello world", trigger_meta={"branch": "main"})
    current = await api.run(org, suite["slug"], "hello", trigger_meta={"branch": "feature"})
    got = (await api.ok("GET", f"/v1/runs/{current['id']}/compare?baseline=auto", org))["data"]
    assert got["baseline_id"] == base["id"] and got["current_status"] == "cleared"
    hello, world = got["cases"]
    assert (hello["change"], hello["delta"]) == ("same", 0.0)
    assert (world["baseline_status"], world["current_status"], world["change"]) == (
        "passed",
        "failed",
        "regressed",
    )
    assert world["delta"] == -1.0
    explicit = await api.ok("GET", f"/v1/runs/{base['id']}/compare?baseline={current['id']}", org)
    assert explicit["data"]["cases"][1]["change"] == "improved"
    missing = await api.call("GET", f"/v1/runs/{base['id']}/compare?baseline=auto", org)
    assert_error(missing, 404, "NOT_FOUND")


async def test_retention_takes_a_batch_with_its_items(api: Api) -> None:
    org = await api.org("free")  # 14 days of retention
    _, suite = await api.gated_suite(org)
    old = await _batch(api, org, suite=suite["slug"], items=_items(FIFTY[:3]))
    kept = await _batch(api, org, suite=suite["slug"], items=_items(FIFTY[:2]))
    async with unit_of_work(api.runtime.sessions) as session:
        when = utcnow() - timedelta(days=30)
        await session.execute(update(Batch).where(Batch.id == old["id"]).values(created_at=when))
        await session.execute(update(Run).where(Run.batch_id == old["id"]).values(created_at=when))
    async with unit_of_work(api.runtime.sessions) as session:
        await billing.sweep_retention(session, None)
    assert_error(await api.call("GET", f"/v1/batches/{old['id']}", org), 404, "NOT_FOUND")
    listed = await api.ok("GET", f"/v1/suites/{suite['id']}/runs", org)
    assert listed["pagination"]["total"] == 2
    assert (await api.ok("GET", f"/v1/batches/{kept['id']}", org))["data"]["items"]["total"] == 2


async def test_a_batch_whose_items_cannot_be_stored_ends_in_error(
    api: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    org = await api.org()
    _, suite = await api.gated_suite(org)
    real = api.runtime.run_writer.write
    calls = 0

    async def failing(values: dict[str, Any]) -> None:
        nonlocal calls
        calls += 1
        if calls > 2:  # the disk fills up after two items
            raise OSError("no space left on device")
        await real(values)

    monkeypatch.setattr(api.runtime.run_writer, "write", failing)
    response = await api.call(
        "POST", "/v1/batches", org, json={"suite": suite["slug"], "items": _items(FIFTY[:5])}
    )
    assert response.status_code == 503 and "no space" not in response.text
    assert "ended in error" in response.json()["error"]["message"]
    monkeypatch.undo()
    listed = await api.ok("GET", f"/v1/suites/{suite['id']}/batches", org)
    (batch,) = listed["data"]
    assert batch["status"] == "error" and batch["cases"] is None
    assert batch["items"]["total"] == 5 and batch["items"]["done"] == 2


async def test_a_batch_left_without_its_items_is_not_running_for_ever(api: Api) -> None:
    """The process stopped while scoring a batch in the request: long after, it is error."""
    org = await api.org()
    _, suite = await api.gated_suite(org)
    batch = await _batch(api, org, suite=suite["slug"], items=_items(FIFTY[:2]))
    async with unit_of_work(api.runtime.sessions) as session:
        await session.execute(delete(Run).where(Run.batch_id == batch["id"]))
        stale = {"status": "running", "result": None, "completed_at": None}
        await session.execute(update(Batch).where(Batch.id == batch["id"]).values(**stale))
    got = (await api.ok("GET", f"/v1/batches/{batch['id']}", org))["data"]
    assert got["status"] == "running"  # it may still be scoring: not yet given up on
    async with unit_of_work(api.runtime.sessions) as session:
        old = utcnow() - timedelta(hours=3)
        await session.execute(update(Batch).where(Batch.id == batch["id"]).values(created_at=old))
    got = (await api.ok("GET", f"/v1/batches/{batch['id']}", org))["data"]
    assert got["status"] == "error" and got["items"]["done"] == 0
