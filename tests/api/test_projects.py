"""Projects through the real app: create, list (paginated), get, patch, delete (cascading)."""

from __future__ import annotations

import asyncio
import re
from typing import Any

import pytest

from tests.factories import Api, assert_error, unique

ISO_Z = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")


# --- create -------------------------------------------------------------------------------


async def test_create_returns_201_with_the_project(api: Api) -> None:
    org = await api.org()
    slug = unique("proj")
    body = await api.ok(
        "POST",
        "/v1/projects",
        org,
        201,
        json={"name": "Checkout bot", "slug": slug, "description": "The LLM in checkout"},
    )
    project = body["data"]
    assert set(body) == {"data"}
    assert project["name"] == "Checkout bot"
    assert project["slug"] == slug
    assert project["description"] == "The LLM in checkout"
    assert re.fullmatch(r"[0-9a-f-]{36}", project["id"])
    assert ISO_Z.match(project["created_at"]) and ISO_Z.match(project["updated_at"])


@pytest.mark.parametrize(
    ("name", "slug"),
    [
        ("My Cool Project", "my-cool-project"),
        ("  Support -- Bot v2!  ", "support-bot-v2"),
        ("Café Ünïcode", "cafe-unicode"),
        ("!!!", "untitled"),
        ("x" * 100, "x" * 64),
    ],
)
async def test_slug_is_generated_from_the_name(api: Api, name: str, slug: str) -> None:
    org = await api.org()
    project = await api.project(org, name=name)
    assert project["slug"] == slug
    assert project["name"] == name
    assert project["description"] is None
    fetched = await api.ok("GET", f"/v1/projects/{slug}", org)
    assert fetched["data"]["id"] == project["id"]


async def test_taken_slug_is_a_conflict(api: Api) -> None:
    org = await api.org()
    await api.project(org, name="Support Bot")
    explicit = await api.call(
        "POST", "/v1/projects", org, json={"name": "Other", "slug": "support-bot"}
    )
    error = assert_error(explicit, 409, "CONFLICT")
    assert "support-bot" in error["message"]
    generated = await api.call("POST", "/v1/projects", org, json={"name": "Support  bot"})
    assert_error(generated, 409, "CONFLICT")


async def test_same_slug_in_two_organisations_is_fine(api: Api) -> None:
    a, b = await api.org(), await api.org()
    slug = unique("shared")
    pa = await api.project(a, slug=slug)
    pb = await api.project(b, slug=slug)
    assert pa["id"] != pb["id"]


@pytest.mark.parametrize(
    "slug",
    [
        "Has-Caps",
        "has space",
        "-leading",
        "trailing-",
        "double--dash",
        "under_score",
        "",
        "a" * 65,
        "ünï",
        "a/b",
    ],
)
async def test_slug_pattern_is_enforced(api: Api, slug: str) -> None:
    org = await api.org()
    response = await api.call("POST", "/v1/projects", org, json={"name": "P", "slug": slug})
    assert_error(response, 400, "VALIDATION_ERROR")


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"name": ""},
        {"name": "x" * 201},
        {"name": 42},
        {"name": "ok", "colour": "red"},
        {"name": "ok", "slug": 7},
        {"name": "ok", "description": ["not", "text"]},
    ],
)
async def test_invalid_create_bodies_are_400(api: Api, body: dict[str, Any]) -> None:
    org = await api.org()
    response = await api.call("POST", "/v1/projects", org, json=body)
    error = assert_error(response, 400, "VALIDATION_ERROR")
    assert isinstance(error["details"], list) and error["details"]


async def test_unknown_field_names_the_field(api: Api) -> None:
    org = await api.org()
    response = await api.call("POST", "/v1/projects", org, json={"name": "ok", "colour": "red"})
    error = assert_error(response, 400, "VALIDATION_ERROR")
    assert any("colour" in d["field"] for d in error["details"])


async def test_requires_authentication(api: Api) -> None:
    response = await api.call("GET", "/v1/projects", None)
    assert_error(response, 401, "UNAUTHORIZED")
    response = await api.call("POST", "/v1/projects", None, json={"name": "x"})
    assert_error(response, 401, "UNAUTHORIZED")


# --- list ---------------------------------------------------------------------------------


async def test_list_paginates(api: Api) -> None:
    org = await api.org()
    created = [await api.project(org, name=f"P{i}", slug=f"p-{i}") for i in range(5)]

    first = await api.ok("GET", "/v1/projects", org, params={"pageSize": 2})
    assert first["pagination"] == {"page": 1, "pageSize": 2, "total": 5, "hasMore": True}
    second = await api.ok("GET", "/v1/projects", org, params={"page": 2, "pageSize": 2})
    assert second["pagination"] == {"page": 2, "pageSize": 2, "total": 5, "hasMore": True}
    third = await api.ok("GET", "/v1/projects", org, params={"page": 3, "pageSize": 2})
    assert third["pagination"] == {"page": 3, "pageSize": 2, "total": 5, "hasMore": False}
    beyond = await api.ok("GET", "/v1/projects", org, params={"page": 4, "pageSize": 2})
    assert beyond["data"] == []
    assert beyond["pagination"]["hasMore"] is False

    seen = [p["id"] for page in (first, second, third) for p in page["data"]]
    assert seen == [p["id"] for p in created]


async def test_list_defaults_and_isolation(api: Api) -> None:
    org, other = await api.org(), await api.org()
    mine = await api.project(org)
    await api.project(other)
    listing = await api.ok("GET", "/v1/projects", org)
    assert listing["pagination"] == {"page": 1, "pageSize": 20, "total": 1, "hasMore": False}
    assert [p["id"] for p in listing["data"]] == [mine["id"]]
    assert listing["data"][0] == mine | {"updated_at": listing["data"][0]["updated_at"]}


async def test_list_of_a_new_org_is_empty(api: Api) -> None:
    org = await api.org()
    listing = await api.ok("GET", "/v1/projects", org)
    assert listing == {
        "data": [],
        "pagination": {"page": 1, "pageSize": 20, "total": 0, "hasMore": False},
    }


@pytest.mark.parametrize(
    "params",
    [
        {"pageSize": 0},
        {"pageSize": 101},
        {"page": 0},
        {"page": -1},
        {"page": "two"},
        {"pageSize": "x"},
    ],
)
async def test_bad_paging_is_400(api: Api, params: dict[str, Any]) -> None:
    org = await api.org()
    response = await api.call("GET", "/v1/projects", org, params=params)
    assert_error(response, 400, "VALIDATION_ERROR")


@pytest.mark.parametrize("size", [1, 100])
async def test_page_size_bounds_are_accepted(api: Api, size: int) -> None:
    org = await api.org()
    await api.project(org)
    listing = await api.ok("GET", "/v1/projects", org, params={"pageSize": size})
    assert listing["pagination"]["pageSize"] == size


# --- get / patch --------------------------------------------------------------------------


async def test_get_unknown_is_404(api: Api) -> None:
    org = await api.org()
    response = await api.call("GET", "/v1/projects/nope-nope", org)
    assert_error(response, 404, "NOT_FOUND")


async def test_patch_name_and_description(api: Api) -> None:
    org = await api.org()
    project = await api.project(org, description="first")
    slug = project["slug"]
    patched = (await api.ok("PATCH", f"/v1/projects/{slug}", org, json={"name": "Renamed"}))["data"]
    assert patched["name"] == "Renamed"
    assert patched["slug"] == slug  # renaming does not re-slug
    assert patched["description"] == "first"
    assert patched["id"] == project["id"]
    assert patched["created_at"] == project["created_at"]
    assert patched["updated_at"] >= project["updated_at"]  # ISO-8601 Z sorts as text

    patched = (await api.ok("PATCH", f"/v1/projects/{slug}", org, json={"description": "second"}))[
        "data"
    ]
    assert patched["description"] == "second" and patched["name"] == "Renamed"

    cleared = (await api.ok("PATCH", f"/v1/projects/{slug}", org, json={"description": None}))[
        "data"
    ]
    assert cleared["description"] is None
    fetched = (await api.ok("GET", f"/v1/projects/{slug}", org))["data"]
    assert fetched["description"] is None and fetched["name"] == "Renamed"


async def test_empty_patch_changes_nothing(api: Api) -> None:
    org = await api.org()
    project = await api.project(org, description="keep")
    patched = (await api.ok("PATCH", f"/v1/projects/{project['slug']}", org, json={}))["data"]
    assert {k: patched[k] for k in ("name", "slug", "description")} == {
        k: project[k] for k in ("name", "slug", "description")
    }


async def test_patch_slug_moves_the_project(api: Api) -> None:
    org = await api.org()
    project = await api.project(org)
    new_slug = unique("moved")
    patched = (
        await api.ok("PATCH", f"/v1/projects/{project['slug']}", org, json={"slug": new_slug})
    )["data"]
    assert patched["slug"] == new_slug
    assert_error(await api.call("GET", f"/v1/projects/{project['slug']}", org), 404, "NOT_FOUND")
    assert (await api.ok("GET", f"/v1/projects/{new_slug}", org))["data"]["id"] == project["id"]
    # Patching to its own slug is not a clash.
    same = await api.ok("PATCH", f"/v1/projects/{new_slug}", org, json={"slug": new_slug})
    assert same["data"]["slug"] == new_slug


async def test_patch_slug_clash_is_409(api: Api) -> None:
    org = await api.org()
    first = await api.project(org)
    second = await api.project(org)
    response = await api.call(
        "PATCH", f"/v1/projects/{second['slug']}", org, json={"slug": first["slug"]}
    )
    assert_error(response, 409, "CONFLICT")
    unchanged = (await api.ok("GET", f"/v1/projects/{second['slug']}", org))["data"]
    assert unchanged["id"] == second["id"]


@pytest.mark.parametrize(
    "body",
    [{"slug": "Bad Slug"}, {"name": ""}, {"owner": "me"}, {"name": 1}, {"id": "x"}],
)
async def test_invalid_patch_is_400(api: Api, body: dict[str, Any]) -> None:
    org = await api.org()
    project = await api.project(org)
    response = await api.call("PATCH", f"/v1/projects/{project['slug']}", org, json=body)
    assert_error(response, 400, "VALIDATION_ERROR")


async def test_patch_unknown_is_404(api: Api) -> None:
    org = await api.org()
    response = await api.call("PATCH", "/v1/projects/ghost", org, json={"name": "x"})
    assert_error(response, 404, "NOT_FOUND")


# --- delete -------------------------------------------------------------------------------


async def test_delete_then_404(api: Api) -> None:
    org = await api.org()
    project = await api.project(org)
    response = await api.call("DELETE", f"/v1/projects/{project['slug']}", org)
    assert response.status_code == 204 and response.content == b""
    assert_error(await api.call("GET", f"/v1/projects/{project['slug']}", org), 404, "NOT_FOUND")
    again = await api.call("DELETE", f"/v1/projects/{project['slug']}", org)
    assert_error(again, 404, "NOT_FOUND")
    listing = await api.ok("GET", "/v1/projects", org)
    assert listing["pagination"]["total"] == 0


async def test_delete_cascades_to_suites_scorers_cases_and_runs(api: Api) -> None:
    org = await api.org()
    project, suite = await api.gated_suite(org)
    slug = project["slug"]
    cases = (await api.ok("GET", f"/v1/suites/{suite['id']}/cases", org))["data"]
    scorer_id = cases[0]["scorer_id"]
    run = await api.run(org, suite["slug"], "hello world")

    assert (await api.call("DELETE", f"/v1/projects/{slug}", org)).status_code == 204

    for path in (
        f"/v1/projects/{slug}/suites",
        f"/v1/projects/{slug}/suites/{suite['slug']}",
        f"/v1/projects/{slug}/scorers",
        f"/v1/suites/{suite['id']}/cases",
        f"/v1/cases/{cases[0]['id']}",
        f"/v1/scorers/{scorer_id}",
        f"/v1/runs/{run['id']}",
        f"/v1/suites/{suite['id']}/runs",
    ):
        assert_error(await api.call("GET", path, org), 404, "NOT_FOUND")
    response = await api.call(
        "POST", "/v1/run", org, json={"suite": suite["slug"], "output": "hello world"}
    )
    assert_error(response, 404, "NOT_FOUND")


async def test_recreating_a_deleted_slug_starts_empty(api: Api) -> None:
    org = await api.org()
    project, _ = await api.gated_suite(org)
    slug = project["slug"]
    await api.ok("DELETE", f"/v1/projects/{slug}", org, 204)
    again = await api.project(org, slug=slug)
    assert again["id"] != project["id"]
    suites = await api.ok("GET", f"/v1/projects/{slug}/suites", org)
    scorers = await api.ok("GET", f"/v1/projects/{slug}/scorers", org)
    assert suites["pagination"]["total"] == 0 and scorers["pagination"]["total"] == 0


async def test_deleting_one_project_leaves_the_others(api: Api) -> None:
    org = await api.org()
    doomed, _ = await api.gated_suite(org)
    kept, kept_suite = await api.gated_suite(org)
    await api.ok("DELETE", f"/v1/projects/{doomed['slug']}", org, 204)
    suite = await api.ok("GET", f"/v1/projects/{kept['slug']}/suites/{kept_suite['slug']}", org)
    assert suite["data"]["case_count"] == 2
    run = await api.run(org, kept_suite["slug"], "hello world")
    assert run["status"] == "cleared"


async def test_concurrent_creates_of_one_slug_give_one_project_and_conflicts(api: Api) -> None:
    """The slug check and the insert race; the unique constraint's refusal is a 409, not a 500."""
    org = await api.org()
    slug = unique("race")
    responses = await asyncio.gather(
        *(
            api.call("POST", "/v1/projects", org, json={"name": f"P{i}", "slug": slug})
            for i in range(4)
        )
    )
    assert sorted(r.status_code for r in responses) == [201, 409, 409, 409]
    for response in responses:
        if response.status_code == 409:
            assert_error(response, 409, "CONFLICT")
    listing = await api.ok("GET", "/v1/projects", org)
    assert [p["slug"] for p in listing["data"]] == [slug]
