"""The run hot path's two shortcuts: suite snapshots cached under the organisation's
config version, and the group-commit writer."""

from __future__ import annotations

import asyncio
import uuid
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from launchgate.app import create_app
from launchgate.db import unit_of_work
from launchgate.kit.ids import new_run_id
from launchgate.kit.time import utcnow
from launchgate.models import Organisation, Run
from launchgate.runs.writer import RunWriter
from launchgate.runtime import ApiRuntime
from tests.conftest import make_settings
from tests.factories import Api


async def _version(runtime: ApiRuntime, org_id: uuid.UUID) -> int:
    async with unit_of_work(runtime.sessions) as session:
        value = await session.scalar(
            select(Organisation.config_version).where(Organisation.id == org_id)
        )
    return int(value or 0)


async def test_every_config_write_bumps_the_version(api: Api) -> None:
    org = await api.org()
    seen = [await _version(api.runtime, org.id)]
    project = await api.project(org)
    seen.append(await _version(api.runtime, org.id))
    suite = await api.suite(org, project["slug"])
    seen.append(await _version(api.runtime, org.id))
    scorer = await api.scorer(org, project["slug"])
    seen.append(await _version(api.runtime, org.id))
    case = await api.case(org, suite["id"], scorer["id"])
    seen.append(await _version(api.runtime, org.id))
    await api.ok("PATCH", f"/v1/cases/{case['id']}", org, json={"threshold": 0.9})
    seen.append(await _version(api.runtime, org.id))
    await api.ok("DELETE", f"/v1/cases/{case['id']}", org, 204)
    seen.append(await _version(api.runtime, org.id))
    assert seen == sorted(set(seen)), seen  # strictly increasing
    await api.run(org, suite["slug"], "x", status=400)  # no active case left
    assert await _version(api.runtime, org.id) == seen[-1]  # runs are not config


async def test_an_edit_made_through_another_process_is_seen_on_the_next_run(
    api: Api, database_url: str, tmp_path: Path
) -> None:
    org = await api.org()
    _, suite = await api.gated_suite(org, values=("hello", "world"))
    first = await api.run(org, suite["slug"], "hello")  # the snapshot is now cached here
    assert (first["status"], first["total_cases"]) == ("aborted", 2)
    other = create_app(make_settings(database_url, tmp_path))
    async with other.router.lifespan_context(other):
        transport = httpx.ASGITransport(app=other)
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
            cases = (
                await client.get(f"/v1/suites/{suite['id']}/cases", headers=org.headers)
            ).json()["data"]
            world = next(c for c in cases if c["name"] == "has world")
            response = await client.patch(
                f"/v1/cases/{world['id']}", headers=org.headers, json={"is_active": False}
            )
            assert response.status_code == 200
    second = await api.run(org, suite["slug"], "hello")
    assert (second["status"], second["total_cases"]) == ("cleared", 1)


def _row(org_id: uuid.UUID, suite: dict[str, Any], project: dict[str, Any]) -> dict[str, Any]:
    now = utcnow()
    return {
        "id": new_run_id(),
        "org_id": org_id,
        "project_id": uuid.UUID(project["id"]),
        "suite_id": uuid.UUID(suite["id"]),
        "api_key_id": None,
        "status": "cleared",
        "trigger": "api",
        "trigger_meta": {},
        "output": "x",
        "input": {},
        "snapshot": {"suite": {}, "cases": []},
        "billable": True,
        "total_cases": 1,
        "passed_cases": 1,
        "failed_cases": 0,
        "error_cases": 0,
        "scores": [],
        "pass_rate": 1.0,
        "duration_ms": 0.1,
        "created_at": now,
        "started_at": now,
        "completed_at": now,
    }


async def test_one_bad_row_does_not_fail_the_runs_committed_with_it(api: Api) -> None:
    org = await api.org()
    project, suite = await api.gated_suite(org)
    good = [_row(org.id, suite, project) for _ in range(3)]
    bad = {**_row(org.id, suite, project), "suite_id": uuid.uuid4()}  # no such suite
    writer = RunWriter(api.runtime.settings.resolved_database_url)
    writer.start()
    try:
        results = await asyncio.gather(
            *(writer.write(r) for r in [good[0], bad, *good[1:]]), return_exceptions=True
        )
    finally:
        await writer.stop()
    assert [isinstance(r, Exception) for r in results] == [False, True, False, False]
    async with unit_of_work(api.runtime.sessions) as session:
        stored = set(await session.scalars(select(Run.id).where(Run.org_id == org.id)))
    assert stored == {r["id"] for r in good}
    usage = await api.ok("GET", "/v1/billing/usage", org)
    assert usage["current_usage"] == 3


async def test_a_stopped_writer_refuses_instead_of_hanging(api: Api) -> None:
    writer = RunWriter(api.runtime.settings.resolved_database_url)
    with pytest.raises(RuntimeError):
        await writer.write({})
