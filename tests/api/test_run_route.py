"""``POST /v1/run``'s lean path (issue 17): a plain synchronous run skips FastAPI's
dependency machinery (``launchgate.runs.endpoints._lean_run``), every other request takes
the declared endpoint. Proven two ways: the lean function itself says which requests it
serves (and the run it answers is stored), and a run it serves answers exactly as the
standard path answers the same run."""

from __future__ import annotations

import json
from typing import Any

import httpx
from fastapi import FastAPI, Request

from launchgate.auth.middleware import STATE_KEY
from launchgate.auth.service import authenticate
from launchgate.db import unit_of_work
from launchgate.runs.endpoints import _lean_run
from tests.factories import Api, Org

# FastAPI parses any ``application/*+json`` body; the lean path takes only
# ``application/json``, so this type sends the very same run down the standard path.
STANDARD = "application/merge-patch+json"


async def _mixed_suite(api: Api, org: Org) -> dict[str, Any]:
    """A suite of passing and failing deterministic cases of four scorer types."""
    project = await api.project(org)
    slug = project["slug"]
    scorers: list[dict[str, Any]] = [
        {"type": "contains", "config": {"values": ["Paris"]}},
        {"type": "contains", "config": {"values": ["Lyon"]}},  # fails
        {"type": "regex", "config": {"pattern": r"\d+", "flags": "i"}},
        {
            "type": "json_schema",
            "config": {"schema": {"type": "object", "required": ["answer"]}},
        },
    ]
    suite = await api.suite(org, slug, pass_threshold=0.5)
    for number, body in enumerate(scorers):
        scorer = await api.scorer(org, slug, **body)
        await api.case(org, suite["id"], scorer["id"], name=f"case {number}")
    return suite


def _comparable(answer: dict[str, Any]) -> dict[str, Any]:
    """An answer without what differs between two runs of the same thing (id, timings)."""
    out = {k: v for k, v in answer.items() if k not in ("id", "duration_ms")}
    for key in ("scores", "failures"):
        out[key] = [{k: v for k, v in s.items() if k != "duration_ms"} for s in answer[key]]
    return out


async def _post(api: Api, org: Org, body: dict[str, Any], content_type: str) -> httpx.Response:
    return await api.call(
        "POST",
        "/v1/run",
        org,
        content=json.dumps(body).encode(),
        headers={"Content-Type": content_type},
    )


async def test_a_lean_run_answers_as_the_standard_path(api: Api) -> None:
    org = await api.org()
    suite = await _mixed_suite(api, org)
    body = {
        "suite": suite["slug"],
        "output": json.dumps({"answer": "Paris", "year": 2026}),
        "input": {"question": "capital?", "big": 10**30},
        "trigger_meta": {"branch": "main"},
    }
    lean = await _post(api, org, body, "application/json")
    standard = await _post(api, org, body, STANDARD)
    assert lean.status_code == standard.status_code == 200, (lean.text, standard.text)
    assert lean.headers["content-type"] == standard.headers["content-type"]
    assert _comparable(lean.json()) == _comparable(standard.json())
    # The exact bytes too: same keys, same order, same number formats.
    twin = json.dumps(_comparable(standard.json()))
    assert json.dumps(_comparable(json.loads(lean.content))) == twin
    assert lean.json()["status"] == "cleared" and lean.json()["failed_cases"] == 1
    # Both stored, alike; an integer past 64 bits kept as the integer it is.
    stored = [
        await api.ok("GET", f"/v1/runs/{answer.json()['id']}", org) for answer in (lean, standard)
    ]
    assert [s["data"]["input"] for s in stored] == [body["input"]] * 2
    assert stored[0]["data"]["scores"] == lean.json()["scores"]


async def test_a_lean_judge_run_answers_as_the_standard_path(api: Api) -> None:
    """A judge suite goes through the worker on both paths (here its case errs: the
    organisation has no provider key)."""
    org = await api.org()
    project = await api.project(org)
    suite = await api.suite(org, project["slug"], pass_threshold=0.0)
    scorer_bodies: list[dict[str, Any]] = [
        {"type": "contains", "config": {"values": ["hello"]}},
        {"type": "llm_judge", "config": {"rubric": "Is it kind?", "_provider": "openai"}},
    ]
    for scorer_body in scorer_bodies:
        scorer = await api.scorer(org, project["slug"], **scorer_body)
        await api.case(org, suite["id"], scorer["id"])
    body = {"suite": suite["slug"], "output": "hello"}
    lean = await _post(api, org, body, "application/json")
    standard = await _post(api, org, body, STANDARD)
    assert lean.status_code == standard.status_code == 200, (lean.text, standard.text)
    assert _comparable(lean.json()) == _comparable(standard.json())
    assert (lean.json()["status"], lean.json()["error_cases"]) == ("error", 1)


def _request(app: FastAPI, caller: Any, body: bytes, content_type: str | None) -> Request:
    """The request the route hands ``_lean_run``: the app's scope after ``AuthMiddleware``."""
    headers = [(b"content-type", content_type.encode())] if content_type else []
    scope = {
        "type": "http",
        "method": "POST",
        "path": "/v1/run",
        "headers": headers,
        "query_string": b"",
        "app": app,
        "state": {STATE_KEY: caller} if caller is not None else {},
    }
    sent = False

    async def receive() -> dict[str, Any]:
        nonlocal sent
        if sent:
            return {"type": "http.disconnect"}
        sent = True
        return {"type": "http.request", "body": body, "more_body": False}

    return Request(scope, receive)


async def test_the_lean_path_serves_plain_runs_and_leaves_the_rest(api: Api, app: FastAPI) -> None:
    org = await api.org()
    _, suite = await api.gated_suite(org, values=("hello",))
    async with unit_of_work(api.runtime.sessions) as session:
        caller = await authenticate(session, api.runtime, org.headers["Authorization"], "t")
    plain = {"suite": suite["slug"], "output": "hello there"}

    served = await _lean_run(_request(app, caller, json.dumps(plain).encode(), "application/json"))
    assert served is not None and served.status_code == 200
    answer = json.loads(bytes(served.body))
    assert (answer["status"], answer["passed_cases"]) == ("cleared", 1)
    stored = await api.ok("GET", f"/v1/runs/{answer['id']}", org)
    assert stored["data"]["output"] == "hello there"
    # A charset parameter is still JSON.
    with_charset = await _lean_run(
        _request(app, caller, json.dumps(plain).encode(), "application/json; charset=utf-8")
    )
    assert with_charset is not None and with_charset.status_code == 200

    left: dict[str, tuple[Any, bytes, str | None]] = {
        "no caller in the scope": (None, json.dumps(plain).encode(), "application/json"),
        "no Content-Type": (caller, json.dumps(plain).encode(), None),
        "another Content-Type": (caller, json.dumps(plain).encode(), "text/plain"),
        "a +json type": (caller, json.dumps(plain).encode(), STANDARD),
        "JSON that does not parse": (caller, b'{"suite": ', "application/json"),
        "an empty body": (caller, b"", "application/json"),
        "NaN (the standard decoder's)": (
            caller,
            b'{"suite": "%s", "output": "x", "input": {"a": NaN}}' % suite["slug"].encode(),
            "application/json",
        ),
        "an integer past 64 bits": (
            caller,
            json.dumps({**plain, "input": {"n": 2**64}}).encode(),
            "application/json",
        ),
        "a body the model refuses": (caller, json.dumps({"suite": 1}).encode(), "application/json"),
        "an unknown field": (caller, json.dumps({**plain, "x": 1}).encode(), "application/json"),
        "a dry run": (caller, json.dumps({**plain, "dry_run": True}).encode(), "application/json"),
        "an async run": (caller, json.dumps({**plain, "async": True}).encode(), "application/json"),
    }
    for why, (who, raw, content_type) in left.items():
        assert await _lean_run(_request(app, who, raw, content_type)) is None, why


async def test_a_refused_run_is_the_standard_envelope(api: Api) -> None:
    """Errors raised on the lean path (an unknown suite, an empty output) reach the app's
    handlers as the standard path's do."""
    org = await api.org()
    for content_type in ("application/json", STANDARD):
        missing = await _post(api, org, {"suite": "no-such-suite", "output": "x"}, content_type)
        assert missing.status_code == 404, missing.text
        assert missing.json()["error"]["code"] == "NOT_FOUND"
        empty = await _post(api, org, {"suite": "no-such-suite", "output": " "}, content_type)
        assert empty.status_code == 400, empty.text
        assert empty.json()["error"]["code"] == "VALIDATION_ERROR"
