"""Tenant isolation (SPEC §1): another organisation's resource is answered exactly like one
that does not exist — 404 ``NOT_FOUND``, never 403 — and the attempt changes nothing.

Organisation A makes one of everything; organisation B's key calls every endpoint that takes
an id or a slug, pointed at A's objects. Afterwards A re-reads its world and finds it as it
was.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest

from tests.factories import Api, Org


@dataclass
class World:
    """Organisation A's objects."""

    org: Org
    project: str  # slug
    suite: str  # slug
    suite_id: str
    scorer_id: str
    case_id: str
    run_id: str
    api_key_id: str
    api_key: str


async def make_world(api: Api) -> World:
    org = await api.org()
    project = await api.project(org, description="A's project")
    suite = await api.suite(org, project["slug"], pass_threshold=0.5)
    scorer = await api.scorer(org, project["slug"], config={"values": ["hello"]})
    case = await api.case(org, suite["id"], scorer["id"], expected="hello", threshold=1.0)
    run = await api.run(org, suite["slug"], "hello world")
    assert run["status"] == "cleared"
    key = (
        await api.ok("POST", "/v1/api-keys", org, 201, json={"name": "A's CI key", "mode": "live"})
    )["data"]
    return World(
        org,
        project["slug"],
        suite["slug"],
        suite["id"],
        scorer["id"],
        case["id"],
        run["id"],
        key["id"],
        key["key"],
    )


def _without(items: list[dict[str, Any]], *fields: str) -> list[dict[str, Any]]:
    return [{k: v for k, v in item.items() if k not in fields} for item in items]


async def snapshot(api: Api, w: World) -> dict[str, Any]:
    """Everything A can read about its world."""
    reads = {
        "project": f"/v1/projects/{w.project}",
        "projects": "/v1/projects",
        "suite": f"/v1/projects/{w.project}/suites/{w.suite}",
        "suites": f"/v1/projects/{w.project}/suites",
        "scorer": f"/v1/scorers/{w.scorer_id}",
        "scorers": f"/v1/projects/{w.project}/scorers",
        "case": f"/v1/cases/{w.case_id}",
        "cases": f"/v1/suites/{w.suite_id}/cases",
        "run": f"/v1/runs/{w.run_id}",
        "runs": f"/v1/suites/{w.suite_id}/runs",
        "api_keys": "/v1/api-keys",
    }
    state = {name: await api.ok("GET", path, w.org) for name, path in reads.items()}
    # Using a key touches its last_used_at; that is not a change B could make.
    state["api_keys"]["data"] = _without(state["api_keys"]["data"], "last_used_at")
    return state


Request = tuple[str, str, dict[str, Any] | None]

# (name, request made with B's key against A's world)
MATRIX: list[tuple[str, Callable[[World], Request]]] = [
    ("get project", lambda w: ("GET", f"/v1/projects/{w.project}", None)),
    ("patch project", lambda w: ("PATCH", f"/v1/projects/{w.project}", {"name": "owned"})),
    ("delete project", lambda w: ("DELETE", f"/v1/projects/{w.project}", None)),
    ("list suites", lambda w: ("GET", f"/v1/projects/{w.project}/suites", None)),
    ("create suite", lambda w: ("POST", f"/v1/projects/{w.project}/suites", {"name": "owned"})),
    ("get suite", lambda w: ("GET", f"/v1/projects/{w.project}/suites/{w.suite}", None)),
    (
        "patch suite",
        lambda w: ("PATCH", f"/v1/projects/{w.project}/suites/{w.suite}", {"pass_threshold": 0.0}),
    ),
    ("delete suite", lambda w: ("DELETE", f"/v1/projects/{w.project}/suites/{w.suite}", None)),
    (
        "suite from template",
        lambda w: (
            "POST",
            f"/v1/projects/{w.project}/suites/from-template",
            {"template_slug": "classification", "slug": "owned"},
        ),
    ),
    ("list cases", lambda w: ("GET", f"/v1/suites/{w.suite_id}/cases", None)),
    (
        "create case",
        lambda w: (
            "POST",
            f"/v1/suites/{w.suite_id}/cases",
            {"name": "owned", "scorer_id": w.scorer_id},
        ),
    ),
    (
        "reorder cases",
        lambda w: ("POST", f"/v1/suites/{w.suite_id}/cases/reorder", {"case_ids": [w.case_id]}),
    ),
    ("get case", lambda w: ("GET", f"/v1/cases/{w.case_id}", None)),
    (
        "patch case",
        lambda w: ("PATCH", f"/v1/cases/{w.case_id}", {"is_active": False, "expected": None}),
    ),
    ("delete case", lambda w: ("DELETE", f"/v1/cases/{w.case_id}", None)),
    ("list scorers", lambda w: ("GET", f"/v1/projects/{w.project}/scorers", None)),
    (
        "create scorer",
        lambda w: (
            "POST",
            f"/v1/projects/{w.project}/scorers",
            {"name": "owned", "type": "exact_match", "config": {}},
        ),
    ),
    ("get scorer", lambda w: ("GET", f"/v1/scorers/{w.scorer_id}", None)),
    (
        "patch scorer",
        lambda w: ("PATCH", f"/v1/scorers/{w.scorer_id}", {"config": {"values": ["owned"]}}),
    ),
    ("delete scorer", lambda w: ("DELETE", f"/v1/scorers/{w.scorer_id}", None)),
    ("get run", lambda w: ("GET", f"/v1/runs/{w.run_id}", None)),
    ("list suite runs", lambda w: ("GET", f"/v1/suites/{w.suite_id}/runs", None)),
    ("revoke api key", lambda w: ("DELETE", f"/v1/api-keys/{w.api_key_id}", None)),
    ("run A's suite", lambda w: ("POST", "/v1/run", {"suite": w.suite, "output": "hello"})),
    (
        "run A's suite in A's project",
        lambda w: ("POST", "/v1/run", {"suite": w.suite, "output": "hello", "project": w.project}),
    ),
    (
        "run A's suite async",
        lambda w: ("POST", "/v1/run", {"suite": w.suite, "output": "hello", "async": True}),
    ),
]


@pytest.mark.parametrize(
    "request_for", [row for _, row in MATRIX], ids=[name for name, _ in MATRIX]
)
async def test_other_org_gets_404_and_changes_nothing(
    api: Api, request_for: Callable[[World], Request]
) -> None:
    a = await make_world(api)
    b = await api.org()
    before = await snapshot(api, a)

    method, path, body = request_for(a)
    response = await api.call(method, path, b, json=body)

    assert response.status_code == 404, (method, path, response.text)
    error = response.json()["error"]
    assert error["code"] == "NOT_FOUND"
    # The answer names nothing of A's beyond what B itself sent.
    assert a.org.key not in response.text and a.api_key not in response.text
    assert await snapshot(api, a) == before
    # A's second key still works; B's own world is still empty.
    assert (
        await api.call(
            "GET",
            f"/v1/projects/{a.project}",
            None,
            headers={"Authorization": f"Bearer {a.api_key}"},
        )
    ).status_code == 200
    projects = await api.ok("GET", "/v1/projects", b)
    assert projects["data"] == []


async def test_foreign_answer_equals_missing_answer(api: Api) -> None:
    """B cannot tell A's objects from objects that never existed."""
    a = await make_world(api)
    b = await api.org()
    missing = World(
        a.org,
        "no-such-project",
        "no-such-suite",
        "00000000-0000-4000-8000-000000000000",
        "00000000-0000-4000-8000-000000000001",
        "00000000-0000-4000-8000-000000000002",
        "run_" + "0" * 24,
        "00000000-0000-4000-8000-000000000003",
        "",
    )
    for name, request_for in MATRIX:
        method, foreign_path, body = request_for(a)
        _, missing_path, missing_body = request_for(missing)
        foreign = await api.call(method, foreign_path, b, json=body)
        absent = await api.call(method, missing_path, b, json=missing_body)
        assert (foreign.status_code, absent.status_code) == (404, 404), name
        assert foreign.json()["error"]["code"] == absent.json()["error"]["code"], name
        assert foreign.json()["error"]["details"] == absent.json()["error"]["details"], name


async def test_lists_do_not_leak(api: Api) -> None:
    a = await make_world(api)
    b = await api.org()
    b_project = await api.project(b, slug=a.project)  # same slug, other org: a separate project
    assert (await api.ok("GET", f"/v1/projects/{a.project}", b))["data"]["id"] == b_project["id"]
    for path in (
        "/v1/projects",
        f"/v1/projects/{a.project}/suites",
        f"/v1/projects/{a.project}/scorers",
        "/v1/api-keys",
    ):
        listing = await api.ok("GET", path, b)
        text = str(listing)
        for ident in (a.suite_id, a.scorer_id, a.case_id, a.run_id, a.api_key_id):
            assert ident not in text, path
    suites = await api.ok("GET", f"/v1/projects/{a.project}/suites", b)
    assert suites["data"] == []


async def test_other_orgs_scorer_cannot_be_attached(api: Api) -> None:
    a = await make_world(api)
    b = await api.org()
    project = await api.project(b)
    suite = await api.suite(b, project["slug"])
    response = await api.call(
        "POST", f"/v1/suites/{suite['id']}/cases", b, json={"name": "x", "scorer_id": a.scorer_id}
    )
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "VALIDATION_ERROR"
    own = await api.scorer(b, project["slug"])
    case = await api.case(b, suite["id"], own["id"])
    response = await api.call(
        "PATCH", f"/v1/cases/{case['id']}", b, json={"scorer_id": a.scorer_id}
    )
    assert response.status_code == 400
    response = await api.call(
        "POST",
        f"/v1/suites/{suite['id']}/cases/reorder",
        b,
        json={"case_ids": [case["id"], a.case_id]},
    )
    assert response.status_code == 400
    assert (await api.ok("GET", f"/v1/scorers/{a.scorer_id}", a.org))["data"]["id"] == a.scorer_id
