"""A batch left open by a stopped embedded server resumes when it starts again (issue 14):
its open items go to one ``batch.execute`` job, scored and billed once."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from launchgate.runs.tasks import execute_batch
from tests.api.test_runs_async import _fresh_app, _Held, _usage
from tests.factories import Api


async def test_an_open_batch_resumes_when_the_server_starts_again(
    database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    items = [{"output": "hello world", "key": f"k{i}"} for i in range(6)]
    async with _fresh_app(database_url, tmp_path) as (first, _):
        org = await first.org("pro")
        _, suite = await first.gated_suite(org)
        held = _Held()
        with monkeypatch.context() as patch:
            # The server stops before its worker gets to the batch.
            patch.setattr(first.runtime.queue, "enqueue", held)
            body = {"suite": suite["slug"], "items": items, "async": True}
            batch = (await first.ok("POST", "/v1/batches", org, 202, json=body))["data"]
        assert held.jobs == [("batch.execute", {"batch_id": batch["id"]})]
        assert batch["status"] == "running" and batch["items"]["done"] == 0
    async with _fresh_app(database_url, tmp_path) as (second, _):
        for _ in range(400):
            got = (await second.ok("GET", f"/v1/batches/{batch['id']}", org))["data"]
            if got["status"] != "running":
                break
            await asyncio.sleep(0.025)
        assert got["status"] == "cleared" and got["items"]["cleared"] == 6
        assert await _usage(second, org) == 6


async def test_two_jobs_on_one_batch_score_each_item_once(
    api: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    org = await api.org("pro")
    _, suite = await api.gated_suite(org)
    held = _Held()
    with monkeypatch.context() as patch:
        patch.setattr(api.runtime.queue, "enqueue", held)
        body = {"suite": suite["slug"], "items": [{"output": "hello world"}] * 30, "async": True}
        batch = (await api.ok("POST", "/v1/batches", org, 202, json=body))["data"]
    before = await _usage(api, org)
    claimed = await asyncio.gather(
        execute_batch(api.jobs, batch["id"]), execute_batch(api.jobs, batch["id"])
    )
    assert sum(claimed) == 30  # the claim hands each item to one job
    got = (await api.ok("GET", f"/v1/batches/{batch['id']}", org))["data"]
    assert got["status"] == "cleared" and got["items"]["cleared"] == 30
    assert await _usage(api, org) == before + 30
    assert await execute_batch(api.jobs, batch["id"]) == 0  # nothing left to claim
