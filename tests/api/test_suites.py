"""Suites through the real app: create (strict bodies), get with case counts, list, patch,
delete. Templates and from-template live in ``test_templates_api.py``."""

from __future__ import annotations

import asyncio
import re
from typing import Any

import pytest

from tests.factories import Api, Org, assert_error, unique


def suites_path(project: dict[str, Any]) -> str:
    return f"/v1/projects/{project['slug']}/suites"


async def get_suite(api: Api, org: Org, project: dict[str, Any], slug: str) -> dict[str, Any]:
    data: dict[str, Any] = (await api.ok("GET", f"{suites_path(project)}/{slug}", org))["data"]
    return data


# --- create -------------------------------------------------------------------------------


async def test_create_with_defaults(api: Api) -> None:
    org = await api.org()
    project = await api.project(org)
    body = await api.ok("POST", suites_path(project), org, 201, json={"name": "Checkout Answers"})
    suite = body["data"]
    assert re.fullmatch(r"[0-9a-f-]{36}", suite["id"])
    assert suite["project_id"] == project["id"]
    assert suite["name"] == "Checkout Answers"
    assert suite["slug"] == "checkout-answers"
    assert suite["pass_threshold"] == 1.0
    assert suite["description"] is None
    assert suite["case_count"] == 0 and suite["active_case_count"] == 0


async def test_create_with_every_field(api: Api) -> None:
    org = await api.org()
    project = await api.project(org)
    suite = await api.suite(
        org, project["slug"], name="S", slug="my-suite", pass_threshold=0.75, description="why"
    )
    assert (suite["slug"], suite["pass_threshold"], suite["description"]) == (
        "my-suite",
        0.75,
        "why",
    )
    assert await get_suite(api, org, project, "my-suite") == suite


@pytest.mark.parametrize("threshold", [0, 1, 0.0, 1.0, 0.5])
async def test_threshold_bounds_are_inclusive(api: Api, threshold: float) -> None:
    org = await api.org()
    project = await api.project(org)
    suite = await api.suite(org, project["slug"], pass_threshold=threshold)
    assert suite["pass_threshold"] == threshold


@pytest.mark.parametrize(
    "threshold", [-0.01, 1.01, 2, -1, False, True, "0.5", "1", None, [0.5], {"v": 1}]
)
async def test_bad_threshold_is_400(api: Api, threshold: Any) -> None:
    org = await api.org()
    project = await api.project(org)
    response = await api.call(
        "POST", suites_path(project), org, json={"name": "S", "pass_threshold": threshold}
    )
    error = assert_error(response, 400, "VALIDATION_ERROR")
    assert any("pass_threshold" in d["field"] for d in error["details"])


@pytest.mark.parametrize(
    "body",
    [
        {"name": "S", "unknown": 1},
        {"name": "S", "cases": []},
        {"name": "S", "project_id": "x"},
        {"name": "S", "passThreshold": 0.5},
    ],
)
async def test_unknown_fields_are_400_with_the_envelope(api: Api, body: dict[str, Any]) -> None:
    org = await api.org()
    project = await api.project(org)
    response = await api.call("POST", suites_path(project), org, json=body)
    error = assert_error(response, 400, "VALIDATION_ERROR")
    assert error["message"]
    assert isinstance(error["details"], list)
    extra = next(k for k in body if k != "name")
    assert any(extra in d["field"] for d in error["details"])
    # Nothing was created.
    listing = await api.ok("GET", suites_path(project), org)
    assert listing["pagination"]["total"] == 0


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"name": ""},
        {"name": None},
        {"name": 5},
        {"name": "S", "slug": "Not A Slug"},
        {"name": "S", "description": 3},
    ],
)
async def test_invalid_bodies_are_400(api: Api, body: dict[str, Any]) -> None:
    org = await api.org()
    project = await api.project(org)
    response = await api.call("POST", suites_path(project), org, json=body)
    assert_error(response, 400, "VALIDATION_ERROR")


async def test_body_that_is_not_json_is_400(api: Api) -> None:
    org = await api.org()
    project = await api.project(org)
    response = await api.call(
        "POST",
        suites_path(project),
        org,
        content=b"{not json",
        headers={"Content-Type": "application/json"},
    )
    assert_error(response, 400, "VALIDATION_ERROR")
    response = await api.call("POST", suites_path(project), org, json=["name", "S"])
    assert_error(response, 400, "VALIDATION_ERROR")


async def test_slug_taken_in_the_project_is_409_but_free_in_another(api: Api) -> None:
    org = await api.org()
    first, second = await api.project(org), await api.project(org)
    await api.suite(org, first["slug"], name="Answers")
    response = await api.call("POST", suites_path(first), org, json={"name": "Answers"})
    assert_error(response, 409, "CONFLICT")
    response = await api.call(
        "POST", suites_path(first), org, json={"name": "Other", "slug": "answers"}
    )
    assert_error(response, 409, "CONFLICT")
    other = await api.suite(org, second["slug"], name="Answers")
    assert other["slug"] == "answers"


async def test_create_in_unknown_project_is_404(api: Api) -> None:
    org = await api.org()
    response = await api.call("POST", "/v1/projects/no-such/suites", org, json={"name": "S"})
    assert_error(response, 404, "NOT_FOUND")


# --- get, counts, list --------------------------------------------------------------------


async def test_get_unknown_suite_is_404(api: Api) -> None:
    org = await api.org()
    project = await api.project(org)
    assert_error(await api.call("GET", f"{suites_path(project)}/ghost", org), 404, "NOT_FOUND")


async def test_suite_is_addressed_within_its_project(api: Api) -> None:
    org = await api.org()
    home, elsewhere = await api.project(org), await api.project(org)
    suite = await api.suite(org, home["slug"])
    response = await api.call("GET", f"{suites_path(elsewhere)}/{suite['slug']}", org)
    assert_error(response, 404, "NOT_FOUND")


async def test_case_counts_follow_inactive_and_deleted_cases(api: Api) -> None:
    org = await api.org()
    project = await api.project(org)
    suite = await api.suite(org, project["slug"])
    scorer = await api.scorer(org, project["slug"])
    cases = [await api.case(org, suite["id"], scorer["id"]) for _ in range(4)]

    async def counts() -> tuple[int, int]:
        got = await get_suite(api, org, project, suite["slug"])
        listed = (await api.ok("GET", suites_path(project), org))["data"]
        [row] = [s for s in listed if s["id"] == suite["id"]]
        assert (row["case_count"], row["active_case_count"]) == (
            got["case_count"],
            got["active_case_count"],
        )
        return got["case_count"], got["active_case_count"]

    assert await counts() == (4, 4)
    await api.ok("PATCH", f"/v1/cases/{cases[0]['id']}", org, json={"is_active": False})
    assert await counts() == (4, 3)
    await api.ok("DELETE", f"/v1/cases/{cases[1]['id']}", org, 204)
    assert await counts() == (3, 2)
    await api.ok("DELETE", f"/v1/cases/{cases[0]['id']}", org, 204)  # inactive and deleted
    assert await counts() == (2, 2)
    await api.ok("PATCH", f"/v1/cases/{cases[2]['id']}", org, json={"is_active": False})
    await api.ok("PATCH", f"/v1/cases/{cases[3]['id']}", org, json={"is_active": False})
    assert await counts() == (2, 0)
    await api.ok("PATCH", f"/v1/cases/{cases[3]['id']}", org, json={"is_active": True})
    assert await counts() == (2, 1)


async def test_counts_are_per_suite(api: Api) -> None:
    org = await api.org()
    project = await api.project(org)
    scorer = await api.scorer(org, project["slug"])
    one, two, empty = [await api.suite(org, project["slug"]) for _ in range(3)]
    await api.case(org, one["id"], scorer["id"])
    for _ in range(3):
        await api.case(org, two["id"], scorer["id"], is_active=False)
    listed = {s["id"]: s for s in (await api.ok("GET", suites_path(project), org))["data"]}
    assert (listed[one["id"]]["case_count"], listed[one["id"]]["active_case_count"]) == (1, 1)
    assert (listed[two["id"]]["case_count"], listed[two["id"]]["active_case_count"]) == (3, 0)
    assert (listed[empty["id"]]["case_count"], listed[empty["id"]]["active_case_count"]) == (0, 0)


async def test_list_paginates_in_creation_order(api: Api) -> None:
    org = await api.org()
    project = await api.project(org)
    made = [await api.suite(org, project["slug"], name=f"S{i}") for i in range(3)]
    page1 = await api.ok("GET", suites_path(project), org, params={"pageSize": 2})
    page2 = await api.ok("GET", suites_path(project), org, params={"pageSize": 2, "page": 2})
    assert page1["pagination"] == {"page": 1, "pageSize": 2, "total": 3, "hasMore": True}
    assert page2["pagination"] == {"page": 2, "pageSize": 2, "total": 3, "hasMore": False}
    assert [s["id"] for s in page1["data"] + page2["data"]] == [s["id"] for s in made]
    for params in ({"pageSize": 0}, {"pageSize": 101}, {"page": 0}):
        response = await api.call("GET", suites_path(project), org, params=params)
        assert_error(response, 400, "VALIDATION_ERROR")


async def test_list_only_shows_the_projects_suites(api: Api) -> None:
    org = await api.org()
    mine, other = await api.project(org), await api.project(org)
    suite = await api.suite(org, mine["slug"])
    await api.suite(org, other["slug"])
    listing = await api.ok("GET", suites_path(mine), org)
    assert [s["id"] for s in listing["data"]] == [suite["id"]]
    assert_error(await api.call("GET", "/v1/projects/ghost/suites", org), 404, "NOT_FOUND")


# --- patch --------------------------------------------------------------------------------


async def test_patch_fields(api: Api) -> None:
    org = await api.org()
    project = await api.project(org)
    suite = await api.suite(org, project["slug"], description="d", pass_threshold=0.9)
    path = f"{suites_path(project)}/{suite['slug']}"
    patched = (await api.ok("PATCH", path, org, json={"name": "New name"}))["data"]
    assert patched["name"] == "New name"
    assert (patched["slug"], patched["pass_threshold"], patched["description"]) == (
        suite["slug"],
        0.9,
        "d",
    )
    patched = (await api.ok("PATCH", path, org, json={"pass_threshold": 0}))["data"]
    assert patched["pass_threshold"] == 0.0
    patched = (await api.ok("PATCH", path, org, json={"description": None}))["data"]
    assert patched["description"] is None
    new_slug = unique("renamed")
    patched = (await api.ok("PATCH", path, org, json={"slug": new_slug}))["data"]
    assert patched["slug"] == new_slug and patched["id"] == suite["id"]
    assert_error(await api.call("GET", path, org), 404, "NOT_FOUND")
    fetched = await get_suite(api, org, project, new_slug)
    assert fetched == patched


async def test_patch_keeps_counts_in_the_answer(api: Api) -> None:
    org = await api.org()
    project, suite = await api.gated_suite(org)
    patched = await api.ok(
        "PATCH", f"{suites_path(project)}/{suite['slug']}", org, json={"name": "x"}
    )
    assert (patched["data"]["case_count"], patched["data"]["active_case_count"]) == (2, 2)


async def test_patch_slug_clash_is_409(api: Api) -> None:
    org = await api.org()
    project = await api.project(org)
    first = await api.suite(org, project["slug"])
    second = await api.suite(org, project["slug"])
    response = await api.call(
        "PATCH", f"{suites_path(project)}/{second['slug']}", org, json={"slug": first["slug"]}
    )
    assert_error(response, 409, "CONFLICT")
    same = await api.ok(
        "PATCH", f"{suites_path(project)}/{second['slug']}", org, json={"slug": second["slug"]}
    )
    assert same["data"]["slug"] == second["slug"]


@pytest.mark.parametrize(
    "body",
    [
        {"pass_threshold": 1.5},
        {"pass_threshold": -0.1},
        {"pass_threshold": False},
        {"pass_threshold": "1"},
        {"slug": "Bad"},
        {"name": ""},
        {"project_id": "x"},
    ],
)
async def test_invalid_patch_is_400(api: Api, body: dict[str, Any]) -> None:
    org = await api.org()
    project = await api.project(org)
    suite = await api.suite(org, project["slug"], pass_threshold=0.5)
    path = f"{suites_path(project)}/{suite['slug']}"
    assert_error(await api.call("PATCH", path, org, json=body), 400, "VALIDATION_ERROR")
    assert (await get_suite(api, org, project, suite["slug"]))["pass_threshold"] == 0.5


# --- delete -------------------------------------------------------------------------------


async def test_delete_removes_suite_cases_and_runs(api: Api) -> None:
    org = await api.org()
    project, suite = await api.gated_suite(org)
    cases = (await api.ok("GET", f"/v1/suites/{suite['id']}/cases", org))["data"]
    run = await api.run(org, suite["slug"], "hello world")
    path = f"{suites_path(project)}/{suite['slug']}"

    response = await api.call("DELETE", path, org)
    assert response.status_code == 204 and response.content == b""
    assert_error(await api.call("GET", path, org), 404, "NOT_FOUND")
    assert_error(await api.call("DELETE", path, org), 404, "NOT_FOUND")
    assert_error(await api.call("GET", f"/v1/suites/{suite['id']}/cases", org), 404, "NOT_FOUND")
    assert_error(await api.call("GET", f"/v1/cases/{cases[0]['id']}", org), 404, "NOT_FOUND")
    assert_error(await api.call("GET", f"/v1/runs/{run['id']}", org), 404, "NOT_FOUND")
    # The project and its scorers stay.
    scorers = await api.ok("GET", f"/v1/projects/{project['slug']}/scorers", org)
    assert scorers["pagination"]["total"] == 2
    listing = await api.ok("GET", suites_path(project), org)
    assert listing["pagination"]["total"] == 0
    # The slug is free again.
    again = await api.suite(org, project["slug"], slug=suite["slug"])
    assert again["id"] != suite["id"] and again["case_count"] == 0


async def test_concurrent_creates_of_one_slug_give_one_suite_and_conflicts(api: Api) -> None:
    """The slug check and the insert race; the unique constraint's refusal is a 409, not a 500."""
    org = await api.org()
    project = await api.project(org)
    responses = await asyncio.gather(
        *(api.call("POST", suites_path(project), org, json={"name": "Same name"}) for _ in range(4))
    )
    assert sorted(r.status_code for r in responses) == [201, 409, 409, 409]
    for response in responses:
        if response.status_code == 409:
            assert_error(response, 409, "CONFLICT")
    listing = await api.ok("GET", suites_path(project), org)
    assert [s["slug"] for s in listing["data"]] == ["same-name"]


async def test_concurrent_renames_to_one_slug_give_one_winner(api: Api) -> None:
    org = await api.org()
    project = await api.project(org)
    suites = [await api.suite(org, project["slug"]) for _ in range(3)]
    responses = await asyncio.gather(
        *(
            api.call("PATCH", f"{suites_path(project)}/{s['slug']}", org, json={"slug": "winner"})
            for s in suites
        )
    )
    assert sorted(r.status_code for r in responses) == [200, 409, 409]
    listing = await api.ok("GET", suites_path(project), org)
    assert sorted(s["slug"] for s in listing["data"]).count("winner") == 1
