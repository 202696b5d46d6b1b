"""Text no backend can store is a 400 naming the field, on SQLite and PostgreSQL alike.

PostgreSQL refuses a NUL (U+0000) in ``text`` and ``jsonb``, and a lone surrogate in
``jsonb``; before these checks such a string anywhere in a body (or a ``%00`` in a URL) came
back from the driver as a 500 on PostgreSQL while SQLite stored it. Names are also refused
with control characters, descriptions with control characters other than tab and newline.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from typing import Any

import pytest

from tests.factories import Api, Org, unique

NUL = "\x00"
Body = Callable[[str], dict[str, Any]]


async def _world(api: Api) -> tuple[Org, dict[str, str]]:
    """An organisation with one of everything a body may name."""
    org = await api.org()
    project = await api.project(org)
    suite = await api.suite(org, project["slug"])
    scorer = await api.scorer(org, project["slug"], config={"values": ["hello"]})
    case = await api.case(org, suite["id"], scorer["id"], name="has hello")
    byok = await api.ok(
        "POST",
        "/v1/byok-keys",
        org,
        201,
        json={
            "provider": "openai",
            "name": "k",
            "key": "sk-" + uuid.uuid4().hex,
        },
    )
    return org, {
        "project": project["slug"],
        "suite": suite["slug"],
        "suite_id": suite["id"],
        "scorer_id": scorer["id"],
        "case_id": case["id"],
        "byok_id": byok["data"]["id"],
    }


async def _send(api: Api, org: Org, method: str, path: str, body: dict[str, Any]) -> Any:
    # Encoded here, with escapes: httpx would refuse to encode a lone surrogate itself.
    return await api.call(
        method, path, org, content=json.dumps(body), headers={"Content-Type": "application/json"}
    )


# (method, path, body with the bad text put at one place, the field the answer must name)
BODY_FIELDS: list[tuple[str, str, Body, str]] = [
    ("POST", "/v1/projects", lambda t: {"name": f"p{t}"}, "name"),
    ("POST", "/v1/projects", lambda t: {"name": "p", "description": f"d{t}"}, "description"),
    ("POST", "/v1/projects", lambda t: {"name": "p", "slug": f"s{t}"}, "slug"),
    ("PATCH", "/v1/projects/{project}", lambda t: {"name": f"p{t}"}, "name"),
    ("POST", "/v1/projects/{project}/suites", lambda t: {"name": f"s{t}"}, "name"),
    (
        "PATCH",
        "/v1/projects/{project}/suites/{suite}",
        lambda t: {"description": f"d{t}"},
        "description",
    ),
    (
        "POST",
        "/v1/projects/{project}/suites/from-template",
        lambda t: {"template_slug": f"rag{t}"},
        "template_slug",
    ),
    (
        "POST",
        "/v1/suites/{suite_id}/cases",
        lambda t: {"name": f"c{t}", "scorer_id": "{scorer_id}"},
        "name",
    ),
    (
        "POST",
        "/v1/suites/{suite_id}/cases",
        lambda t: {"name": "c", "scorer_id": "{scorer_id}", "input": {"q": f"a{t}"}},
        "input",
    ),
    (
        "POST",
        "/v1/suites/{suite_id}/cases",
        lambda t: {"name": "c", "scorer_id": "{scorer_id}", "input": {f"k{t}": 1}},
        "input",
    ),
    (
        "POST",
        "/v1/suites/{suite_id}/cases",
        lambda t: {"name": "c", "scorer_id": "{scorer_id}", "expected": f"e{t}"},
        "expected",
    ),
    ("PATCH", "/v1/cases/{case_id}", lambda t: {"expected": {"a": [1, f"e{t}"]}}, "expected"),
    (
        "POST",
        "/v1/projects/{project}/scorers",
        lambda t: {"name": f"s{t}", "type": "contains", "config": {"values": ["x"]}},
        "name",
    ),
    (
        "POST",
        "/v1/projects/{project}/scorers",
        lambda t: {"name": "s", "type": "contains", "config": {"values": [f"x{t}"]}},
        "config",
    ),
    (
        "POST",
        "/v1/projects/{project}/scorers",
        lambda t: {"name": "s", "type": "exact_match", "config": {f"k{t}": True}},
        "config",
    ),
    (
        "POST",
        "/v1/projects/{project}/scorers",
        lambda t: {
            "name": "s",
            "type": "llm_judge",
            "config": {"rubric": f"Be kind{t}", "_provider": "openai"},
        },
        "config",
    ),
    ("PATCH", "/v1/scorers/{scorer_id}", lambda t: {"config": {"values": [f"x{t}"]}}, "config"),
    ("POST", "/v1/run", lambda t: {"suite": "{suite}", "output": f"hello{t}"}, "output"),
    ("POST", "/v1/run", lambda t: {"suite": "{suite}", "output": "x", "input": {"q": t}}, "input"),
    (
        "POST",
        "/v1/run",
        lambda t: {"suite": "{suite}", "output": "x", "trigger_meta": {"pr": {"title": t}}},
        "trigger_meta",
    ),
    (
        "POST",
        "/v1/run",
        lambda t: {"suite": "{suite}", "output": "x", "trigger_meta": {f"k{t}": 1}},
        "trigger_meta",
    ),
    ("POST", "/v1/run", lambda t: {"suite": f"{{suite}}{t}", "output": "x"}, "suite"),
    (
        "POST",
        "/v1/run",
        lambda t: {"suite": "{suite}", "project": f"p{t}", "output": "x"},
        "project",
    ),
    ("POST", "/v1/api-keys", lambda t: {"name": f"k{t}"}, "name"),
    (
        "POST",
        "/v1/byok-keys",
        lambda t: {"provider": "openai", "name": f"k{t}", "key": "sk-abcdefgh"},
        "name",
    ),
    (
        "POST",
        "/v1/byok-keys",
        lambda t: {"provider": "openai", "name": "k", "key": f"sk-abc{t}"},
        "key",
    ),
    (
        "POST",
        "/v1/byok-keys",
        lambda t: {
            "provider": "openai",
            "name": "k",
            "key": "sk-abcdefgh",
            "config": {"organization": f"org{t}"},
        },
        "config",
    ),
    ("PATCH", "/v1/byok-keys/{byok_id}", lambda t: {"name": f"k{t}"}, "name"),
    ("POST", "/v1/auth/login", lambda t: {"email": f"a{t}@example.com", "password": "x"}, "email"),
    (
        "POST",
        "/v1/auth/login",
        lambda t: {"email": "a@example.com", "password": f"x{t}"},
        "password",
    ),
]


def _fill(value: Any, ids: dict[str, str]) -> Any:
    if isinstance(value, str):
        for name, ident in ids.items():
            value = value.replace("{" + name + "}", ident)
        return value
    if isinstance(value, dict):
        return {_fill(k, ids): _fill(v, ids) for k, v in value.items()}
    if isinstance(value, list):
        return [_fill(v, ids) for v in value]
    return value


def _assert_400_naming(response: Any, field: str) -> dict[str, Any]:
    assert response.status_code == 400, response.text
    error: dict[str, Any] = response.json()["error"]
    assert error["code"] == "VALIDATION_ERROR"
    assert field in error["message"], error
    return error


@pytest.mark.parametrize(
    "method,path,body,field",
    BODY_FIELDS,
    ids=[f"{m} {p} {f}" for m, p, _, f in BODY_FIELDS],
)
async def test_a_nul_anywhere_in_a_body_is_a_400_naming_the_field(
    api: Api, method: str, path: str, body: Body, field: str
) -> None:
    org, ids = await _world(api)
    error = _assert_400_naming(
        await _send(api, org, method, _fill(path, ids), _fill(body(NUL), ids)), field
    )
    # Slugs were already held to their pattern; everything else says what it refused.
    reasons = ("NUL", "control characters", "visible ASCII", "should match pattern")
    assert any(reason in error["message"] for reason in reasons), error
    # The same body without the NUL is fine: the field, not the request, was refused.
    clean = await _send(api, org, method, _fill(path, ids), _fill(body("z"), ids))
    assert clean.status_code < 500, clean.text


@pytest.mark.parametrize(
    "body,field",
    [
        ({"output": "\ud800"}, "output"),
        ({"output": "x", "input": {"q": "\udfff"}}, "input"),
        ({"output": "x", "trigger_meta": {"\ud83d": 1}}, "trigger_meta"),
    ],
)
async def test_a_lone_surrogate_is_a_400(api: Api, body: dict[str, Any], field: str) -> None:
    org, ids = await _world(api)
    response = await _send(api, org, "POST", "/v1/run", {"suite": ids["suite"], **body})
    error = _assert_400_naming(response, field)
    assert "surrogate" in error["message"] or "unicode" in error["message"].lower(), error


@pytest.mark.parametrize(
    "char", ["\x01", "\t", "\n", "\r", "\x1b", "\x7f", "\x85", "\x9f", "\u2028", "\u2029"]
)
@pytest.mark.parametrize(
    "path,extra",
    [
        ("/v1/projects", {}),
        ("/v1/projects/{project}/suites", {}),
        ("/v1/suites/{suite_id}/cases", {"scorer_id": "{scorer_id}"}),
        ("/v1/projects/{project}/scorers", {"type": "contains", "config": {"values": ["x"]}}),
        ("/v1/api-keys", {}),
        ("/v1/byok-keys", {"provider": "anthropic", "key": "sk-ant-abcdefgh"}),
    ],
)
async def test_names_refuse_control_characters(
    api: Api, char: str, path: str, extra: dict[str, Any]
) -> None:
    org, ids = await _world(api)
    body = _fill({"name": f"a{char}b", **extra}, ids)
    error = _assert_400_naming(await _send(api, org, "POST", _fill(path, ids), body), "name")
    assert "control characters" in error["message"]
    assert error["details"][0]["field"] == "body.name"


async def test_names_keep_ordinary_unicode(api: Api) -> None:
    org = await api.org()
    name = "Équipe 🚀 — 日本語 «ok»"
    project = await api.project(org, name=name)
    assert project["name"] == name


@pytest.mark.parametrize("char", ["\x00", "\x1b", "\x7f", "\x85"])
async def test_descriptions_refuse_control_characters(api: Api, char: str) -> None:
    org = await api.org()
    body = {"name": unique("p"), "description": f"one{char}two"}
    _assert_400_naming(await _send(api, org, "POST", "/v1/projects", body), "description")


async def test_descriptions_keep_tabs_and_line_breaks(api: Api) -> None:
    org = await api.org()
    project = await api.project(org, description="line one\r\n\tline two\n")
    assert project["description"] == "line one\r\n\tline two\n"


async def test_other_control_characters_in_free_text_are_stored_faithfully(api: Api) -> None:
    """Outputs and JSON are data, not names: an ANSI escape or a form feed is kept."""
    org = await api.org()
    _, suite = await api.gated_suite(org, values=("hello",))
    output = "hello \x1b[31mred\x1b[0m\x0c\x7f"
    result = await api.run(org, suite["slug"], output, trigger_meta={"log": "a\x01b"})
    run = (await api.ok("GET", f"/v1/runs/{result['id']}", org))["data"]
    assert run["output"] == output and run["trigger_meta"] == {"log": "a\x01b"}


@pytest.mark.parametrize(
    "path",
    [
        "/v1/projects/a%00b",
        "/v1/projects/a%00b/suites",
        "/v1/runs/run_%00",
        "/v1/byok-keys?provider=%00",
        "/v1/projects?page=1%00",
    ],
)
async def test_a_nul_in_the_url_is_a_400(api: Api, path: str) -> None:
    org = await api.org()
    response = await api.call("GET", path, org)
    assert response.status_code == 400, response.text
    assert response.json()["error"]["code"] == "VALIDATION_ERROR"


@pytest.mark.parametrize(
    "key",
    [
        "sk-é-abcdefgh",
        "sk-\u00a0abcdefgh",
        "sk- abcdefgh",
        "sk-\tabc",
        "sk-🚀abcdefgh",
        "sk-\x7fabcdefgh",
        "sk-abcdefgh\n",
    ],
)
async def test_byok_keys_must_be_visible_ascii(api: Api, key: str) -> None:
    """A key a header cannot carry used to be stored, then fail its test and every judge
    run with a 500. Refused at creation; the message never quotes it."""
    org = await api.org()
    body = {"provider": "openai", "name": "k", "key": key}
    error = _assert_400_naming(await _send(api, org, "POST", "/v1/byok-keys", body), "key")
    assert "visible ASCII" in error["message"]
    assert key[3:] not in json.dumps(error) and "abcdefgh" not in json.dumps(error)
    assert (await api.ok("GET", "/v1/byok-keys", org))["data"] == []


@pytest.mark.parametrize(
    "provider,config",
    [
        ("openai", {"organization": "org-é"}),
        ("openai", {"organization": "org 1"}),
        ("azure_openai", {"endpoint": "https://20.38.100.1", "api_version": "2024-10-21 x"}),
    ],
)
async def test_config_values_sent_in_headers_must_be_visible_ascii(
    api: Api, provider: str, config: dict[str, str]
) -> None:
    org = await api.org()
    body = {"provider": provider, "name": "k", "key": "sk-abcdefgh", "config": config}
    error = _assert_400_naming(await _send(api, org, "POST", "/v1/byok-keys", body), "config")
    assert "visible ASCII" in error["message"]
