"""Scorers through the real app: the five types with normalised configs, config validation
at creation and on PATCH, names unique per project, soft delete guarded by active cases."""

from __future__ import annotations

import re
import uuid
from typing import Any

import httpx
import pytest

from tests.factories import Api, Org, assert_error, unique

JUDGE_DEFAULTS = {"temperature": 0.0, "samples": 1}


def scorers_path(project: dict[str, Any]) -> str:
    return f"/v1/projects/{project['slug']}/scorers"


async def create(api: Api, org: Org, project: dict[str, Any], **body: Any) -> httpx.Response:
    body.setdefault("name", unique("scorer"))
    return await api.call("POST", scorers_path(project), org, json=body)


async def listed(api: Api, org: Org, project: dict[str, Any]) -> list[dict[str, Any]]:
    body = await api.ok("GET", scorers_path(project), org, params={"pageSize": 100})
    items: list[dict[str, Any]] = body["data"]
    return items


# --- create: the five types ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("type_", "config", "normalised"),
    [
        ("exact_match", {}, {"case_sensitive": True, "strip": True}),
        ("exact_match", {"case_sensitive": False}, {"case_sensitive": False, "strip": True}),
        (
            "contains",
            {"values": ["a", "b"]},
            {"values": ["a", "b"], "mode": "all", "case_sensitive": True, "should_contain": True},
        ),
        (
            "contains",
            {"mode": "any", "should_contain": False},
            {"mode": "any", "case_sensitive": True, "should_contain": False},
        ),
        ("regex", {"pattern": r"^\d+$"}, {"pattern": r"^\d+$", "flags": "", "should_match": True}),
        (
            "regex",
            {"pattern": "hello", "flags": "imsug", "should_match": False},
            {"pattern": "hello", "flags": "imsug", "should_match": False},
        ),
        (
            "json_schema",
            {"schema": {"type": "object", "required": ["a"]}},
            {"schema": {"type": "object", "required": ["a"]}},
        ),
        (
            "json_schema",
            {"schema": {"$schema": "http://json-schema.org/draft-07/schema#", "type": "array"}},
            {"schema": {"$schema": "http://json-schema.org/draft-07/schema#", "type": "array"}},
        ),
        (
            "llm_judge",
            {"rubric": "Is it polite?", "_provider": "openai"},
            {"rubric": "Is it polite?", "_provider": "openai", **JUDGE_DEFAULTS},
        ),
        (
            "llm_judge",
            {"rubric": "Is it polite?", "provider": "anthropic"},
            {"rubric": "Is it polite?", "_provider": "anthropic", **JUDGE_DEFAULTS},
        ),
        (
            "llm_judge",
            {
                "rubric": "r",
                "provider": "google",
                "_provider": "google",
                "model": "m",
                "temperature": 0.5,
                "samples": 3,
                "max_tokens": 200,
            },
            {
                "rubric": "r",
                "_provider": "google",
                "model": "m",
                "temperature": 0.5,
                "samples": 3,
                "max_tokens": 200,
            },
        ),
        (
            "llm_judge",
            {"rubric": "r", "_provider": "azure_openai"},
            {"rubric": "r", "_provider": "azure_openai", **JUDGE_DEFAULTS},
        ),
    ],
)
async def test_create_each_type_returns_the_normalised_config(
    api: Api, type_: str, config: dict[str, Any], normalised: dict[str, Any]
) -> None:
    org = await api.org()
    project = await api.project(org)
    response = await create(api, org, project, name="My scorer", type=type_, config=config)
    assert response.status_code == 201, response.text
    scorer = response.json()["data"]
    assert re.fullmatch(r"[0-9a-f-]{36}", scorer["id"])
    assert scorer["project_id"] == project["id"]
    assert (scorer["name"], scorer["type"]) == ("My scorer", type_)
    assert scorer["config"] == normalised
    assert scorer["dual_sided"] is False
    assert scorer["precision_threshold"] is None and scorer["recall_threshold"] is None
    assert (await api.ok("GET", f"/v1/scorers/{scorer['id']}", org))["data"] == scorer


async def test_normalised_config_validates_again(api: Api) -> None:
    """What the API returns can be sent back unchanged."""
    org = await api.org()
    project = await api.project(org)
    configs: list[tuple[str, dict[str, Any]]] = [
        ("contains", {"values": ["x"]}),
        ("llm_judge", {"rubric": "r", "provider": "openai"}),
        ("regex", {"pattern": "a"}),
    ]
    for type_, config in configs:
        first = await api.scorer(org, project["slug"], type=type_, config=config)
        again = await api.scorer(org, project["slug"], type=type_, config=first["config"])
        assert again["config"] == first["config"]
        patched = await api.ok(
            "PATCH", f"/v1/scorers/{first['id']}", org, json={"config": first["config"]}
        )
        assert patched["data"]["config"] == first["config"]


async def test_dual_sided_and_thresholds_are_stored(api: Api) -> None:
    org = await api.org()
    project = await api.project(org)
    scorer = await api.scorer(
        org,
        project["slug"],
        type="contains",
        config={"values": ["refund"], "forbidden": ["lawsuit"]},
        dual_sided=True,
        precision_threshold=0.8,
        recall_threshold=0.6,
    )
    assert scorer["dual_sided"] is True
    assert (scorer["precision_threshold"], scorer["recall_threshold"]) == (0.8, 0.6)
    assert scorer["config"]["forbidden"] == ["lawsuit"]
    assert scorer["config"]["values"] == ["refund"]
    assert (await api.ok("GET", f"/v1/scorers/{scorer['id']}", org))["data"] == scorer
    # Thresholds may be given without dual-sided scoring too; they are stored as they come.
    plain = await api.scorer(org, project["slug"], precision_threshold=1, recall_threshold=0)
    assert (plain["precision_threshold"], plain["recall_threshold"]) == (1.0, 0.0)


@pytest.mark.parametrize(
    ("type_", "config", "extra"),
    [
        ("regex", {"pattern": "("}, {}),
        ("regex", {"pattern": "a", "flags": "x"}, {}),
        ("regex", {"pattern": "a", "flags": "ix"}, {}),
        ("regex", {}, {}),
        ("regex", {"pattern": 5}, {}),
        ("regex", {"pattern": "a"}, {"dual_sided": True}),
        ("json_schema", {"schema": {"type": "nope"}}, {}),
        ("json_schema", {"schema": {"required": "a"}}, {}),
        ("json_schema", {"schema": {"$schema": "https://example.com/unknown"}}, {}),
        ("json_schema", {}, {}),
        ("json_schema", {"schema": "object"}, {}),
        ("json_schema", {"schema": {}}, {"dual_sided": True}),
        ("contains", {"values": ["a"], "colour": "red"}, {}),
        ("contains", {"values": []}, {}),
        ("contains", {"values": "a"}, {}),
        ("contains", {"values": ["a"], "mode": "some"}, {}),
        ("contains", {"values": ["a"], "forbidden": ["b"]}, {}),
        ("contains", {"values": ["a"], "case_sensitive": "yes"}, {}),
        ("exact_match", {"fuzzy": True}, {}),
        ("exact_match", {}, {"dual_sided": True}),
        ("llm_judge", {"_provider": "openai"}, {}),
        ("llm_judge", {"rubric": "   ", "_provider": "openai"}, {}),
        ("llm_judge", {"rubric": "r", "_provider": "cohere"}, {}),
        ("llm_judge", {"rubric": "r", "provider": "cohere"}, {}),
        ("llm_judge", {"rubric": "r"}, {}),
        ("llm_judge", {"rubric": "r", "provider": "openai", "_provider": "anthropic"}, {}),
        ("llm_judge", {"rubric": "r", "_provider": "openai", "key_id": "not-a-uuid"}, {}),
        ("llm_judge", {"rubric": "r", "_provider": "openai", "samples": 0}, {}),
        ("llm_judge", {"rubric": "r", "_provider": "openai", "extra": 1}, {}),
        ("llm_judge", {"rubric": "r", "_provider": "openai"}, {"dual_sided": True}),
    ],
)
async def test_invalid_config_is_400(
    api: Api, type_: str, config: dict[str, Any], extra: dict[str, Any]
) -> None:
    org = await api.org()
    project = await api.project(org)
    response = await create(api, org, project, type=type_, config=config, **extra)
    error = assert_error(response, 400, "VALIDATION_ERROR")
    assert error["details"]
    assert await listed(api, org, project) == []


@pytest.mark.parametrize(
    "body",
    [
        {"type": "bleu", "config": {}},
        {"config": {}},
        {"type": "exact_match", "config": []},
        {"type": "exact_match", "config": "x"},
        {"type": "exact_match", "config": {}, "dual_sided": "no"},
        {"type": "exact_match", "config": {}, "precision_threshold": 1.5},
        {"type": "exact_match", "config": {}, "recall_threshold": -0.5},
        {"type": "exact_match", "config": {}, "recall_threshold": True},
        {"type": "exact_match", "config": {}, "unknown": 1},
        {"type": "exact_match", "config": {}, "name": ""},
    ],
)
async def test_invalid_bodies_are_400(api: Api, body: dict[str, Any]) -> None:
    org = await api.org()
    project = await api.project(org)
    body.setdefault("name", "n")
    response = await api.call("POST", scorers_path(project), org, json=body)
    assert_error(response, 400, "VALIDATION_ERROR")


async def test_bad_regex_error_names_the_pattern(api: Api) -> None:
    org = await api.org()
    project = await api.project(org)
    response = await create(api, org, project, type="regex", config={"pattern": "(unclosed"})
    error = assert_error(response, 400, "VALIDATION_ERROR")
    assert error["details"][0]["field"] == "config.pattern"


async def test_name_is_unique_per_project(api: Api) -> None:
    org = await api.org()
    project, other = await api.project(org), await api.project(org)
    await api.scorer(org, project["slug"], name="Polite")
    clash = await create(api, org, project, name="Polite", type="exact_match", config={})
    assert_error(clash, 409, "CONFLICT")
    elsewhere = await api.scorer(org, other["slug"], name="Polite")
    assert elsewhere["name"] == "Polite"
    assert len(await listed(api, org, project)) == 1


async def test_name_of_a_deleted_scorer_is_free_again(api: Api) -> None:
    org = await api.org()
    project = await api.project(org)
    first = await api.scorer(org, project["slug"], name="Reused")
    await api.ok("DELETE", f"/v1/scorers/{first['id']}", org, 204)
    second = await api.scorer(org, project["slug"], name="Reused")
    assert second["id"] != first["id"]


async def test_create_in_unknown_project_is_404(api: Api) -> None:
    org = await api.org()
    response = await api.call(
        "POST",
        "/v1/projects/ghost/scorers",
        org,
        json={"name": "n", "type": "exact_match", "config": {}},
    )
    assert_error(response, 404, "NOT_FOUND")
    assert_error(await api.call("GET", "/v1/projects/ghost/scorers", org), 404, "NOT_FOUND")


# --- list / get ---------------------------------------------------------------------------


async def test_list_paginates_per_project(api: Api) -> None:
    org = await api.org()
    project, other = await api.project(org), await api.project(org)
    made = [await api.scorer(org, project["slug"]) for _ in range(3)]
    await api.scorer(org, other["slug"])
    page1 = await api.ok("GET", scorers_path(project), org, params={"pageSize": 2})
    page2 = await api.ok("GET", scorers_path(project), org, params={"pageSize": 2, "page": 2})
    assert page1["pagination"] == {"page": 1, "pageSize": 2, "total": 3, "hasMore": True}
    assert page2["pagination"] == {"page": 2, "pageSize": 2, "total": 3, "hasMore": False}
    assert [s["id"] for s in page1["data"] + page2["data"]] == [s["id"] for s in made]
    for params in ({"pageSize": 0}, {"pageSize": 101}, {"page": 0}):
        response = await api.call("GET", scorers_path(project), org, params=params)
        assert_error(response, 400, "VALIDATION_ERROR")


async def test_get_unknown_is_404(api: Api) -> None:
    org = await api.org()
    assert_error(await api.call("GET", f"/v1/scorers/{uuid.uuid4()}", org), 404, "NOT_FOUND")
    assert_error(await api.call("GET", "/v1/scorers/123", org), 400, "VALIDATION_ERROR")


# --- patch --------------------------------------------------------------------------------


async def test_patch_config_is_revalidated_and_normalised(api: Api) -> None:
    org = await api.org()
    project = await api.project(org)
    scorer = await api.scorer(org, project["slug"], type="regex", config={"pattern": "a"})
    path = f"/v1/scorers/{scorer['id']}"

    patched = await api.ok("PATCH", path, org, json={"config": {"pattern": "b", "flags": "i"}})
    assert patched["data"]["config"] == {"pattern": "b", "flags": "i", "should_match": True}
    assert patched["data"]["type"] == "regex"

    for bad in (
        {"pattern": "("},
        {"pattern": "b", "flags": "x"},
        {"flags": "i"},
        {"pattern": "b", "values": ["a"]},
    ):
        response = await api.call("PATCH", path, org, json={"config": bad})
        assert_error(response, 400, "VALIDATION_ERROR")
    assert (await api.ok("GET", path, org))["data"] == patched["data"]


async def test_patch_judge_config_alias(api: Api) -> None:
    org = await api.org()
    project = await api.project(org)
    judge = await api.scorer(
        org, project["slug"], type="llm_judge", config={"rubric": "r", "_provider": "openai"}
    )
    patched = await api.ok(
        "PATCH",
        f"/v1/scorers/{judge['id']}",
        org,
        json={"config": {"rubric": "new", "provider": "google"}},
    )
    assert patched["data"]["config"] == {"rubric": "new", "_provider": "google", **JUDGE_DEFAULTS}
    response = await api.call(
        "PATCH",
        f"/v1/scorers/{judge['id']}",
        org,
        json={"config": {"rubric": "new", "provider": "mistral"}},
    )
    assert_error(response, 400, "VALIDATION_ERROR")
    response = await api.call(
        "PATCH", f"/v1/scorers/{judge['id']}", org, json={"config": {"provider": "openai"}}
    )
    assert_error(response, 400, "VALIDATION_ERROR")


async def test_patch_name_and_thresholds(api: Api) -> None:
    org = await api.org()
    project = await api.project(org)
    taken = await api.scorer(org, project["slug"], name="Taken")
    scorer = await api.scorer(org, project["slug"], name="Mine", precision_threshold=0.5)
    path = f"/v1/scorers/{scorer['id']}"

    assert_error(await api.call("PATCH", path, org, json={"name": "Taken"}), 409, "CONFLICT")
    same = await api.ok("PATCH", path, org, json={"name": "Mine"})
    assert same["data"]["name"] == "Mine"
    renamed = await api.ok("PATCH", path, org, json={"name": "Renamed"})
    assert renamed["data"]["name"] == "Renamed"
    assert renamed["data"]["config"] == scorer["config"]

    patched = await api.ok(
        "PATCH", path, org, json={"precision_threshold": None, "recall_threshold": 0.7}
    )
    assert (patched["data"]["precision_threshold"], patched["data"]["recall_threshold"]) == (
        None,
        0.7,
    )
    assert (await api.ok("GET", f"/v1/scorers/{taken['id']}", org))["data"] == taken


async def test_patch_dual_sided(api: Api) -> None:
    org = await api.org()
    project = await api.project(org)
    scorer = await api.scorer(org, project["slug"], type="contains", config={"values": ["a"]})
    path = f"/v1/scorers/{scorer['id']}"
    dual = await api.ok(
        "PATCH",
        path,
        org,
        json={
            "dual_sided": True,
            "config": {"values": ["a"], "forbidden": ["b"]},
            "precision_threshold": 0.9,
            "recall_threshold": 0.5,
        },
    )
    assert dual["data"]["dual_sided"] is True
    assert dual["data"]["config"]["forbidden"] == ["b"]
    assert (dual["data"]["precision_threshold"], dual["data"]["recall_threshold"]) == (0.9, 0.5)
    single = await api.ok(
        "PATCH", path, org, json={"dual_sided": False, "config": {"values": ["a"]}}
    )
    assert single["data"]["dual_sided"] is False
    assert "forbidden" not in single["data"]["config"]

    regex = await api.scorer(org, project["slug"], type="regex", config={"pattern": "a"})
    response = await api.call("PATCH", f"/v1/scorers/{regex['id']}", org, json={"dual_sided": True})
    assert_error(response, 400, "VALIDATION_ERROR")
    assert (await api.ok("GET", f"/v1/scorers/{regex['id']}", org))["data"] == regex


@pytest.mark.parametrize(
    "patch",
    [
        {"type": "regex"},
        {"project_id": str(uuid.uuid4())},
        {"unknown": 1},
        {"name": ""},
        {"config": []},
        {"precision_threshold": 2},
        {"dual_sided": "true"},
    ],
)
async def test_invalid_patch_is_400(api: Api, patch: dict[str, Any]) -> None:
    org = await api.org()
    project = await api.project(org)
    scorer = await api.scorer(org, project["slug"])
    response = await api.call("PATCH", f"/v1/scorers/{scorer['id']}", org, json=patch)
    assert_error(response, 400, "VALIDATION_ERROR")
    assert (await api.ok("GET", f"/v1/scorers/{scorer['id']}", org))["data"] == scorer


async def test_patched_config_is_what_runs_use(api: Api) -> None:
    org = await api.org()
    project = await api.project(org)
    suite = await api.suite(org, project["slug"])
    scorer = await api.scorer(org, project["slug"], config={"values": ["hello"]})
    await api.case(org, suite["id"], scorer["id"], name="greets")
    assert (await api.run(org, suite["slug"], "hello"))["status"] == "cleared"
    await api.ok(
        "PATCH", f"/v1/scorers/{scorer['id']}", org, json={"config": {"values": ["goodbye"]}}
    )
    assert (await api.run(org, suite["slug"], "hello"))["status"] == "aborted"


# --- delete -------------------------------------------------------------------------------


async def test_delete_is_soft(api: Api) -> None:
    org = await api.org()
    project = await api.project(org)
    keep = await api.scorer(org, project["slug"])
    doomed = await api.scorer(org, project["slug"])
    response = await api.call("DELETE", f"/v1/scorers/{doomed['id']}", org)
    assert response.status_code == 204 and response.content == b""
    path = f"/v1/scorers/{doomed['id']}"
    assert_error(await api.call("GET", path, org), 404, "NOT_FOUND")
    assert_error(await api.call("PATCH", path, org, json={"name": "x"}), 404, "NOT_FOUND")
    assert_error(await api.call("DELETE", path, org), 404, "NOT_FOUND")
    assert [s["id"] for s in await listed(api, org, project)] == [keep["id"]]
    # A deleted scorer cannot be used by new cases.
    suite = await api.suite(org, project["slug"])
    response = await api.call(
        "POST",
        f"/v1/suites/{suite['id']}/cases",
        org,
        json={"name": "c", "scorer_id": doomed["id"]},
    )
    assert_error(response, 400, "VALIDATION_ERROR")


async def test_scorer_in_use_by_an_active_case_cannot_be_deleted(api: Api) -> None:
    org = await api.org()
    project = await api.project(org)
    suite = await api.suite(org, project["slug"])
    scorer = await api.scorer(org, project["slug"], config={"values": ["hello"]})
    case = await api.case(org, suite["id"], scorer["id"], name="greets")

    response = await api.call("DELETE", f"/v1/scorers/{scorer['id']}", org)
    error = assert_error(response, 409, "CONFLICT")
    assert error["details"] == {"active_cases": 1}
    assert (await api.ok("GET", f"/v1/scorers/{scorer['id']}", org))["data"] == scorer
    run = await api.run(org, suite["slug"], "hello")
    assert run["status"] == "cleared" and run["total_cases"] == 1

    await api.ok("PATCH", f"/v1/cases/{case['id']}", org, json={"is_active": False})
    await api.ok("DELETE", f"/v1/scorers/{scorer['id']}", org, 204)
    assert_error(await api.call("GET", f"/v1/scorers/{scorer['id']}", org), 404, "NOT_FOUND")
    # The inactive case itself is still there.
    assert (await api.ok("GET", f"/v1/cases/{case['id']}", org))["data"]["is_active"] is False


async def test_use_counts_across_suites_and_ignores_deleted_cases(api: Api) -> None:
    org = await api.org()
    project = await api.project(org)
    one = await api.suite(org, project["slug"])
    two = await api.suite(org, project["slug"])
    scorer = await api.scorer(org, project["slug"])
    first = await api.case(org, one["id"], scorer["id"])
    second = await api.case(org, two["id"], scorer["id"])
    await api.case(org, two["id"], scorer["id"], is_active=False)

    error = assert_error(
        await api.call("DELETE", f"/v1/scorers/{scorer['id']}", org), 409, "CONFLICT"
    )
    assert error["details"] == {"active_cases": 2}
    await api.ok("DELETE", f"/v1/cases/{first['id']}", org, 204)
    error = assert_error(
        await api.call("DELETE", f"/v1/scorers/{scorer['id']}", org), 409, "CONFLICT"
    )
    assert error["details"] == {"active_cases": 1}
    await api.ok("DELETE", f"/v1/cases/{second['id']}", org, 204)
    await api.ok("DELETE", f"/v1/scorers/{scorer['id']}", org, 204)


async def test_deleting_an_unused_scorer_leaves_runs_alone(api: Api) -> None:
    org = await api.org()
    project, suite = await api.gated_suite(org)
    spare = await api.scorer(org, project["slug"])
    await api.ok("DELETE", f"/v1/scorers/{spare['id']}", org, 204)
    run = await api.run(org, suite["slug"], "hello world")
    assert run["status"] == "cleared" and run["total_cases"] == 2


async def test_dual_sided_can_be_switched_on_and_off_without_a_new_config(api: Api) -> None:
    org = await api.org()
    project = await api.project(org)
    scorer = await api.scorer(org, project["slug"], config={"values": ["a"]})
    path = f"/v1/scorers/{scorer['id']}"
    on = (await api.ok("PATCH", path, org, json={"dual_sided": True}))["data"]
    assert on["dual_sided"] is True and on["config"]["dual_sided"] is True
    off = (await api.ok("PATCH", path, org, json={"dual_sided": False}))["data"]
    assert off["dual_sided"] is False and "dual_sided" not in off["config"]
