"""Scorers compiled once per suite snapshot (runs/cache.py), and dropped with it.

The compiled scorers hang on the snapshot's ``PreparedSuite``: reused by every run while
the organisation's config version stands, rebuilt after any scorer or case edit made by
another server — on PostgreSQL another operating-system process on the same database.
"""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
import textwrap
import uuid
from pathlib import Path
from typing import Any

import httpx
import pytest

from launchgate.app import create_app
from launchgate.runs import cache, engine
from launchgate.runs.cache import PreparedSuite, SnapshotCache, compiled_cases
from launchgate.runs.engine import EngineOptions, execute
from launchgate.scorers.builtin import engines, validate_config
from tests.conftest import make_settings
from tests.factories import Api, Org

REPO = Path(__file__).resolve().parents[2]
OPTIONS = EngineOptions(regex_timeout_s=0.2)

# Run in a child process: its own app (its own caches) on the same database edits, through
# the API, the scorer and the case given on the command line.
EDITOR = textwrap.dedent(
    """
    import asyncio, json, sys
    from pathlib import Path
    import httpx
    from launchgate.app import create_app
    from tests.conftest import make_settings

    async def main(args):
        app = create_app(make_settings(args["database_url"], Path(args["data_dir"])))
        async with app.router.lifespan_context(app):
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
                for method, path, body in args["requests"]:
                    response = await client.request(
                        method, path, headers=args["headers"], json=body
                    )
                    assert response.status_code == 200, response.text

    asyncio.run(main(json.loads(sys.argv[1])))
    """
)


async def _edit_elsewhere(
    org: Org, database_url: str, data_dir: Path, requests: list[tuple[str, str, Any]]
) -> None:
    """Make the edits through another server: another OS process on PostgreSQL (the
    scaled-out mode, where the organisation's version is read on every run); a second app
    in this process on SQLite, whose embedded mode has one process own the database (and
    learn of every commit in it, models/versioning.py), as the snapshot cache's own test
    does (tests/api/test_run_hot_path.py)."""
    if not database_url.startswith("sqlite"):
        await asyncio.to_thread(_edit_in_another_process, org, database_url, data_dir, requests)
        return
    other = create_app(make_settings(database_url, data_dir))
    async with other.router.lifespan_context(other):
        transport = httpx.ASGITransport(app=other)
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
            for method, path, body in requests:
                response = await client.request(method, path, headers=org.headers, json=body)
                assert response.status_code == 200, response.text


def _edit_in_another_process(
    org: Org, database_url: str, data_dir: Path, requests: list[tuple[str, str, Any]]
) -> None:
    args = {
        "database_url": database_url,
        "data_dir": str(data_dir),
        "headers": org.headers,
        "requests": requests,
    }
    done = subprocess.run(
        [sys.executable, "-c", EDITOR, json.dumps(args)],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr[-2000:]


def _prepared(api: Api, org: Org, suite: dict[str, Any]) -> PreparedSuite | None:
    snapshots = api.runtime.snapshots
    entries = [
        prepared
        for (org_id, _project, slug), (_version, prepared) in snapshots._entries.items()
        if org_id == org.id and slug == suite["slug"]
    ]
    return entries[-1] if entries else None


async def test_an_edit_in_another_process_replaces_the_compiled_scorers(
    api: Api, database_url: str, tmp_path: Path
) -> None:
    org = await api.org()
    project = await api.project(org)
    suite = await api.suite(org, project["slug"])
    pattern = await api.scorer(
        org, project["slug"], type="regex", config={"pattern": r"\bhello\b", "flags": "i"}
    )
    await api.case(org, suite["id"], pattern["id"], name="greets")
    shared = await api.scorer(org, project["slug"], config={})  # values from each case
    case = await api.case(org, suite["id"], shared["id"], name="names", expected="world")

    first = await api.run(org, suite["slug"], "Hello world")
    assert (first["status"], first["passed_cases"]) == ("cleared", 2)
    prepared = _prepared(api, org, suite)
    assert prepared is not None
    compiled = prepared.compiled()
    await api.run(org, suite["slug"], "Hello world")
    # Reused, not rebuilt: the same PreparedSuite and the very same compiled scorers.
    assert _prepared(api, org, suite) is prepared
    assert compiled_cases(prepared.snapshot) is compiled

    await _edit_elsewhere(
        org,
        database_url,
        tmp_path,
        [
            ("PATCH", f"/v1/scorers/{pattern['id']}", {"config": {"pattern": "^bye"}}),
            ("PATCH", f"/v1/cases/{case['id']}", {"expected": "moon"}),
        ],
    )

    after = await api.run(org, suite["slug"], "Hello world")
    reasons = {score["case"]: score["reason"] for score in after["scores"]}
    assert after["status"] == "aborted" and after["passed_cases"] == 0, after
    assert reasons == {"greets": "Pattern did not match", "names": 'Missing: "moon"'}
    renewed = _prepared(api, org, suite)
    assert renewed is not None and renewed is not prepared
    assert renewed.compiled() is not compiled
    assert (await api.run(org, suite["slug"], "bye, moon"))["status"] == "cleared"


def _case(kind: str, config: dict[str, Any], expected: Any = None) -> dict[str, Any]:
    return {
        "id": str(uuid.uuid4()),
        "name": kind,
        "input": {},
        "expected": expected,
        "threshold": 0.5,
        "weight": 1.0,
        "position": 0,
        "scorer": {
            "id": str(uuid.uuid4()),
            "name": kind,
            "type": kind,
            "config": validate_config(kind, config),
            "dual_sided": False,
            "precision_threshold": None,
            "recall_threshold": None,
        },
    }


def _snapshot(*cases: dict[str, Any]) -> dict[str, Any]:
    return {"suite": {"id": str(uuid.uuid4()), "pass_threshold": 1.0}, "cases": list(cases)}


def test_compiled_once_per_snapshot_and_dropped_with_it() -> None:
    snapshots = SnapshotCache(size=1)
    key = (uuid.uuid4(), None, "suite")
    snapshot = _snapshot(_case("contains", {"values": ["a"]}))
    snapshots.put(key, 1, PreparedSuite(uuid.uuid4(), uuid.uuid4(), snapshot))
    compiled = compiled_cases(snapshot)
    assert compiled_cases(snapshot) is compiled
    # A snapshot that no PreparedSuite holds (read back from a stored run): per call.
    loose = _snapshot(_case("contains", {"values": ["a"]}))
    assert compiled_cases(loose) is not compiled_cases(loose)
    # The version moves on: the old PreparedSuite, and its compiled scorers, are gone.
    snapshots.put(key, 2, PreparedSuite(uuid.uuid4(), uuid.uuid4(), _snapshot()))
    assert id(snapshot) not in cache._by_snapshot
    assert compiled_cases(snapshot) is not compiled


async def test_a_linear_regex_is_searched_on_the_event_loop(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # The engine loaded (a process's first regex case loads it in a thread: engines.py).
    engines.load(["regex"])
    hops: list[Any] = []
    real = asyncio.to_thread

    async def counted(*args: Any, **kwargs: Any) -> Any:
        hops.append(args[0])
        return await real(*args, **kwargs)

    monkeypatch.setattr(engine.asyncio, "to_thread", counted)
    linear = _case("regex", {"pattern": r"\d+ items?", "flags": "i"})
    snapshot = _snapshot(linear)
    scores, _ = await execute(snapshot, "3 ITEMS", {}, OPTIONS)
    assert scores[0]["reason"] == 'Pattern matched: "3 ITEMS"' and hops == []
    # A lookahead needs backtracking: `regex`, in a thread, under the time limit.
    backtracking = _case("regex", {"pattern": r"(?:a|aa)+(?=!)b", "should_match": False})
    scores, _ = await execute(_snapshot(backtracking), "a" * 40 + "!", {}, OPTIONS)
    assert len(hops) == 1 and scores[0]["status"] == "error"
    assert scores[0]["reason"] == "Regex timed out after 200 ms"
