"""Traces: with an in-memory exporter, one trace id runs from the HTTP request through the
queue into the job, its database statements, the judge call and its HTTP request to the
provider; the spans name the provider, model, attempt and tokens, never the key, the
prompt or the output."""

from __future__ import annotations

import asyncio
import json
import secrets
from collections.abc import AsyncIterator, Iterator
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from launchgate.observability import tracing
from launchgate.testing.fake_provider import FakeProviderServer
from tests.byok.conftest import provider_settings
from tests.conftest import started
from tests.factories import Api, Org
from tests.judge.test_judge_runs import judge_suite


@pytest.fixture(scope="module")
def exporter() -> Iterator[InMemorySpanExporter]:
    spans = InMemorySpanExporter()
    assert tracing.setup("launchgate-test", exporter=spans)
    yield spans
    tracing.shutdown()  # off again for the other modules


@pytest.fixture(scope="module")
async def traced_app(
    database_url: str,
    tmp_path_factory: pytest.TempPathFactory,
    fake_provider: FakeProviderServer,
    exporter: InMemorySpanExporter,
) -> AsyncIterator[FastAPI]:
    from launchgate.app import create_app

    settings = provider_settings(database_url, tmp_path_factory.mktemp("traced"), fake_provider)
    async for running in started(create_app(settings)):
        yield running


@pytest.fixture
async def tapi(traced_app: FastAPI) -> AsyncIterator[Api]:
    transport = httpx.ASGITransport(app=traced_app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        yield Api(client, traced_app.state.runtime)


async def _finished(api: Api, org: Org, run_id: str) -> dict[str, Any]:
    for _ in range(400):
        run: dict[str, Any] = (await api.ok("GET", f"/v1/runs/{run_id}", org))["data"]
        if run["status"] not in ("pending", "running"):
            return run
        await asyncio.sleep(0.025)
    pytest.fail(f"run {run_id} did not finish")


def _text(span: ReadableSpan) -> str:
    return span.name + json.dumps(dict(span.attributes or {}), default=str)


async def test_one_trace_from_the_request_to_the_provider(
    tapi: Api, fake_provider: FakeProviderServer, exporter: InMemorySpanExporter
) -> None:
    org = await tapi.org()
    canary_key = "sk-test-CANARYKEY" + secrets.token_hex(12)
    canary_output = "CANARYOUTPUT" + secrets.token_hex(8)
    suite, _ = await judge_suite(tapi, org, fake_provider, "openai", key=canary_key)
    exporter.clear()
    response = await tapi.call(
        "POST",
        "/v1/run",
        org,
        json={"suite": suite["slug"], "output": f"thanks {canary_output} FAKE_SCORE=0.9",
              "async": True},
    )  # fmt: skip
    assert response.status_code == 202
    run = await _finished(tapi, org, response.json()["id"])
    assert run["status"] == "cleared"
    await asyncio.sleep(0.05)  # the job's span ends just after the run is written
    spans = exporter.get_finished_spans()
    request = next(s for s in spans if s.name == "POST /v1/run")
    trace_id = request.context.trace_id
    chain = [s for s in spans if s.context.trace_id == trace_id]
    names = {s.name for s in chain}
    assert "job run.execute" in names
    assert "launchgate.judge.call" in names and "POST openai" in names
    assert any(s.attributes and s.attributes.get("db.system.name") for s in chain)
    job = next(s for s in chain if s.name == "job run.execute")
    judge = next(s for s in chain if s.name == "launchgate.judge.call")
    call = next(s for s in chain if s.name == "POST openai")
    assert request.attributes is not None and judge.attributes is not None
    assert call.attributes is not None
    assert request.attributes["http.route"] == "/v1/run"
    assert request.attributes["http.response.status_code"] == 202
    assert judge.attributes["launchgate.provider"] == "openai"
    assert judge.attributes["launchgate.attempt"] == 1
    assert int(str(judge.attributes["gen_ai.usage.input_tokens"])) > 0
    assert int(str(judge.attributes["gen_ai.usage.output_tokens"])) > 0
    assert judge.attributes["gen_ai.response.model"]
    assert call.parent is not None and call.parent.span_id == judge.context.span_id
    assert job.parent is not None and job.parent.trace_id == trace_id
    assert call.attributes["http.response.status_code"] == 200
    for span in spans:
        text = _text(span)
        assert canary_key[8:] not in text and canary_key[:12] not in text
        assert canary_output not in text and "polite and correct" not in text  # the rubric


async def test_a_request_joins_its_callers_trace(tapi: Api, exporter: InMemorySpanExporter) -> None:
    exporter.clear()
    parent = "00-" + "ab" * 16 + "-" + "cd" * 8 + "-01"
    response = await tapi.client.get("/health", headers={"traceparent": parent})
    assert response.status_code == 200
    span = next(s for s in exporter.get_finished_spans() if s.name == "GET /health")
    assert span.context.trace_id == int("ab" * 16, 16)
    assert span.parent is not None and span.parent.span_id == int("cd" * 8, 16)
