"""X-Request-ID: taken when safe, else made; echoed; on every log line of the request and
of the job it sent through the queue; LAUNCHGATE_LOG_FORMAT=json writes JSON lines."""

from __future__ import annotations

import asyncio
import io
import json
import logging
import uuid
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from launchgate.testing.fake_provider import FakeProviderServer
from tests.byok.conftest import provider_settings
from tests.conftest import started
from tests.factories import Api, Org
from tests.judge.test_judge_runs import judge_suite


@pytest.fixture(scope="module")
async def json_app(
    database_url: str, tmp_path_factory: pytest.TempPathFactory, fake_provider: FakeProviderServer
) -> AsyncIterator[FastAPI]:
    from launchgate.app import create_app

    settings = provider_settings(
        database_url,
        tmp_path_factory.mktemp("json-logs"),
        fake_provider,
        log_format="json",
        log_level="DEBUG",
    )
    async for running in started(create_app(settings)):
        yield running


@pytest.fixture
async def japi(json_app: FastAPI) -> AsyncIterator[Api]:
    from launchgate.app import create_app  # noqa: F401  (the same app, re-configured below)
    from launchgate.observability import setup_process

    # Another module's app may have configured the process's logs since: this one's again.
    setup_process(json_app.state.runtime.settings, "launchgate-api")
    transport = httpx.ASGITransport(app=json_app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        yield Api(client, json_app.state.runtime)


def _lines(text: str) -> list[dict[str, Any]]:
    """Every line written, each parsed as one JSON object (a line that is not fails)."""
    return [json.loads(line) for line in text.splitlines() if line.strip()]


@pytest.mark.parametrize(
    ("sent", "kept"),
    [
        ("build-42.attempt:1_x", True),
        ("a" * 128, True),
        ("a" * 129, False),
        ("two words", False),
        ("evil\u00e9", False),
        ("<script>", False),
        ("", False),
    ],
)
async def test_a_safe_request_id_is_echoed_and_another_replaced(
    japi: Api, sent: str, kept: bool
) -> None:
    headers = {"X-Request-ID": sent.encode("utf-8")} if sent else {}
    response = await japi.client.get("/health", headers=headers)  # type: ignore[arg-type]
    echoed = response.headers["x-request-id"]
    if kept:
        assert echoed == sent
    else:
        assert echoed != sent and len(echoed) == 32 and echoed.isalnum()


async def test_each_request_without_one_gets_its_own(japi: Api) -> None:
    ids = {(await japi.client.get("/health")).headers["x-request-id"] for _ in range(3)}
    assert len(ids) == 3
    org = await japi.org()
    refused = await japi.client.get("/v1/projects")  # answered before routing: still echoed
    assert refused.status_code == 401 and refused.headers["x-request-id"]
    assert (await japi.call("GET", "/v1/projects", org)).headers["x-request-id"]


async def _poll(api: Api, org: Org, run_id: str) -> dict[str, Any]:
    for _ in range(400):
        run: dict[str, Any] = (await api.ok("GET", f"/v1/runs/{run_id}", org))["data"]
        if run["status"] not in ("pending", "running"):
            return run
        await asyncio.sleep(0.025)
    pytest.fail(f"run {run_id} did not finish")


async def test_the_request_id_is_on_the_lines_of_its_job_and_they_are_json(
    japi: Api, fake_provider: FakeProviderServer, capsys: pytest.CaptureFixture[str]
) -> None:
    org = await japi.org()
    suite, key = await judge_suite(japi, org, fake_provider, "openai")
    capsys.readouterr()
    request_id = "ci-run-" + org.key[-8:]
    response = await japi.call(
        "POST",
        "/v1/run",
        org,
        json={"suite": suite["slug"], "output": "thanks FAKE_SCORE=0.9", "async": True},
        headers={"X-Request-ID": request_id},
    )
    assert response.status_code == 202 and response.headers["x-request-id"] == request_id
    run_id = response.json()["id"]
    assert (await _poll(japi, org, run_id))["status"] == "cleared"
    captured = capsys.readouterr()
    lines = _lines(captured.out) + _lines(captured.err)
    ours = [line for line in lines if line.get("request_id") == request_id]
    events = {(line["event"], line.get("job")) for line in ours}
    assert ("request", None) in events  # the POST's own access line
    assert ("job finished", "run.execute") in events  # the job it sent, through the queue
    job = next(line for line in ours if line["event"] == "job finished")
    assert job["level"] == "debug" and job["timestamp"] and job["duration_ms"] >= 0
    for line in lines:
        assert key not in json.dumps(line) and key[:12] not in json.dumps(line)


def test_standard_library_records_are_json_lines_too() -> None:
    """uvicorn's and the libraries' records: the same shape, scrubbed, request id included."""
    from launchgate.logging import configure
    from launchgate.observability import context

    # Fresh names: alembic's fileConfig disables the loggers existing when it runs.
    library, ours = (f"{name}.{uuid.uuid4().hex}" for name in ("library", "launchgate"))
    out = io.StringIO()
    handler = logging.StreamHandler(out)
    root = logging.getLogger()
    root.addHandler(handler)
    try:
        configure("INFO", fmt="json")
        with context.bound("req-1"):
            logging.getLogger(library).warning("key sk-%s refused", "a" * 30)
        try:
            raise ValueError("boom")
        except ValueError:
            logging.getLogger(ours).exception("failed")
    finally:
        root.removeHandler(handler)
    first, second = _lines(out.getvalue())
    assert first["event"].startswith("key sk-aaaaa") and "a" * 30 not in first["event"]
    assert first["level"] == "warning" and first["logger"] == library
    assert first["request_id"] == "req-1" and first["timestamp"]
    assert "request_id" not in second and "ValueError: boom" in second["exception"]
