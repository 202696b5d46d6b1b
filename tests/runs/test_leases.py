"""Run leases (issue 5): a worker holds the run it scores for a lease it renews; a second
delivery while the lease is alive leaves the run alone; once the lease lapses (the worker
died) another worker takes the run over, and the run still completes and bills once.
Against both databases, through the real job function."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select, update

from launchgate.db import unit_of_work
from launchgate.kit.time import utcnow
from launchgate.models import Run
from launchgate.runs import engine, execution
from launchgate.runs.tasks import execute_run, sweep_runs
from tests.api.test_runs_async import _execute_in_task, _Held, _held_run, _usage
from tests.factories import Api, Org


async def _row(api: Api, run_id: str) -> Run:
    async with unit_of_work(api.runtime.sessions) as session:
        run = (await session.execute(select(Run).where(Run.id == run_id))).scalar_one()
    return run


async def _set(api: Api, run_id: str, **values: Any) -> None:
    async with unit_of_work(api.runtime.sessions) as session:
        await session.execute(update(Run).where(Run.id == run_id).values(**values))


async def _pending_run(api: Api, monkeypatch: pytest.MonkeyPatch) -> tuple[Org, str]:
    org = await api.org("pro")
    _, suite = await api.gated_suite(org)
    run_id, _ = await _held_run(api, org, suite["slug"], "hello world", monkeypatch)
    return org, run_id


async def test_a_claimed_run_is_held_until_its_lease_lapses(
    api: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    org, run_id = await _pending_run(api, monkeypatch)
    async with unit_of_work(api.runtime.sessions) as session:
        assert await execution.start_pending(session, run_id, lease_s=60) is True
    first = await _row(api, run_id)
    assert first.status == "running" and first.lease_expires_at is not None
    assert first.lease_expires_at > utcnow() + timedelta(seconds=50)
    # Another delivery while the first worker lives: no claim, no scoring, no bill.
    assert await execute_run(api.jobs, run_id) is None
    assert (await _row(api, run_id)).status == "running"
    assert await _usage(api, org) == 0
    # The first worker died: its lease lapses, and the next delivery takes over.
    await _set(api, run_id, lease_expires_at=utcnow() - timedelta(seconds=1))
    done = await execute_run(api.jobs, run_id)
    assert done is not None and done["status"] == "cleared"
    row = await _row(api, run_id)
    assert row.status == "cleared" and row.lease_expires_at is None
    assert row.started_at == first.started_at  # picked up again, it keeps its first start
    assert await execute_run(api.jobs, run_id) is None  # final: left alone
    assert await _usage(api, org) == 1


async def test_the_worker_renews_its_lease_while_it_scores(
    api: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    _, run_id = await _pending_run(api, monkeypatch)
    monkeypatch.setattr(api.runtime.settings, "run_lease_s", 1.2)
    release = asyncio.Event()
    real_execute = engine.execute

    async def slow_execute(*args: Any, **kwargs: Any) -> Any:
        await release.wait()
        return await real_execute(*args, **kwargs)

    monkeypatch.setattr(engine, "execute", slow_execute)
    job = _execute_in_task(api, run_id)
    try:
        await asyncio.sleep(0.2)
        claimed = (await _row(api, run_id)).lease_expires_at
        assert claimed is not None
        await asyncio.sleep(1.5)  # longer than the lease: without renewal it would lapse
        renewed = (await _row(api, run_id)).lease_expires_at
        assert renewed is not None and renewed > claimed and renewed > utcnow()
        async with unit_of_work(api.runtime.sessions) as session:
            assert run_id not in await execution.stale_runs(session, requeue_pending_after_s=60)
    finally:
        release.set()
        done = await asyncio.wait_for(job, 10)
    assert done is not None and done["status"] == "cleared"


async def test_the_sweep_sends_again_exactly_the_runs_no_worker_holds(
    api: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    org = await api.org("pro")
    _, suite = await api.gated_suite(org)
    ids = [
        (await _held_run(api, org, suite["slug"], "hello world", monkeypatch))[0] for _ in range(5)
    ]
    forgotten, fresh, lapsed, held, final = ids
    old = utcnow() - timedelta(minutes=5)
    await _set(api, forgotten, created_at=old)
    await _set(
        api,
        lapsed,
        status="running",
        started_at=old,
        lease_expires_at=utcnow() - timedelta(seconds=1),
    )
    await _set(
        api,
        held,
        status="running",
        started_at=old,
        lease_expires_at=utcnow() + timedelta(minutes=1),
    )
    await _set(api, final, created_at=old)
    assert await execute_run(api.jobs, final) is not None
    sent = _Held()
    assert api.runtime.queue is not None
    monkeypatch.setattr(api.runtime.queue, "enqueue", sent)
    monkeypatch.setattr(api.runtime.settings, "requeue_pending_after_s", 60.0)
    assert await sweep_runs(api.jobs) == 2
    assert sorted(p["run_id"] for _, p in sent.jobs) == sorted([forgotten, lapsed])
    assert {name for name, _ in sent.jobs} == {"run.execute"}
    assert fresh not in [p["run_id"] for _, p in sent.jobs]
