"""POST /v1/run, GET /v1/runs/{id} and GET /v1/suites/{id}/runs (SPEC §5), synchronous."""

from __future__ import annotations

import asyncio
import re
from typing import Any

import pytest

from launchgate.kit.ids import new_run_id
from tests.factories import Api, Org

RUN_ID = re.compile(r"^run_[0-9a-z]{24}$")
TIMESTAMP = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")
SYNC_KEYS = {
    "cost_usd",
    "id",
    "status",
    "passed",
    "total_cases",
    "passed_cases",
    "failed_cases",
    "error_cases",
    "pass_rate",
    "duration_ms",
    "scores",
    "failures",
    # Issue 13 (docs/runs.md): the count of undecided judge cases and the raw verdict.
    "inconclusive_cases",
    "verdict_detail",
}
CASE_KEYS = {"case", "case_id", "passed", "score", "threshold", "reason", "status", "duration_ms"}
CATASTROPHIC = "(a|aa)+$"  # exponential backtracking, even in the `regex` module


async def _suite(
    api: Api, org: Org, cases: list[dict[str, Any]], **suite_body: Any
) -> tuple[dict[str, Any], dict[str, Any]]:
    """A project and a suite with one scorer per case. Each case is a dict with
    ``type`` and ``config`` (the scorer), ``scorer`` (extra scorer fields) and the
    remaining keys for the case itself."""
    project = await api.project(org)
    suite = await api.suite(org, project["slug"], **suite_body)
    for spec in cases:
        spec = dict(spec)
        scorer = await api.scorer(
            org,
            project["slug"],
            spec.pop("type", "contains"),
            spec.pop("config", None),
            **spec.pop("scorer", {}),
        )
        await api.case(org, suite["id"], scorer["id"], **spec)
    return project, suite


def _has(value: str, **case: Any) -> dict[str, Any]:
    return {"type": "contains", "config": {"values": [value]}, "name": f"has {value}", **case}


async def _get(api: Api, org: Org, run_id: str) -> dict[str, Any]:
    run: dict[str, Any] = (await api.ok("GET", f"/v1/runs/{run_id}", org))["data"]
    return run


# --- the synchronous answer -------------------------------------------------------------


async def test_sync_answer_is_unwrapped_with_exactly_the_spec_keys(api: Api) -> None:
    org = await api.org()
    _, suite = await api.gated_suite(org, pass_threshold=0.5)
    result = await api.run(org, suite["slug"], "hello there")
    assert set(result) == SYNC_KEYS
    assert RUN_ID.match(result["id"])
    assert result["status"] == "cleared" and result["passed"] is True
    assert (
        result["total_cases"],
        result["passed_cases"],
        result["failed_cases"],
        result["error_cases"],
    ) == (2, 1, 1, 0)
    assert result["pass_rate"] == 0.5
    assert isinstance(result["duration_ms"], (int, float)) and result["duration_ms"] >= 0
    assert [s["case"] for s in result["scores"]] == ["has hello", "has world"]
    for entry in result["scores"]:
        assert set(entry) >= CASE_KEYS
        assert isinstance(entry["case_id"], str)
        assert entry["threshold"] == 0.5 and entry["duration_ms"] >= 0
    hello, world = result["scores"]
    assert (hello["passed"], hello["score"], hello["status"]) == (True, 1.0, "passed")
    assert (world["passed"], world["score"], world["status"]) == (False, 0.0, "failed")
    assert "world" in world["reason"]
    assert result["failures"] == [world]


async def test_case_ids_in_scores_are_the_suites_case_ids(api: Api) -> None:
    org = await api.org()
    _, suite = await api.gated_suite(org)
    cases = (await api.ok("GET", f"/v1/suites/{suite['id']}/cases", org))["data"]
    result = await api.run(org, suite["slug"], "hello world")
    assert [s["case_id"] for s in result["scores"]] == [c["id"] for c in cases]


async def test_run_ids_are_prefixed_and_sort_by_time(api: Api) -> None:
    org = await api.org()
    _, suite = await api.gated_suite(org)
    ids = []
    for _ in range(3):
        ids.append((await api.run(org, suite["slug"], "hello world"))["id"])
        await asyncio.sleep(0.002)  # a new millisecond: ids sort by their time prefix
    assert all(RUN_ID.match(run_id) for run_id in ids)
    assert ids == sorted(ids) and len(set(ids)) == 3
    assert new_run_id(1_700_000_000_000) < new_run_id(1_700_000_000_001)
    assert new_run_id(999) < new_run_id(2**40)


# --- pass rate and status ---------------------------------------------------------------


async def test_weighted_pass_rate_is_rounded_to_four_places(api: Api) -> None:
    org = await api.org()
    cases = [_has("a", weight=1), _has("b", weight=2), _has("c", weight=3)]
    _, suite = await _suite(api, org, cases, pass_threshold=0.6)
    result = await api.run(org, suite["slug"], "a c")  # 1 + 3 of 6
    assert result["pass_rate"] == 0.6667
    assert result["status"] == "cleared" and result["passed"] is True
    result = await api.run(org, suite["slug"], "a b")  # 1 + 2 of 6
    assert result["pass_rate"] == 0.5
    assert result["status"] == "aborted" and result["passed"] is False
    assert [f["case"] for f in result["failures"]] == ["has c"]


async def test_a_pass_rate_equal_to_the_threshold_clears(api: Api) -> None:
    org = await api.org()
    _, suite = await api.gated_suite(org, values=("a", "b", "c", "d"), pass_threshold=0.75)
    assert (await api.run(org, suite["slug"], "a b c"))["status"] == "cleared"
    aborted = await api.run(org, suite["slug"], "a b")
    assert (aborted["status"], aborted["passed"], aborted["pass_rate"]) == ("aborted", False, 0.5)


async def test_a_case_passes_at_its_threshold(api: Api) -> None:
    org = await api.org()
    _, suite = await _suite(
        api,
        org,
        [
            {"type": "contains", "config": {"values": ["x"]}, "name": "zero bar", "threshold": 0.0},
            {"type": "contains", "config": {"values": ["x"]}, "name": "full bar", "threshold": 1.0},
        ],
        pass_threshold=0.5,
    )
    result = await api.run(org, suite["slug"], "no letter here")
    assert [(s["case"], s["score"], s["status"]) for s in result["scores"]] == [
        ("zero bar", 0.0, "passed"),
        ("full bar", 0.0, "failed"),
    ]
    assert result["status"] == "cleared"


async def test_an_llm_judge_case_makes_the_run_an_error(api: Api) -> None:
    org = await api.org()
    judge = {
        "type": "llm_judge",
        "config": {"rubric": "Is it kind?", "_provider": "openai"},
        "name": "kind",
    }
    _, suite = await _suite(api, org, [_has("hello"), judge], pass_threshold=0.0)
    result = await api.run(org, suite["slug"], "hello")
    assert result["status"] == "error" and result["passed"] is False
    assert (result["passed_cases"], result["failed_cases"], result["error_cases"]) == (1, 0, 1)
    assert result["pass_rate"] == 0.5  # the errored case counts as not passed
    errored = result["scores"][1]
    assert (errored["status"], errored["passed"], errored["score"]) == ("error", False, 0.0)
    assert errored["reason"] == "No active BYOK key for provider openai"
    assert result["failures"] == [errored]


async def test_a_regex_timeout_is_a_case_error_not_a_pass(api: Api) -> None:
    org = await api.org()
    catastrophic = {
        "type": "regex",
        "name": "no runaway",
        "config": {"pattern": CATASTROPHIC, "should_match": False},
    }
    _, suite = await _suite(api, org, [catastrophic, _has("a")], pass_threshold=0.0)
    result = await api.run(org, suite["slug"], "a" * 40 + "!")
    assert result["status"] == "error" and result["passed"] is False
    timed_out = result["scores"][0]
    assert timed_out["status"] == "error" and timed_out["passed"] is False
    assert "timed out" in timed_out["reason"].lower()
    assert result["pass_rate"] == 0.5 and result["error_cases"] == 1
    assert [f["case"] for f in result["failures"]] == ["no runaway"]


async def test_dual_sided_contains_end_to_end(api: Api) -> None:
    org = await api.org()
    config = {"values": ["alpha", "beta"], "forbidden": ["gamma", "delta"]}
    loose = {"dual_sided": True, "precision_threshold": 0.5, "recall_threshold": 0.5}
    strict = {"dual_sided": True, "precision_threshold": 1.0, "recall_threshold": 0.5}
    _, suite = await _suite(
        api,
        org,
        [
            {
                "type": "contains",
                "config": config,
                "scorer": loose,
                "name": "loose",
                "threshold": 0.9,
            },
            {
                "type": "contains",
                "config": config,
                "scorer": strict,
                "name": "strict",
                "threshold": 0.9,
            },
        ],
        pass_threshold=1.0,
    )
    result = await api.run(org, suite["slug"], "alpha, gamma")
    loose_score, strict_score = result["scores"]
    assert (loose_score["precision"], loose_score["recall"]) == (0.5, 0.5)
    assert loose_score["score"] == 0.5
    # Below the case threshold of 0.9, but each side reaches its own threshold.
    assert loose_score["status"] == "passed"
    assert strict_score["status"] == "failed"  # precision 0.5 < 1.0
    assert result["status"] == "aborted" and result["pass_rate"] == 0.5
    clean = await api.run(org, suite["slug"], "alpha and beta")
    assert clean["status"] == "cleared"
    assert all((s["precision"], s["recall"]) == (1.0, 1.0) for s in clean["scores"])


async def test_side_thresholds_default_to_the_case_threshold(api: Api) -> None:
    org = await api.org()
    config = {"values": ["alpha", "beta"], "forbidden": ["gamma"]}
    _, suite = await _suite(
        api,
        org,
        [
            {
                "type": "contains",
                "config": config,
                "scorer": {"dual_sided": True},
                "name": "dual",
                "threshold": 0.5,
            },
        ],
        pass_threshold=1.0,
    )
    assert (await api.run(org, suite["slug"], "alpha"))["status"] == "cleared"  # r=0.5 p=1
    assert (await api.run(org, suite["slug"], "alpha beta gamma"))["status"] == "aborted"


# --- input, trigger, suite resolution ---------------------------------------------------


async def test_the_run_stores_input_trigger_and_meta(api: Api) -> None:
    org = await api.org()
    _, suite = await api.gated_suite(org)
    meta = {"sha": "abc123", "pr": 7, "nested": {"ok": True}}
    result = await api.run(
        org,
        suite["slug"],
        "hello world",
        input={"question": "hi?"},
        trigger="github_action",
        trigger_meta=meta,
    )
    run = await _get(api, org, result["id"])
    assert run["input"] == {"question": "hi?"}
    assert (run["trigger"], run["trigger_meta"]) == ("github_action", meta)
    assert run["output"] == "hello world"
    defaults = await _get(api, org, (await api.run(org, suite["slug"], "hello"))["id"])
    assert (defaults["input"], defaults["trigger"], defaults["trigger_meta"]) == ({}, "api", {})


async def test_bad_run_bodies_are_400(api: Api) -> None:
    org = await api.org()
    _, suite = await api.gated_suite(org)
    limits = await api.run(
        org,
        suite["slug"],
        "hello world" + " " * (1024 * 1024 - 11),
        trigger_meta={"k": "m" * 16_000},
    )
    assert limits["status"] == "cleared"
    for body in (
        {"output": "x"},
        {"suite": suite["slug"]},
        {"suite": suite["slug"], "output": "x", "trigger": "cron"},
        {"suite": suite["slug"], "output": "x", "surprise": 1},
        {"suite": suite["slug"], "output": 5},
        {"suite": suite["slug"], "output": "x", "input": []},
        {"suite": suite["slug"], "output": "x", "trigger_meta": {"k": "m" * 17_000}},
        {"suite": suite["slug"], "output": "x" * (1024 * 1024 + 1)},
    ):
        response = await api.call("POST", "/v1/run", org, json=body)
        assert response.status_code == 400, body
        assert response.json()["error"]["code"] == "VALIDATION_ERROR"


EMPTY_REFUSED = (
    "output is {what}: an empty output almost always means the pipeline that produced it "
    "broke; send allow_empty_output: true to score it anyway"
)


@pytest.mark.parametrize(
    "output,what", [("", "empty"), (" ", "only whitespace"), ("\n\t\r\n ", "only whitespace")]
)
@pytest.mark.parametrize("async_", [False, True])
async def test_an_empty_output_is_refused_before_any_work(
    api: Api, output: str, what: str, async_: bool
) -> None:
    org = await api.org()
    _, suite = await api.gated_suite(org)
    body = {"suite": suite["slug"], "output": output, "async": async_}
    response = await api.call("POST", "/v1/run", org, json=body)
    assert response.status_code == 400, response.text
    error = response.json()["error"]
    assert error["code"] == "VALIDATION_ERROR"
    assert error["message"] == EMPTY_REFUSED.format(what=what)
    assert error["details"] == [
        {"field": "output", "message": f"output is {what}", "type": "empty_output"}
    ]
    runs = await api.ok("GET", f"/v1/suites/{suite['id']}/runs", org)
    assert runs["pagination"]["total"] == 0
    usage = await api.ok("GET", "/v1/billing/usage", org)
    assert usage["current_usage"] == 0
    # Refused before the suite is even looked up.
    unknown = await api.call("POST", "/v1/run", org, json={**body, "suite": "no-such-suite"})
    assert unknown.status_code == 400


@pytest.mark.parametrize("output", ["", "  \n"])
async def test_an_empty_output_is_scored_when_allowed(api: Api, output: str) -> None:
    org = await api.org()
    cases = [
        {"type": "regex", "config": {"pattern": "^\\s*$"}, "name": "blank"},
        _has("hello"),
    ]
    _, suite = await _suite(api, org, cases, pass_threshold=0.5)
    result = await api.run(org, suite["slug"], output, allow_empty_output=True)
    assert (result["status"], result["passed_cases"], result["failed_cases"]) == ("cleared", 1, 1)
    assert (await _get(api, org, result["id"]))["output"] == output
    accepted = await api.run(
        org, suite["slug"], output, 202, allow_empty_output=True, **{"async": True}
    )
    assert accepted["status"] == "pending"


@pytest.mark.parametrize("value", ["true", 1, None, "yes"])
async def test_allow_empty_output_is_a_boolean(api: Api, value: Any) -> None:
    org = await api.org()
    _, suite = await api.gated_suite(org)
    body = {"suite": suite["slug"], "output": "", "allow_empty_output": value}
    response = await api.call("POST", "/v1/run", org, json=body)
    assert response.status_code == 400
    assert response.json()["error"]["details"][0]["field"] == "body.allow_empty_output"


async def test_allow_empty_output_false_is_the_default(api: Api) -> None:
    org = await api.org()
    _, suite = await api.gated_suite(org)
    body = {"suite": suite["slug"], "output": "", "allow_empty_output": False}
    response = await api.call("POST", "/v1/run", org, json=body)
    assert response.status_code == 400
    assert response.json()["error"]["message"].startswith("output is empty")
    # A non-empty output does not need it.
    result = await api.run(org, suite["slug"], "hello world", allow_empty_output=False)
    assert result["status"] == "cleared"


async def test_a_suite_with_no_active_case_is_400(api: Api) -> None:
    org = await api.org()
    project = await api.project(org)
    empty = await api.suite(org, project["slug"])
    response = await api.call("POST", "/v1/run", org, json={"suite": empty["slug"], "output": "x"})
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "VALIDATION_ERROR"
    _, idle = await _suite(api, org, [_has("a", is_active=False)])
    response = await api.call("POST", "/v1/run", org, json={"suite": idle["slug"], "output": "a"})
    assert response.status_code == 400
    assert "no active case" in response.json()["error"]["message"]
    runs = await api.ok("GET", f"/v1/suites/{idle['id']}/runs", org)
    assert runs["pagination"]["total"] == 0


async def test_deleted_and_inactive_cases_are_left_out(api: Api) -> None:
    org = await api.org()
    _, suite = await _suite(api, org, [_has("a"), _has("b", is_active=False), _has("c")])
    cases = (await api.ok("GET", f"/v1/suites/{suite['id']}/cases", org))["data"]
    by_name = {c["name"]: c["id"] for c in cases}
    await api.ok("DELETE", f"/v1/cases/{by_name['has c']}", org, 204)
    result = await api.run(org, suite["slug"], "a")
    assert [s["case"] for s in result["scores"]] == ["has a"]
    assert result["total_cases"] == 1 and result["status"] == "cleared"


async def test_an_unknown_suite_is_404(api: Api) -> None:
    org = await api.org()
    response = await api.call("POST", "/v1/run", org, json={"suite": "nope", "output": "x"})
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "NOT_FOUND"


async def test_another_organisations_suite_is_404(api: Api) -> None:
    owner, stranger = await api.org(), await api.org()
    _, suite = await api.gated_suite(owner)
    response = await api.call(
        "POST", "/v1/run", stranger, json={"suite": suite["slug"], "output": "hello world"}
    )
    assert response.status_code == 404
    run = await api.run(owner, suite["slug"], "hello world")
    assert (await api.call("GET", f"/v1/runs/{run['id']}", stranger)).status_code == 404
    listing = await api.call("GET", f"/v1/suites/{suite['id']}/runs", stranger)
    assert listing.status_code == 404


async def test_a_slug_in_two_projects_needs_project(api: Api) -> None:
    org = await api.org()
    first, _ = await _suite(api, org, [_has("one")], slug="shared")
    second, _ = await _suite(api, org, [_has("two")], slug="shared")
    response = await api.call("POST", "/v1/run", org, json={"suite": "shared", "output": "two"})
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "VALIDATION_ERROR"
    assert first["slug"] in error["message"] and second["slug"] in error["message"]
    picked = await api.run(org, "shared", "two", project=second["slug"])
    assert picked["status"] == "cleared" and picked["scores"][0]["case"] == "has two"
    other = await api.run(org, "shared", "two", project=first["slug"])
    assert other["status"] == "aborted" and other["scores"][0]["case"] == "has one"
    response = await api.call(
        "POST", "/v1/run", org, json={"suite": "shared", "output": "x", "project": "nope"}
    )
    assert response.status_code == 404


# --- the stored run ---------------------------------------------------------------------


async def test_get_run_is_wrapped_and_complete(api: Api) -> None:
    org = await api.org()
    project, suite = await api.gated_suite(org, pass_threshold=0.5)
    result = await api.run(org, suite["slug"], "hello there", input={"q": 1})
    body = await api.ok("GET", f"/v1/runs/{result['id']}", org)
    assert set(body) == {"data"}
    run = body["data"]
    for key in SYNC_KEYS:
        assert run[key] == result[key], key
    assert isinstance(run["duration_ms"], (int, float)) and run["duration_ms"] >= 0
    assert run["suite_id"] == suite["id"] and run["project_id"] == project["id"]
    assert (run["output"], run["input"]) == ("hello there", {"q": 1})
    for stamp in ("created_at", "started_at", "completed_at"):
        assert TIMESTAMP.match(run[stamp]), (stamp, run[stamp])
    assert run["created_at"] <= run["started_at"] <= run["completed_at"]
    snapshot = run["snapshot"]
    assert snapshot["suite"]["slug"] == suite["slug"]
    assert snapshot["suite"]["pass_threshold"] == 0.5
    assert [c["name"] for c in snapshot["cases"]] == ["has hello", "has world"]
    first = snapshot["cases"][0]
    assert first["threshold"] == 0.5 and first["weight"] == 1.0
    assert first["scorer"]["type"] == "contains"
    assert first["scorer"]["config"]["values"] == ["hello"]


async def test_unknown_or_malformed_run_ids_are_404(api: Api) -> None:
    org = await api.org()
    for run_id in (new_run_id(), "run_nope", "not-a-run", "RUN_" + "0" * 24):
        response = await api.call("GET", f"/v1/runs/{run_id}", org)
        assert response.status_code == 404, run_id
        assert response.json()["error"]["code"] == "NOT_FOUND"


async def test_no_endpoint_mutates_a_run(api: Api) -> None:
    org = await api.org()
    _, suite = await api.gated_suite(org)
    result = await api.run(org, suite["slug"], "hello world")
    before = await _get(api, org, result["id"])
    for method in ("PATCH", "PUT", "DELETE", "POST"):
        response = await api.call(
            method, f"/v1/runs/{result['id']}", org, json={"status": "aborted"}
        )
        assert response.status_code in (404, 405), (method, response.status_code)
        assert set(response.json()) == {"error"}
        error = response.json()["error"]
        assert set(error) == {"code", "message", "details"}
        assert error["code"] in ("NOT_FOUND", "METHOD_NOT_ALLOWED")
    assert await _get(api, org, result["id"]) == before


async def test_editing_the_suite_later_does_not_change_a_past_run(api: Api) -> None:
    org = await api.org()
    project, suite = await api.gated_suite(org, pass_threshold=0.5)
    result = await api.run(org, suite["slug"], "hello")
    before = await _get(api, org, result["id"])
    cases = (await api.ok("GET", f"/v1/suites/{suite['id']}/cases", org))["data"]
    hello, world = cases
    await api.ok(
        "PATCH",
        f"/v1/cases/{hello['id']}",
        org,
        json={"name": "renamed", "threshold": 0.9, "weight": 5},
    )
    await api.ok(
        "PATCH", f"/v1/scorers/{hello['scorer_id']}", org, json={"config": {"values": ["changed"]}}
    )
    await api.ok(
        "PATCH",
        f"/v1/projects/{project['slug']}/suites/{suite['slug']}",
        org,
        json={"name": "Renamed suite", "pass_threshold": 1.0},
    )
    await api.ok("DELETE", f"/v1/cases/{world['id']}", org, 204)
    await api.ok("DELETE", f"/v1/scorers/{world['scorer_id']}", org, 204)
    assert await _get(api, org, result["id"]) == before
    # and the next run sees the edits
    after = await api.run(org, suite["slug"], "hello")
    assert [(s["case"], s["status"]) for s in after["scores"]] == [("renamed", "failed")]


# --- runs list --------------------------------------------------------------------------


async def test_runs_list_is_newest_first_and_paginated(api: Api) -> None:
    org = await api.org()
    _, suite = await api.gated_suite(org, pass_threshold=1.0)
    ids = []
    for output in ("hello world", "hello", "world", "hello world", "nothing"):
        ids.append((await api.run(org, suite["slug"], output))["id"])
        await asyncio.sleep(0.002)
    newest_first = list(reversed(ids))
    page = await api.ok("GET", f"/v1/suites/{suite['id']}/runs", org)
    assert [r["id"] for r in page["data"]] == newest_first
    assert page["pagination"] == {"page": 1, "pageSize": 20, "total": 5, "hasMore": False}
    first = await api.ok("GET", f"/v1/suites/{suite['id']}/runs?page=1&pageSize=2", org)
    second = await api.ok("GET", f"/v1/suites/{suite['id']}/runs?page=2&pageSize=2", org)
    third = await api.ok("GET", f"/v1/suites/{suite['id']}/runs?page=3&pageSize=2", org)
    assert [r["id"] for r in first["data"] + second["data"] + third["data"]] == newest_first
    assert first["pagination"] == {"page": 1, "pageSize": 2, "total": 5, "hasMore": True}
    assert third["pagination"] == {"page": 3, "pageSize": 2, "total": 5, "hasMore": False}
    beyond = await api.ok("GET", f"/v1/suites/{suite['id']}/runs?page=9&pageSize=2", org)
    assert beyond["data"] == [] and beyond["pagination"]["total"] == 5
    item = page["data"][0]
    assert item["suite_id"] == suite["id"] and item["status"] == "aborted"
    assert TIMESTAMP.match(item["created_at"]) and TIMESTAMP.match(item["completed_at"])
    assert "output" not in item and "snapshot" not in item


async def test_runs_list_filters_by_status(api: Api) -> None:
    org = await api.org()
    _, suite = await api.gated_suite(org)
    cleared = [(await api.run(org, suite["slug"], "hello world"))["id"] for _ in range(2)]
    aborted = [(await api.run(org, suite["slug"], "hello"))["id"]]
    path = f"/v1/suites/{suite['id']}/runs"
    only_cleared = await api.ok("GET", f"{path}?status=cleared", org)
    assert sorted(r["id"] for r in only_cleared["data"]) == sorted(cleared)
    assert only_cleared["pagination"]["total"] == 2
    only_aborted = await api.ok("GET", f"{path}?status=aborted", org)
    assert [r["id"] for r in only_aborted["data"]] == aborted
    assert (await api.ok("GET", f"{path}?status=error", org))["data"] == []


async def test_runs_list_rejects_bad_queries(api: Api) -> None:
    org = await api.org()
    _, suite = await api.gated_suite(org)
    path = f"/v1/suites/{suite['id']}/runs"
    for query in ("status=done", "page=0", "pageSize=0", "pageSize=101", "page=x"):
        response = await api.call("GET", f"{path}?{query}", org)
        assert response.status_code == 400, query
        assert response.json()["error"]["code"] == "VALIDATION_ERROR"
    missing = await api.call("GET", "/v1/suites/00000000-0000-0000-0000-000000000000/runs", org)
    assert missing.status_code == 404


async def test_runs_need_authentication(api: Api) -> None:
    org = await api.org()
    _, suite = await api.gated_suite(org)
    response = await api.call(
        "POST", "/v1/run", None, json={"suite": suite["slug"], "output": "hello"}
    )
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "UNAUTHORIZED"
