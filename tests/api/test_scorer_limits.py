"""Issue 11, items 1, 2 and 4 (scorer side) through the real app: costly patterns and
non-local `$ref`s are a 400 at creation and on PATCH, and a config stored before those rules
(written straight to the database here) ends its case in error at run time — without
compiling the pattern, reading the file or opening a connection."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft202012Validator
from referencing.exceptions import Unresolvable
from sqlalchemy import update

from launchgate.db import unit_of_work
from launchgate.models import Scorer
from launchgate.scorers.builtin import regex_match
from launchgate.scorers.builtin.json_schema import NO_RETRIEVAL
from launchgate.scorers.builtin.schema_keywords import guarded
from tests.factories import Api, Org, assert_error

CANARY = "CANARY-d41d8cd98f"


class Listener:
    """A TCP server on 127.0.0.1 that counts the connections it is offered."""

    def __init__(self) -> None:
        self.connections = 0
        self.url = ""

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        writer.write(b'HTTP/1.0 200 OK\r\n\r\n{"enum": ["' + CANARY.encode() + b'"]}')
        await writer.drain()
        writer.close()


@pytest.fixture
async def listener() -> AsyncIterator[Listener]:
    spy = Listener()
    server = await asyncio.start_server(spy._accept, "127.0.0.1", 0)
    spy.url = f"http://127.0.0.1:{server.sockets[0].getsockname()[1]}/schema.json"
    async with server:
        yield spy


@pytest.fixture
def canary_file(tmp_path: Path) -> str:
    path = tmp_path / "canary.json"
    path.write_text('{"enum": ["' + CANARY + '"]}')
    return path.as_uri()


@pytest.fixture
def no_compile(monkeypatch: pytest.MonkeyPatch) -> None:
    """regex.compile from the scorers fails loudly instead of allocating: a pattern that
    reaches it was not refused first (and a regression cannot exhaust the machine)."""

    def tripwire(pattern: str, *args: Any, **kwargs: Any) -> Any:
        raise AssertionError(f"regex.compile was called with {pattern[:40]!r}")

    monkeypatch.setattr(regex_match.regex, "compile", tripwire)


async def scorer_in_suite(
    api: Api, type_: str, config: dict[str, Any]
) -> tuple[Org, dict[str, Any], dict[str, Any]]:
    """An org, a scorer (valid config) and a suite with one case using it."""
    org = await api.org()
    project = await api.project(org)
    scorer = await api.scorer(org, project["slug"], type=type_, config=config)
    suite = await api.suite(org, project["slug"])
    await api.case(org, suite["id"], scorer["id"], name="the case")
    return org, scorer, suite


async def store_config(api: Api, scorer_id: str, config: dict[str, Any]) -> None:
    """Write a config as a release without today's checks would have stored it."""
    async with unit_of_work(api.runtime.sessions) as session:
        await session.execute(
            update(Scorer).where(Scorer.id == uuid.UUID(scorer_id)).values(config=config)
        )


async def create(api: Api, org: Org, type_: str, config: dict[str, Any]) -> Any:
    project = await api.project(org)
    body = {"name": "s", "type": type_, "config": config}
    return await api.call("POST", f"/v1/projects/{project['slug']}/scorers", org, json=body)


# --- item 1: memory bombs in patterns -------------------------------------------------------


@pytest.mark.parametrize(
    ("type_", "config", "field"),
    [
        ("regex", {"pattern": "a{1000000000}"}, "config.pattern"),
        ("regex", {"pattern": "(a{1000}){1000}x"}, "config.pattern"),
        ("json_schema", {"schema": {"pattern": "a{1000000000}"}}, "config.schema.pattern"),
        (
            "json_schema",
            {"schema": {"patternProperties": {"(a{1000}){1000}x": {}}}},
            "config.schema.patternProperties",
        ),
    ],
)
async def test_a_costly_pattern_is_a_400_naming_the_limit(
    api: Api, no_compile: None, type_: str, config: dict[str, Any], field: str
) -> None:
    org = await api.org()
    error = assert_error(await create(api, org, type_, config), 400, "VALIDATION_ERROR")
    assert "the limit is" in error["message"]
    assert error["details"][0]["field"] == field


async def test_a_costly_pattern_is_a_400_on_patch_too(api: Api) -> None:
    org, scorer, _ = await scorer_in_suite(api, "regex", {"pattern": "ok"})
    body = {"config": {"pattern": "(a{1000}){1000}x"}}
    response = await api.call("PATCH", f"/v1/scorers/{scorer['id']}", org, json=body)
    assert "expands to" in assert_error(response, 400, "VALIDATION_ERROR")["message"]


async def test_a_stored_costly_pattern_ends_its_case_in_error(api: Api, no_compile: None) -> None:
    org, scorer, suite = await scorer_in_suite(api, "regex", {"pattern": "ok"})
    await store_config(
        api, scorer["id"], {"pattern": "a{1000000000}", "flags": "", "should_match": True}
    )
    run = await api.run(org, suite["slug"], "aaaa")
    assert run["status"] == "error"
    case = run["scores"][0]
    assert case["status"] == "error" and case["reason"].startswith("Pattern refused: Repeat count")


async def test_a_stored_costly_schema_pattern_ends_its_case_in_error(
    api: Api, no_compile: None
) -> None:
    org, scorer, suite = await scorer_in_suite(api, "json_schema", {"schema": {}})
    await store_config(api, scorer["id"], {"schema": {"pattern": "(a{1000}){1000}x"}})
    run = await api.run(org, suite["slug"], '"aaa"')
    assert run["scores"][0]["status"] == "error"
    assert run["scores"][0]["reason"].startswith("The schema is refused: ")


# --- item 2: remote $ref --------------------------------------------------------------------


async def test_a_file_ref_is_a_400_and_its_content_is_never_shown(
    api: Api, canary_file: str
) -> None:
    org = await api.org()
    response = await create(api, org, "json_schema", {"schema": {"$ref": canary_file}})
    error = assert_error(response, 400, "VALIDATION_ERROR")
    assert "not a local reference" in error["message"]
    assert CANARY not in response.text


async def test_a_stored_file_ref_is_refused_at_run_time(api: Api, canary_file: str) -> None:
    org, scorer, suite = await scorer_in_suite(api, "json_schema", {"schema": {}})
    await store_config(api, scorer["id"], {"schema": {"$ref": canary_file}})
    response = await api.call("POST", "/v1/run", org, json={"suite": suite["slug"], "output": "1"})
    assert response.status_code == 200 and CANARY not in response.text
    run = response.json()
    assert run["status"] == "error" and run["scores"][0]["status"] == "error"
    assert "not a local reference" in run["scores"][0]["reason"]
    stored = await api.call("GET", f"/v1/runs/{run['id']}", org)
    assert stored.status_code == 200 and CANARY not in stored.text


async def test_an_http_ref_is_a_400_and_nothing_connects(api: Api, listener: Listener) -> None:
    org = await api.org()
    for schema in (
        {"$ref": listener.url},
        {"properties": {"a": {"$ref": listener.url + "#/x"}}},
        {"$id": listener.url, "$ref": "other.json"},
        {"$dynamicRef": listener.url},
    ):
        response = await create(api, org, "json_schema", {"schema": schema})
        assert_error(response, 400, "VALIDATION_ERROR")
    org_, scorer, _ = await scorer_in_suite(api, "json_schema", {"schema": {}})
    patch = {"config": {"schema": {"$ref": listener.url}}}
    response = await api.call("PATCH", f"/v1/scorers/{scorer['id']}", org_, json=patch)
    assert_error(response, 400, "VALIDATION_ERROR")
    assert listener.connections == 0


async def test_a_stored_http_ref_makes_no_connection_at_run_time(
    api: Api, listener: Listener
) -> None:
    org, scorer, suite = await scorer_in_suite(api, "json_schema", {"schema": {}})
    for schema in (
        {"$ref": listener.url},
        {"properties": {"a": {"$dynamicRef": listener.url + "#meta"}}},
    ):
        await store_config(api, scorer["id"], {"schema": schema})
        response = await api.call(
            "POST", "/v1/run", org, json={"suite": suite["slug"], "output": '{"a": 1}'}
        )
        assert response.status_code == 200 and CANARY not in response.text
        assert response.json()["scores"][0]["status"] == "error"
    assert listener.connections == 0


# --- item 4, scorer side: numbers have ranges -----------------------------------------------


@pytest.mark.parametrize(
    ("key", "value", "bounds"),
    [
        ("cache_ttl_s", 10**12, "between 0 and 2592000"),
        ("max_tokens", 10**9, "between 1 and 65536"),
        ("samples", 1000, "between 1 and 20"),
        ("temperature", 1e300, "between 0.0 and 2.0"),
    ],
)
async def test_judge_numbers_out_of_range_are_a_400(
    api: Api, key: str, value: Any, bounds: str
) -> None:
    org = await api.org()
    config = {"rubric": "be kind", "_provider": "openai", key: value}
    error = assert_error(await create(api, org, "llm_judge", config), 400, "VALIDATION_ERROR")
    assert bounds in error["message"] and error["details"][0]["field"] == f"config.{key}"


async def test_the_validator_itself_cannot_fetch(listener: Listener) -> None:
    # Beneath the check: a validator built as the scorer builds it, on a remote reference.
    validator = guarded(Draft202012Validator)({"$ref": listener.url}, registry=NO_RETRIEVAL)
    with pytest.raises(Unresolvable):
        await asyncio.to_thread(lambda: list(validator.iter_errors(1)))
    assert listener.connections == 0
