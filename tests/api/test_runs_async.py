"""Async runs (SPEC §5.7): accepted with 202, scored by the worker, resumed after a
restart, completed and billed exactly once."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import update

from launchgate.app import create_app
from launchgate.db import unit_of_work
from launchgate.models import Run
from launchgate.runs import engine, execution
from launchgate.runs.tasks import execute_run
from launchgate.runtime import WorkerRuntime
from tests.conftest import make_settings
from tests.factories import Api, Org

FINAL = ("cleared", "aborted", "error")


async def _poll(api: Api, org: Org, run_id: str) -> dict[str, Any]:
    """GET the run until it is final; fail after about 10 s."""
    for _ in range(400):
        run: dict[str, Any] = (await api.ok("GET", f"/v1/runs/{run_id}", org))["data"]
        if run["status"] in FINAL:
            return run
        assert run["status"] in ("pending", "running")
        await asyncio.sleep(0.025)
    pytest.fail(f"run {run_id} did not finish: last status {run['status']}")


def _comparable(result: dict[str, Any]) -> dict[str, Any]:
    """A run result without its id and timings."""

    def case(entry: dict[str, Any]) -> dict[str, Any]:
        return {k: v for k, v in entry.items() if k != "duration_ms"}

    kept = {
        k: v
        for k, v in result.items()
        if k
        in (
            "status",
            "passed",
            "total_cases",
            "passed_cases",
            "failed_cases",
            "error_cases",
            "pass_rate",
        )
    }
    return {
        **kept,
        "scores": [case(s) for s in result["scores"]],
        "failures": [case(s) for s in result["failures"]],
    }


async def _usage(api: Api, org: Org) -> int:
    usage = await api.ok("GET", "/v1/billing/usage", org)
    return int(usage["current_usage"])


class _Held:
    """Stands in for ``Worker.enqueue``: records jobs instead of running them."""

    def __init__(self) -> None:
        self.jobs: list[tuple[str, dict[str, Any]]] = []

    async def __call__(self, name: str, **payload: Any) -> None:
        self.jobs.append((name, payload))


@asynccontextmanager
async def _fresh_app(database_url: str, tmp_path: Path) -> AsyncIterator[tuple[Api, FastAPI]]:
    """A second app on the same database, with its own lifespan (and startup resume)."""
    app = create_app(make_settings(database_url, tmp_path))
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as c:
            yield Api(c, app.state.runtime), app


async def _held_run(
    api: Api, org: Org, suite: str, output: str, monkeypatch: pytest.MonkeyPatch
) -> tuple[str, _Held]:
    """An async run accepted while the worker holds its job back: it stays pending."""
    held = _Held()
    assert api.runtime.queue is not None
    with monkeypatch.context() as patch:
        patch.setattr(api.runtime.queue, "enqueue", held)
        accepted = await api.run(org, suite, output, status=202, **{"async": True})
    return accepted["id"], held


def _execute_in_task(api: Api, run_id: str) -> asyncio.Task[dict[str, Any] | None]:
    """The worker's job for ``run_id``, running as a task."""
    return asyncio.create_task(execute_run(api.jobs, run_id))


# --- accepted, polled, finished ---------------------------------------------------------


async def test_async_run_is_accepted_then_finishes_like_a_sync_run(api: Api) -> None:
    org = await api.org()
    _, suite = await api.gated_suite(org, pass_threshold=0.5)
    accepted = await api.run(
        org,
        suite["slug"],
        "hello there",
        status=202,
        input={"q": "x"},
        trigger="sdk",
        **{"async": True},
    )
    assert set(accepted) == {"id", "status", "message"}
    assert accepted["status"] == "pending" and accepted["id"].startswith("run_")
    assert accepted["id"] in accepted["message"]
    done = await _poll(api, org, accepted["id"])
    sync = await api.run(org, suite["slug"], "hello there", input={"q": "x"}, trigger="sdk")
    assert _comparable(done) == _comparable(sync)
    assert done["status"] == "cleared" and done["pass_rate"] == 0.5
    assert (done["input"], done["trigger"], done["output"]) == ({"q": "x"}, "sdk", "hello there")
    assert done["started_at"] is not None and done["completed_at"] is not None
    assert done["created_at"] <= done["started_at"] <= done["completed_at"]
    assert done["duration_ms"] is not None


async def test_async_runs_of_each_outcome(api: Api) -> None:
    org = await api.org()
    _, suite = await api.gated_suite(org)
    for output, status in (("hello world", "cleared"), ("nothing", "aborted")):
        accepted = await api.run(org, suite["slug"], output, status=202, **{"async": True})
        done = await _poll(api, org, accepted["id"])
        assert done["status"] == status and done["passed"] is (status == "cleared")


async def test_async_run_errors_are_answered_before_queueing(api: Api) -> None:
    org = await api.org()
    unknown = await api.call(
        "POST", "/v1/run", org, json={"suite": "nope", "output": "x", "async": True}
    )
    assert unknown.status_code == 404
    project = await api.project(org)
    empty = await api.suite(org, project["slug"])
    response = await api.call(
        "POST", "/v1/run", org, json={"suite": empty["slug"], "output": "x", "async": True}
    )
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "VALIDATION_ERROR"


async def test_a_pending_run_is_scored_from_its_snapshot(
    api: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    org = await api.org()
    _, suite = await api.gated_suite(org, values=("hello",))
    run_id, held = await _held_run(api, org, suite["slug"], "hello", monkeypatch)
    assert held.jobs == [("run.execute", {"run_id": run_id})]
    pending = (await api.ok("GET", f"/v1/runs/{run_id}", org))["data"]
    assert pending["status"] == "pending" and pending["scores"] == []
    assert pending["pass_rate"] is None and pending["completed_at"] is None
    # The case changes before the worker gets to the run: the run keeps what it froze.
    case = (await api.ok("GET", f"/v1/suites/{suite['id']}/cases", org))["data"][0]
    await api.ok(
        "PATCH", f"/v1/scorers/{case['scorer_id']}", org, json={"config": {"values": ["goodbye"]}}
    )
    assert await execution.execute_pending(api.jobs, run_id) is not None
    done = (await api.ok("GET", f"/v1/runs/{run_id}", org))["data"]
    assert done["status"] == "cleared"


async def test_the_worker_shows_the_run_running_while_it_scores(
    api: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    org = await api.org()
    _, suite = await api.gated_suite(org)
    run_id, _ = await _held_run(api, org, suite["slug"], "hello world", monkeypatch)
    release = asyncio.Event()
    real_execute = engine.execute

    async def gated_execute(*args: Any, **kwargs: Any) -> Any:
        await release.wait()
        return await real_execute(*args, **kwargs)

    monkeypatch.setattr(engine, "execute", gated_execute)
    job = _execute_in_task(api, run_id)
    try:
        for _ in range(400):
            run = (await api.ok("GET", f"/v1/runs/{run_id}", org))["data"]
            if run["status"] != "pending":
                break
            await asyncio.sleep(0.025)
        assert run["status"] == "running"
        assert run["started_at"] is not None and run["completed_at"] is None
    finally:
        release.set()
        await asyncio.wait_for(job, 10)
    done = (await api.ok("GET", f"/v1/runs/{run_id}", org))["data"]
    assert done["status"] == "cleared" and done["started_at"] == run["started_at"]


# --- exactly once -----------------------------------------------------------------------


async def _execute(runtime: WorkerRuntime, run_id: str) -> bool:
    return await execution.execute_pending(runtime, run_id) is not None


async def test_execute_pending_twice_completes_and_bills_once(
    api: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    org = await api.org("pro")
    _, suite = await api.gated_suite(org)
    run_id, _ = await _held_run(api, org, suite["slug"], "hello world", monkeypatch)
    assert await _usage(api, org) == 0
    assert await _execute(api.jobs, run_id) is True
    first = (await api.ok("GET", f"/v1/runs/{run_id}", org))["data"]
    assert first["status"] == "cleared" and await _usage(api, org) == 1
    assert await _execute(api.jobs, run_id) is False
    assert (await api.ok("GET", f"/v1/runs/{run_id}", org))["data"] == first
    assert await _usage(api, org) == 1


async def test_an_unknown_run_id_is_ignored_by_the_worker(api: Api) -> None:
    assert await _execute(api.jobs, "run_" + "0" * 24) is False


async def test_concurrent_deliveries_complete_and_bill_once(
    api: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    org = await api.org("pro")
    _, suite = await api.gated_suite(org)
    run_id, _ = await _held_run(api, org, suite["slug"], "hello world", monkeypatch)
    outcomes = await asyncio.gather(
        *(_execute(api.jobs, run_id) for _ in range(3)), return_exceptions=True
    )
    assert sorted(outcomes, key=str) == [False, False, True], outcomes
    done = (await api.ok("GET", f"/v1/runs/{run_id}", org))["data"]
    assert done["status"] == "cleared"
    assert await _usage(api, org) == 1


# --- resumed at startup -----------------------------------------------------------------


async def test_an_open_run_resumes_when_the_server_starts_again(
    database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    async with _fresh_app(database_url, tmp_path) as (first, _):
        org = await first.org("pro")
        _, suite = await first.gated_suite(org)
        # The server stops before its worker gets to the run.
        run_id, held = await _held_run(first, org, suite["slug"], "hello world", monkeypatch)
        assert held.jobs and await _usage(first, org) == 0
        pending = (await first.ok("GET", f"/v1/runs/{run_id}", org))["data"]
        assert pending["status"] == "pending"
    async with _fresh_app(database_url, tmp_path) as (second, _):
        done = await _poll(second, org, run_id)
        assert done["status"] == "cleared" and done["passed_cases"] == 2
        assert await _usage(second, org) == 1
    async with _fresh_app(database_url, tmp_path) as (third, _):
        # Nothing is open any more: a third start leaves the run (and the bill) alone.
        again = (await third.ok("GET", f"/v1/runs/{run_id}", org))["data"]
        assert again == done
        assert await _usage(third, org) == 1


async def test_a_run_left_running_by_a_dead_worker_resumes_and_finishes_once(
    database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    async with _fresh_app(database_url, tmp_path) as (first, _):
        org = await first.org("pro")
        _, suite = await first.gated_suite(org)
        run_id, _ = await _held_run(first, org, suite["slug"], "hello world", monkeypatch)
        # A worker took the run, committed `running`, and died before scoring it.
        async with unit_of_work(first.runtime.sessions) as session:
            assert await execution.start_pending(session, run_id) is True
        running = (await first.ok("GET", f"/v1/runs/{run_id}", org))["data"]
        assert running["status"] == "running"
    async with _fresh_app(database_url, tmp_path) as (second, _):
        done = await _poll(second, org, run_id)
        assert done["status"] == "cleared"
        assert done["started_at"] == running["started_at"]
        assert await _usage(second, org) == 1
        assert await _execute(second.jobs, run_id) is False
        assert await _usage(second, org) == 1


async def test_scoring_holds_no_database_lock(api: Api, monkeypatch: pytest.MonkeyPatch) -> None:
    """While a run is scored (an LLM judge may take seconds) other writers, even to the same
    run row, go ahead: on SQLite one held write lock would stall the whole server."""
    org = await api.org()
    _, suite = await api.gated_suite(org)
    run_id, _ = await _held_run(api, org, suite["slug"], "hello world", monkeypatch)
    writes_done = []
    real_execute = engine.execute

    async def execute_after_a_write(*args: Any, **kwargs: Any) -> Any:
        async with unit_of_work(api.runtime.sessions) as other:
            await other.execute(
                update(Run).where(Run.id == run_id).values(trigger_meta={"touched": True})
            )
        writes_done.append(True)
        return await real_execute(*args, **kwargs)

    monkeypatch.setattr(engine, "execute", execute_after_a_write)
    job = _execute_in_task(api, run_id)
    await asyncio.wait_for(job, 10)  # a held lock would block the write above: a timeout
    assert writes_done == [True]
    done = (await api.ok("GET", f"/v1/runs/{run_id}", org))["data"]
    assert done["status"] == "cleared"
