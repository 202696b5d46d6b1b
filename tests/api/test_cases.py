"""Eval cases through the real app: create (defaults, strict bodies, scorer of the suite's
project only), list in ``position`` order, reorder, patch, soft delete."""

from __future__ import annotations

import re
import uuid
from typing import Any

import pytest

from tests.factories import Api, Org, assert_error


async def setup(api: Api) -> tuple[Org, dict[str, Any], dict[str, Any], dict[str, Any]]:
    """A fresh org with a project, a suite and a ``contains "hello"`` scorer."""
    org = await api.org()
    project = await api.project(org)
    suite = await api.suite(org, project["slug"])
    scorer = await api.scorer(org, project["slug"])
    return org, project, suite, scorer


async def listed(api: Api, org: Org, suite_id: str) -> list[dict[str, Any]]:
    body = await api.ok("GET", f"/v1/suites/{suite_id}/cases", org, params={"pageSize": 100})
    items: list[dict[str, Any]] = body["data"]
    return items


async def counts(
    api: Api, org: Org, project: dict[str, Any], suite: dict[str, Any]
) -> tuple[int, int]:
    got = await api.ok("GET", f"/v1/projects/{project['slug']}/suites/{suite['slug']}", org)
    return got["data"]["case_count"], got["data"]["active_case_count"]


# --- create -------------------------------------------------------------------------------


async def test_create_with_defaults(api: Api) -> None:
    org, _, suite, scorer = await setup(api)
    body = await api.ok(
        "POST",
        f"/v1/suites/{suite['id']}/cases",
        org,
        201,
        json={"name": "Says hello", "scorer_id": scorer["id"]},
    )
    case = body["data"]
    assert re.fullmatch(r"[0-9a-f-]{36}", case["id"])
    assert case["suite_id"] == suite["id"] and case["scorer_id"] == scorer["id"]
    assert case["name"] == "Says hello"
    assert case["threshold"] == 0.5 and case["weight"] == 1.0
    assert case["is_active"] is True
    assert case["input"] == {} and case["expected"] is None
    assert case["position"] == 0
    assert (await api.ok("GET", f"/v1/cases/{case['id']}", org))["data"] == case


async def test_create_with_every_field(api: Api) -> None:
    org, _, suite, scorer = await setup(api)
    case = await api.case(
        org,
        suite["id"],
        scorer["id"],
        name="Full",
        input={"question": "hi", "nested": {"a": [1, 2]}},
        expected={"answer": "hello"},
        threshold=1,
        weight=2.5,
        is_active=False,
    )
    assert case["input"] == {"question": "hi", "nested": {"a": [1, 2]}}
    assert case["expected"] == {"answer": "hello"}
    assert (case["threshold"], case["weight"], case["is_active"]) == (1.0, 2.5, False)


@pytest.mark.parametrize(
    "expected", ["text", 3, 2.5, [1, "two"], {"a": None}, True, False, None, ""]
)
async def test_expected_takes_any_json(api: Api, expected: Any) -> None:
    org, _, suite, scorer = await setup(api)
    case = await api.case(org, suite["id"], scorer["id"], expected=expected)
    fetched = (await api.ok("GET", f"/v1/cases/{case['id']}", org))["data"]
    assert fetched["expected"] == expected
    assert type(fetched["expected"]) is type(expected)


async def test_scorer_of_another_project_is_400(api: Api) -> None:
    org, _, suite, _ = await setup(api)
    other_project = await api.project(org)
    foreign = await api.scorer(org, other_project["slug"])
    response = await api.call(
        "POST",
        f"/v1/suites/{suite['id']}/cases",
        org,
        json={"name": "x", "scorer_id": foreign["id"]},
    )
    error = assert_error(response, 400, "VALIDATION_ERROR")
    assert any(d["field"] == "scorer_id" for d in error["details"])
    assert await listed(api, org, suite["id"]) == []


async def test_scorer_of_another_org_unknown_or_deleted_is_400(api: Api) -> None:
    org, project, suite, _ = await setup(api)
    stranger = await api.org()
    their_project = await api.project(stranger)
    theirs = await api.scorer(stranger, their_project["slug"])
    gone = await api.scorer(org, project["slug"])
    await api.ok("DELETE", f"/v1/scorers/{gone['id']}", org, 204)
    for scorer_id in (theirs["id"], str(uuid.uuid4()), gone["id"]):
        response = await api.call(
            "POST",
            f"/v1/suites/{suite['id']}/cases",
            org,
            json={"name": "x", "scorer_id": scorer_id},
        )
        assert_error(response, 400, "VALIDATION_ERROR")
    assert await listed(api, org, suite["id"]) == []


@pytest.mark.parametrize(
    "extra",
    [
        {"weight": 0},
        {"weight": -1},
        {"weight": 0.0},
        {"weight": True},
        {"weight": "1"},
        {"threshold": 1.5},
        {"threshold": -0.1},
        {"threshold": False},
        {"threshold": "0.5"},
        {"threshold": None},
        {"is_active": "yes"},
        {"is_active": 1},
        {"input": []},
        {"input": "text"},
        {"input": None},
        {"name": ""},
        {"name": None},
        {"scorer_id": "not-a-uuid"},
        {"scorer_id": None},
        {"position": 3},
        {"suite_id": "x"},
        {"unknown": 1},
    ],
)
async def test_invalid_bodies_are_400(api: Api, extra: dict[str, Any]) -> None:
    org, _, suite, scorer = await setup(api)
    body = {"name": "case", "scorer_id": scorer["id"], **extra}
    response = await api.call("POST", f"/v1/suites/{suite['id']}/cases", org, json=body)
    error = assert_error(response, 400, "VALIDATION_ERROR")
    assert error["details"]
    assert await listed(api, org, suite["id"]) == []


async def test_missing_scorer_id_is_400(api: Api) -> None:
    org, _, suite, _ = await setup(api)
    response = await api.call("POST", f"/v1/suites/{suite['id']}/cases", org, json={"name": "x"})
    assert_error(response, 400, "VALIDATION_ERROR")


async def test_unknown_suite_is_404(api: Api) -> None:
    org, _, _, scorer = await setup(api)
    path = f"/v1/suites/{uuid.uuid4()}/cases"
    assert_error(await api.call("GET", path, org), 404, "NOT_FOUND")
    response = await api.call("POST", path, org, json={"name": "x", "scorer_id": scorer["id"]})
    assert_error(response, 404, "NOT_FOUND")


async def test_malformed_ids_are_400(api: Api) -> None:
    org = await api.org()
    assert_error(await api.call("GET", "/v1/suites/not-a-uuid/cases", org), 400, "VALIDATION_ERROR")
    assert_error(await api.call("GET", "/v1/cases/not-a-uuid", org), 400, "VALIDATION_ERROR")


# --- list and reorder ---------------------------------------------------------------------


async def test_list_is_in_position_order_and_paginates(api: Api) -> None:
    org, _, suite, scorer = await setup(api)
    made = [await api.case(org, suite["id"], scorer["id"], name=f"c{i}") for i in range(5)]
    assert [c["position"] for c in made] == [0, 1, 2, 3, 4]
    page1 = await api.ok("GET", f"/v1/suites/{suite['id']}/cases", org, params={"pageSize": 3})
    page2 = await api.ok(
        "GET", f"/v1/suites/{suite['id']}/cases", org, params={"pageSize": 3, "page": 2}
    )
    assert page1["pagination"] == {"page": 1, "pageSize": 3, "total": 5, "hasMore": True}
    assert page2["pagination"] == {"page": 2, "pageSize": 3, "total": 5, "hasMore": False}
    assert [c["id"] for c in page1["data"] + page2["data"]] == [c["id"] for c in made]
    for params in ({"pageSize": 0}, {"pageSize": 101}, {"page": 0}):
        response = await api.call("GET", f"/v1/suites/{suite['id']}/cases", org, params=params)
        assert_error(response, 400, "VALIDATION_ERROR")


async def test_list_includes_inactive_cases(api: Api) -> None:
    org, _, suite, scorer = await setup(api)
    active = await api.case(org, suite["id"], scorer["id"])
    inactive = await api.case(org, suite["id"], scorer["id"], is_active=False)
    assert [c["id"] for c in await listed(api, org, suite["id"])] == [active["id"], inactive["id"]]


async def test_reorder(api: Api) -> None:
    org, _, suite, scorer = await setup(api)
    made = [await api.case(org, suite["id"], scorer["id"], name=f"c{i}") for i in range(4)]
    made[2] = (await api.ok("PATCH", f"/v1/cases/{made[2]['id']}", org, json={"is_active": False}))[
        "data"
    ]
    order = [made[i]["id"] for i in (3, 1, 0, 2)]
    body = await api.ok(
        "POST", f"/v1/suites/{suite['id']}/cases/reorder", org, json={"case_ids": order}
    )
    assert [c["id"] for c in body["data"]] == order
    assert [c["position"] for c in body["data"]] == [0, 1, 2, 3]
    after = await listed(api, org, suite["id"])
    assert [c["id"] for c in after] == order
    assert [c["position"] for c in after] == [0, 1, 2, 3]
    # A case created afterwards goes last.
    late = await api.case(org, suite["id"], scorer["id"])
    assert [c["id"] for c in await listed(api, org, suite["id"])] == [*order, late["id"]]


async def test_reorder_of_an_empty_suite(api: Api) -> None:
    org, _, suite, _ = await setup(api)
    body = await api.ok(
        "POST", f"/v1/suites/{suite['id']}/cases/reorder", org, json={"case_ids": []}
    )
    assert body["data"] == []


@pytest.mark.parametrize(
    "problem", ["missing", "duplicate", "foreign", "unknown", "deleted", "extra", "empty"]
)
async def test_reorder_must_name_every_case_once(api: Api, problem: str) -> None:
    org, project, suite, scorer = await setup(api)
    made = [await api.case(org, suite["id"], scorer["id"]) for _ in range(3)]
    ids = [c["id"] for c in made]
    other_suite = await api.suite(org, project["slug"])
    foreign = await api.case(org, other_suite["id"], scorer["id"])
    deleted = await api.case(org, suite["id"], scorer["id"])
    await api.ok("DELETE", f"/v1/cases/{deleted['id']}", org, 204)
    case_ids = {
        "missing": ids[:2],
        "duplicate": [ids[0], ids[1], ids[1]],
        "foreign": [ids[2], ids[1], foreign["id"]],
        "unknown": [ids[2], ids[1], str(uuid.uuid4())],
        "deleted": [*ids, deleted["id"]],
        "extra": [*ids, foreign["id"]],
        "empty": [],
    }[problem]
    response = await api.call(
        "POST", f"/v1/suites/{suite['id']}/cases/reorder", org, json={"case_ids": case_ids}
    )
    assert_error(response, 400, "VALIDATION_ERROR")
    assert [c["id"] for c in await listed(api, org, suite["id"])] == ids
    assert [c["id"] for c in await listed(api, org, other_suite["id"])] == [foreign["id"]]


@pytest.mark.parametrize(
    "body",
    [{}, {"case_ids": "x"}, {"case_ids": ["nope"]}, {"case_ids": [], "extra": 1}, {"ids": []}],
)
async def test_reorder_body_is_validated(api: Api, body: dict[str, Any]) -> None:
    org, _, suite, _ = await setup(api)
    response = await api.call("POST", f"/v1/suites/{suite['id']}/cases/reorder", org, json=body)
    assert_error(response, 400, "VALIDATION_ERROR")


async def test_reorder_unknown_suite_is_404(api: Api) -> None:
    org = await api.org()
    response = await api.call(
        "POST", f"/v1/suites/{uuid.uuid4()}/cases/reorder", org, json={"case_ids": []}
    )
    assert_error(response, 404, "NOT_FOUND")


# --- patch --------------------------------------------------------------------------------


async def test_patch_each_field(api: Api) -> None:
    org, project, suite, scorer = await setup(api)
    other_scorer = await api.scorer(org, project["slug"], type="exact_match", config={})
    case = await api.case(org, suite["id"], scorer["id"], input={"a": 1}, expected="hello")
    path = f"/v1/cases/{case['id']}"
    steps: list[tuple[dict[str, Any], dict[str, Any]]] = [
        ({"name": "renamed"}, {"name": "renamed"}),
        ({"input": {"b": [2]}}, {"input": {"b": [2]}}),
        ({"input": {}}, {"input": {}}),
        ({"expected": {"k": "v"}}, {"expected": {"k": "v"}}),
        ({"expected": None}, {"expected": None}),
        ({"expected": "back"}, {"expected": "back"}),
        ({"scorer_id": other_scorer["id"]}, {"scorer_id": other_scorer["id"]}),
        ({"threshold": 0}, {"threshold": 0.0}),
        ({"threshold": 1.0}, {"threshold": 1.0}),
        ({"weight": 3}, {"weight": 3.0}),
        ({"is_active": False}, {"is_active": False}),
        ({"is_active": True}, {"is_active": True}),
    ]
    current = case
    for patch, change in steps:
        patched = (await api.ok("PATCH", path, org, json=patch))["data"]
        want = {**current, **change}
        assert {k: v for k, v in patched.items() if k != "updated_at"} == {
            k: v for k, v in want.items() if k != "updated_at"
        }, patch
        assert (await api.ok("GET", path, org))["data"] == patched
        current = patched


async def test_patch_without_expected_keeps_it(api: Api) -> None:
    org, _, suite, scorer = await setup(api)
    case = await api.case(org, suite["id"], scorer["id"], expected=["keep"])
    patched = (await api.ok("PATCH", f"/v1/cases/{case['id']}", org, json={"name": "n"}))["data"]
    assert patched["expected"] == ["keep"]
    patched = (await api.ok("PATCH", f"/v1/cases/{case['id']}", org, json={}))["data"]
    assert patched["expected"] == ["keep"] and patched["name"] == "n"


@pytest.mark.parametrize(
    "patch",
    [
        {"weight": 0},
        {"weight": -2},
        {"threshold": 1.5},
        {"threshold": True},
        {"input": [1]},
        {"is_active": "false"},
        {"suite_id": str(uuid.uuid4())},
        {"position": 0},
        {"scorer_id": "nope"},
        {"name": ""},
        {"colour": "red"},
    ],
)
async def test_invalid_patch_is_400_and_changes_nothing(api: Api, patch: dict[str, Any]) -> None:
    org, _, suite, scorer = await setup(api)
    case = await api.case(org, suite["id"], scorer["id"])
    response = await api.call("PATCH", f"/v1/cases/{case['id']}", org, json=patch)
    assert_error(response, 400, "VALIDATION_ERROR")
    assert (await api.ok("GET", f"/v1/cases/{case['id']}", org))["data"] == case


async def test_patch_to_a_scorer_elsewhere_is_400(api: Api) -> None:
    org, _, suite, scorer = await setup(api)
    other_project = await api.project(org)
    foreign = await api.scorer(org, other_project["slug"])
    case = await api.case(org, suite["id"], scorer["id"])
    for scorer_id in (foreign["id"], str(uuid.uuid4())):
        response = await api.call(
            "PATCH", f"/v1/cases/{case['id']}", org, json={"scorer_id": scorer_id}
        )
        assert_error(response, 400, "VALIDATION_ERROR")
    assert (await api.ok("GET", f"/v1/cases/{case['id']}", org))["data"] == case


async def test_reactivating_a_case_whose_scorer_was_deleted_is_400(api: Api) -> None:
    org, project, suite, _ = await setup(api)
    scorer = await api.scorer(org, project["slug"])
    case = await api.case(org, suite["id"], scorer["id"], is_active=False)
    await api.ok("DELETE", f"/v1/scorers/{scorer['id']}", org, 204)
    response = await api.call("PATCH", f"/v1/cases/{case['id']}", org, json={"is_active": True})
    assert_error(response, 400, "VALIDATION_ERROR")
    assert (await api.ok("GET", f"/v1/cases/{case['id']}", org))["data"]["is_active"] is False
    # Pointing it at a live scorer while reactivating is fine.
    live = await api.scorer(org, project["slug"])
    patched = await api.ok(
        "PATCH", f"/v1/cases/{case['id']}", org, json={"is_active": True, "scorer_id": live["id"]}
    )
    assert patched["data"]["is_active"] is True and patched["data"]["scorer_id"] == live["id"]


async def test_patch_unknown_case_is_404(api: Api) -> None:
    org = await api.org()
    response = await api.call("PATCH", f"/v1/cases/{uuid.uuid4()}", org, json={"name": "x"})
    assert_error(response, 404, "NOT_FOUND")


# --- delete (soft) ------------------------------------------------------------------------


async def test_delete_is_soft_and_hides_the_case_everywhere(api: Api) -> None:
    org, project, suite, scorer = await setup(api)
    keep = await api.case(org, suite["id"], scorer["id"], name="keep")
    doomed = await api.case(org, suite["id"], scorer["id"], name="doomed")
    assert await counts(api, org, project, suite) == (2, 2)

    response = await api.call("DELETE", f"/v1/cases/{doomed['id']}", org)
    assert response.status_code == 204 and response.content == b""

    assert [c["id"] for c in await listed(api, org, suite["id"])] == [keep["id"]]
    listing = await api.ok("GET", f"/v1/suites/{suite['id']}/cases", org)
    assert listing["pagination"]["total"] == 1
    path = f"/v1/cases/{doomed['id']}"
    assert_error(await api.call("GET", path, org), 404, "NOT_FOUND")
    assert_error(await api.call("PATCH", path, org, json={"name": "x"}), 404, "NOT_FOUND")
    assert_error(await api.call("DELETE", path, org), 404, "NOT_FOUND")
    assert await counts(api, org, project, suite) == (1, 1)


async def test_deleted_and_inactive_cases_are_not_scored(api: Api) -> None:
    org, project, suite, _ = await setup(api)
    hello = await api.scorer(org, project["slug"], config={"values": ["hello"]})
    world = await api.scorer(org, project["slug"], config={"values": ["world"]})
    nope = await api.scorer(org, project["slug"], config={"values": ["nope"]})
    await api.case(org, suite["id"], hello["id"], name="hello")
    w = await api.case(org, suite["id"], world["id"], name="world")
    n = await api.case(org, suite["id"], nope["id"], name="nope")

    run = await api.run(org, suite["slug"], "hello world")
    assert (run["total_cases"], run["passed_cases"], run["status"]) == (3, 2, "aborted")

    await api.ok("DELETE", f"/v1/cases/{n['id']}", org, 204)
    run = await api.run(org, suite["slug"], "hello world")
    assert (run["total_cases"], run["passed_cases"], run["status"]) == (2, 2, "cleared")
    assert {s["case"] for s in run["scores"]} == {"hello", "world"}

    await api.ok("PATCH", f"/v1/cases/{w['id']}", org, json={"is_active": False})
    run = await api.run(org, suite["slug"], "hello there")
    assert (run["total_cases"], run["passed_cases"], run["pass_rate"]) == (1, 1, 1.0)
    assert [s["case"] for s in run["scores"]] == ["hello"]


async def test_a_suite_with_only_deleted_cases_cannot_run(api: Api) -> None:
    org, _, suite, scorer = await setup(api)
    case = await api.case(org, suite["id"], scorer["id"])
    await api.ok("DELETE", f"/v1/cases/{case['id']}", org, 204)
    response = await api.call(
        "POST", "/v1/run", org, json={"suite": suite["slug"], "output": "hello"}
    )
    assert_error(response, 400, "VALIDATION_ERROR")


async def test_weights_and_thresholds_reach_the_verdict(api: Api) -> None:
    org, project, suite, _ = await setup(api)
    hello = await api.scorer(org, project["slug"], config={"values": ["hello"]})
    world = await api.scorer(org, project["slug"], config={"values": ["world"]})
    await api.case(org, suite["id"], hello["id"], name="hello", weight=3)
    w = await api.case(org, suite["id"], world["id"], name="world", weight=1)
    run = await api.run(org, suite["slug"], "hello")
    assert run["pass_rate"] == 0.75
    await api.ok("PATCH", f"/v1/cases/{w['id']}", org, json={"threshold": 0})
    run = await api.run(org, suite["slug"], "hello")
    assert run["pass_rate"] == 1.0 and run["status"] == "cleared"
