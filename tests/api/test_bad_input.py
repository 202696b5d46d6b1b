"""Bad input gets a clear 400 in the error envelope and changes nothing."""

from __future__ import annotations

from typing import Any

import pytest

from tests.factories import Api, Org


def _nested(depth: int) -> Any:
    value: Any = "leaf"
    for _ in range(depth):
        value = {"k": value}
    return value


def assert_validation_error(response: Any) -> dict[str, Any]:
    assert response.status_code == 400, response.text
    error = response.json()["error"]
    assert error["code"] == "VALIDATION_ERROR" and error["message"]
    return error


async def _setup(api: Api) -> tuple[Org, dict[str, Any], dict[str, Any], dict[str, Any]]:
    org = await api.org()
    project = await api.project(org)
    suite = await api.suite(org, project["slug"])
    scorer = await api.scorer(org, project["slug"])
    return org, project, suite, scorer


@pytest.mark.parametrize(
    "field,value",
    [
        ("threshold", False),
        ("threshold", True),
        ("threshold", "0.5"),
        ("threshold", 1.5),
        ("threshold", -0.1),
        ("weight", "1"),
        ("weight", False),
        ("weight", 0),
        ("is_active", 1),
        ("is_active", "true"),
        ("name", 5),
        ("input", []),
        ("input", "text"),
        ("input", _nested(40)),
        ("expected", _nested(40)),
        ("surprise", 1),
    ],
)
async def test_case_fields_are_strict(api: Api, field: str, value: Any) -> None:
    org, _, suite, scorer = await _setup(api)
    body = {"name": "c", "scorer_id": scorer["id"], field: value}
    error = assert_validation_error(
        await api.call("POST", f"/v1/suites/{suite['id']}/cases", org, json=body)
    )
    assert any(field in d["field"] for d in error["details"]), error
    listed = await api.ok("GET", f"/v1/suites/{suite['id']}/cases", org)
    assert listed["pagination"]["total"] == 0


@pytest.mark.parametrize(
    "path,body",
    [
        ("/v1/projects", {"name": "p", "color": "red"}),
        ("/v1/projects", {"name": ""}),
        ("/v1/projects", {"name": "p", "slug": "Not A Slug"}),
        ("/v1/projects", {"name": "p", "description": 3}),
        ("/v1/api-keys", {"name": "k", "mode": "prod"}),
        ("/v1/api-keys", {"name": "k", "extra": True}),
    ],
)
async def test_unknown_fields_and_bad_values_are_refused(api: Api, path: str, body: Any) -> None:
    org = await api.org()
    assert_validation_error(await api.call("POST", path, org, json=body))


@pytest.mark.parametrize("pass_threshold", [False, 2, -1, "1", None])
async def test_suite_pass_threshold_is_a_number_in_range(api: Api, pass_threshold: Any) -> None:
    org = await api.org()
    project = await api.project(org)
    response = await api.call(
        "POST",
        f"/v1/projects/{project['slug']}/suites",
        org,
        json={"name": "s", "pass_threshold": pass_threshold},
    )
    assert_validation_error(response)


async def test_run_body_is_validated_before_any_work(api: Api) -> None:
    org = await api.org()
    _, suite = await api.gated_suite(org)
    cases: list[dict[str, Any]] = [
        {"suite": suite["slug"]},
        {"suite": suite["slug"], "output": 5},
        {"suite": suite["slug"], "output": "x", "trigger": "cron"},
        {"suite": suite["slug"], "output": "x", "async": "yes"},
        {"suite": suite["slug"], "output": "x", "input": _nested(50)},
        {"suite": suite["slug"], "output": "x", "trigger_meta": {"blob": "x" * 17000}},
        {"suite": suite["slug"], "output": "x", "extra": 1},
        {"suite": suite["slug"], "output": "x" * (1024 * 1024 + 1)},
        {"suite": suite["slug"], "output": "é" * (512 * 1024 + 1)},
    ]
    for body in cases:
        assert_validation_error(await api.call("POST", "/v1/run", org, json=body))
    runs = await api.ok("GET", f"/v1/suites/{suite['id']}/runs", org)
    assert runs["pagination"]["total"] == 0


async def test_output_of_exactly_one_mebibyte_is_accepted(api: Api) -> None:
    org = await api.org()
    _, suite = await api.gated_suite(org)
    result = await api.run(org, suite["slug"], "hello world" + "x" * (1024 * 1024 - 11))
    assert result["status"] == "cleared"


@pytest.mark.parametrize(
    "content,content_type",
    [
        (b"{not json", "application/json"),
        (b"[1, 2]", "application/json"),
        (b'"just a string"', "application/json"),
        (b"", "application/json"),
        (b"[" * 100_000 + b"]" * 100_000, "application/json"),
        (b"name=p", "application/x-www-form-urlencoded"),
    ],
)
async def test_malformed_bodies_get_400_not_500(
    api: Api, content: bytes, content_type: str
) -> None:
    org = await api.org()
    response = await api.call(
        "POST", "/v1/projects", org, content=content, headers={"Content-Type": content_type}
    )
    assert_validation_error(response)


async def test_unknown_suite_is_404(api: Api) -> None:
    org = await api.org()
    response = await api.call("POST", "/v1/run", org, json={"suite": "nope", "output": "x"})
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "NOT_FOUND"


@pytest.mark.parametrize(
    "path", ["/v1/cases/not-a-uuid", "/v1/scorers/123", "/v1/suites/zzz/cases"]
)
async def test_malformed_ids_are_refused_cleanly(api: Api, path: str) -> None:
    org = await api.org()
    response = await api.call("GET", path, org)
    assert response.status_code in (400, 404)
    assert "error" in response.json()


async def test_unknown_route_and_method_use_the_envelope(api: Api) -> None:
    org = await api.org()
    missing = await api.call("GET", "/v1/nothing-here", org)
    assert missing.status_code == 404 and missing.json()["error"]["code"] == "NOT_FOUND"
    wrong = await api.call("PUT", "/v1/projects", org, json={})
    assert wrong.status_code == 405
    assert set(wrong.headers["allow"].split(", ")) >= {"GET", "POST"}
    assert wrong.json()["error"]["code"] == "METHOD_NOT_ALLOWED"


async def test_validation_errors_never_echo_the_input(api: Api) -> None:
    org = await api.org()
    secret = "sk-Canary_" + "9" * 30
    response = await api.call("POST", "/v1/projects", org, json={"name": "p", "slug": secret})
    assert response.status_code == 400
    assert secret not in response.text
