"""Bad input gets a clear 400 in the error envelope and changes nothing."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.factories import Api, Org

JSON_TYPE = {"Content-Type": "application/json"}


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


# --- a body the server cannot read: told in words (issue 12) ------------------------------

PROJECT_BODY = b'{"name": "p"}'


@pytest.mark.parametrize(
    "headers,sent",
    [
        ({}, "this request has no Content-Type"),
        ({"Content-Type": "text/plain"}, "this request's Content-Type is text/plain"),
        (
            {"Content-Type": "application/x-www-form-urlencoded"},
            "this request's Content-Type is application/x-www-form-urlencoded",
        ),
        (
            {"Content-Type": "text/plain; charset=utf-8"},
            "this request's Content-Type is text/plain",
        ),
    ],
)
async def test_a_json_body_without_the_json_content_type_says_to_send_it(
    api: Api, headers: dict[str, str], sent: str
) -> None:
    org = await api.org()
    response = await api.call("POST", "/v1/projects", org, content=PROJECT_BODY, headers=headers)
    error = assert_validation_error(response)
    expected = f"send Content-Type: application/json with a JSON body ({sent})"
    assert error["message"] == expected
    assert error["details"] == [
        {"field": "body", "message": expected, "type": "model_attributes_type"}
    ]
    listed = await api.ok("GET", "/v1/projects", org)
    assert listed["pagination"]["total"] == 0


async def test_a_run_without_the_json_content_type_says_to_send_it(api: Api) -> None:
    org = await api.org()
    _, suite = await api.gated_suite(org)
    body = json.dumps({"suite": suite["slug"], "output": "hello world"}).encode()
    response = await api.call("POST", "/v1/run", org, content=body)
    error = assert_validation_error(response)
    assert error["message"].startswith("send Content-Type: application/json")
    # The same body with the header is scored: the header was all that was missing.
    sent = await api.call("POST", "/v1/run", org, content=body, headers=JSON_TYPE)
    assert sent.status_code == 200 and sent.json()["status"] == "cleared"


@pytest.mark.parametrize(
    "content,reason,line,column",
    [
        (b'{"name": "p",}', "trailing comma", 1, 13),
        (b'{\n  "name": "p",\n  "slug": "x",\n}', "trailing comma", 3, 14),
        (b'{"name": "p", "description": "d",\n}', "trailing comma", 1, 33),
        (b"[1, 2,]", "trailing comma", 1, 6),
        (b"{\"name\": 'p'}", "expecting value", 1, 10),
        (b'{name: "p"}', "expecting property name enclosed in double quotes", 1, 2),
        (b'{"name": "p"', "expecting ',' delimiter", 1, 13),
        (b'{"name": "p" "slug": "x"}', "expecting ',' delimiter", 1, 14),
        (b'{"name": "p"}}', "extra data after the JSON value", 1, 14),
        (
            b'{\n"name": "\xc3\xa9t\xc3\xa9",,\n}',
            "expecting property name enclosed in double quotes",
            2,
            15,
        ),
    ],
)
async def test_json_that_does_not_parse_says_why_and_where(
    api: Api, content: bytes, reason: str, line: int, column: int
) -> None:
    org = await api.org()
    response = await api.call("POST", "/v1/projects", org, content=content, headers=JSON_TYPE)
    error = assert_validation_error(response)
    expected = f"the body is not valid JSON: {reason} at line {line}, column {column}"
    assert error["message"] == expected
    assert error["details"] == [
        {
            "field": "body",
            "message": expected,
            "type": "json_invalid",
            "line": line,
            "column": column,
        }
    ]


async def test_a_run_with_a_trailing_comma_names_it(api: Api) -> None:
    """The body of the issue: a curl user's first run, with one comma too many."""
    org = await api.org()
    _, suite = await api.gated_suite(org)
    body = f'{{"suite": "{suite["slug"]}", "output": "hello world",}}'
    response = await api.call("POST", "/v1/run", org, content=body, headers=JSON_TYPE)
    error = assert_validation_error(response)
    column = body.rindex(",") + 1
    assert (
        error["message"] == f"the body is not valid JSON: trailing comma at line 1, column {column}"
    )
    runs = await api.ok("GET", f"/v1/suites/{suite['id']}/runs", org)
    assert runs["pagination"]["total"] == 0


@pytest.mark.parametrize(
    "content,got",
    [
        (b"[1, 2]", "an array"),
        (b'"just a string"', "a string"),
        (b"42", "a number"),
        (b"true", "a boolean"),
        (b"null", "null"),
    ],
)
async def test_json_that_is_not_an_object_says_so(api: Api, content: bytes, got: str) -> None:
    org = await api.org()
    response = await api.call("POST", "/v1/projects", org, content=content, headers=JSON_TYPE)
    error = assert_validation_error(response)
    assert error["message"] == f"the body must be a JSON object, got {got}"


async def test_an_empty_body_says_so(api: Api) -> None:
    org = await api.org()
    response = await api.call("POST", "/v1/projects", org, content=b"", headers=JSON_TYPE)
    error = assert_validation_error(response)
    assert error["message"] == (
        "the body is empty: send a JSON object with Content-Type: application/json"
    )


async def test_errors_in_fields_keep_their_field_and_pydantic_words(api: Api) -> None:
    org = await api.org()
    response = await api.call("POST", "/v1/projects", org, json={"name": "p", "description": 3})
    error = assert_validation_error(response)
    assert error["message"] == "body.description: Input should be a valid string"
    assert error["details"][0]["field"] == "body.description"


async def test_broken_json_is_never_echoed(api: Api) -> None:
    org = await api.org()
    secret = "sk-Canary_" + "7" * 30
    for content, headers in (
        (f'{{"name": "{secret}",}}'.encode(), JSON_TYPE),
        (f'{{"name": "{secret}"}}'.encode(), {"Content-Type": "text/plain"}),
    ):
        response = await api.call("POST", "/v1/projects", org, content=content, headers=headers)
        assert_validation_error(response)
        assert secret not in response.text
