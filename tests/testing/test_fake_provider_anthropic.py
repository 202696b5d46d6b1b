"""Anthropic Messages API: x-api-key, anthropic-version, tool_use structured output."""

from __future__ import annotations

import httpx

from launchgate.testing.fake_provider import FakeProviderServer
from tests.testing.conftest import ANTHROPIC_HEADERS, ANTHROPIC_KEY, OPENAI_KEY, anthropic_message


async def test_anthropic_models(client: httpx.AsyncClient) -> None:
    response = await client.get("/v1/models", headers=ANTHROPIC_HEADERS)
    assert response.status_code == 200
    body = response.json()
    assert body["has_more"] is False
    assert body["first_id"] == body["data"][0]["id"]
    assert body["data"][0]["type"] == "model"
    assert {"id", "display_name", "created_at"} <= set(body["data"][0])
    assert response.headers["request-id"].startswith("req_")


async def test_v1_models_is_openai_without_anthropic_headers(client: httpx.AsyncClient) -> None:
    response = await client.get("/v1/models", headers={"Authorization": f"Bearer {OPENAI_KEY}"})
    assert response.json()["object"] == "list"


async def test_forced_tool_returns_tool_use(client: httpx.AsyncClient) -> None:
    response = await client.post(
        "/v1/messages", headers=ANTHROPIC_HEADERS, json=anthropic_message("FAKE_SCORE=0.75")
    )
    assert response.status_code == 200
    message = response.json()
    assert message["id"].startswith("msg_")
    assert message["type"] == "message"
    assert message["role"] == "assistant"
    assert message["model"] == "claude-sonnet-4-20250514"
    assert message["stop_reason"] == "tool_use"
    [block] = message["content"]
    assert block["type"] == "tool_use"
    assert block["name"] == "record_verdict"
    assert block["id"].startswith("toolu_")
    assert block["input"]["score"] == 0.75
    assert isinstance(block["input"]["reasoning"], str)
    assert message["usage"]["input_tokens"] > 0 and message["usage"]["output_tokens"] > 0


async def test_without_tools_answers_text(client: httpx.AsyncClient) -> None:
    body = anthropic_message("FAKE_SCORE=0.5")
    del body["tools"], body["tool_choice"]
    response = await client.post("/v1/messages", headers=ANTHROPIC_HEADERS, json=body)
    message = response.json()
    assert message["stop_reason"] == "end_turn"
    assert message["content"][0]["type"] == "text"
    assert '"score": 0.5' in message["content"][0]["text"]


async def test_anthropic_auth_errors(client: httpx.AsyncClient) -> None:
    wrong = await client.post(
        "/v1/messages",
        json=anthropic_message(),
        headers={**ANTHROPIC_HEADERS, "x-api-key": "sk-ant-api03-nope"},
    )
    assert wrong.status_code == 401
    body = wrong.json()
    assert body["type"] == "error"
    assert body["error"] == {"type": "authentication_error", "message": "invalid x-api-key"}
    assert body["request_id"].startswith("req_")
    missing = await client.post(
        "/v1/messages", json=anthropic_message(), headers={"anthropic-version": "2023-06-01"}
    )
    assert missing.json()["error"]["message"] == "x-api-key header is required"


async def test_anthropic_version_header_required(client: httpx.AsyncClient) -> None:
    response = await client.post(
        "/v1/messages", headers={"x-api-key": ANTHROPIC_KEY}, json=anthropic_message()
    )
    assert response.status_code == 400
    assert response.json()["error"] == {
        "type": "invalid_request_error",
        "message": "anthropic-version: header is required",
    }
    bad = await client.post(
        "/v1/messages",
        json=anthropic_message(),
        headers={**ANTHROPIC_HEADERS, "anthropic-version": "2024-99-99"},
    )
    assert bad.status_code == 400
    assert "is not a valid version" in bad.json()["error"]["message"]


async def test_anthropic_body_checks(client: httpx.AsyncClient) -> None:
    body = anthropic_message()
    del body["max_tokens"]
    response = await client.post("/v1/messages", headers=ANTHROPIC_HEADERS, json=body)
    assert response.status_code == 400
    assert response.json()["error"]["message"] == "max_tokens: Field required"
    body = anthropic_message(messages=[])
    response = await client.post("/v1/messages", headers=ANTHROPIC_HEADERS, json=body)
    assert response.json()["error"]["message"] == "messages: at least one message is required"
    body = anthropic_message(tool_choice={"type": "tool", "name": "missing"})
    response = await client.post("/v1/messages", headers=ANTHROPIC_HEADERS, json=body)
    assert response.status_code == 400
    assert response.json()["error"]["type"] == "invalid_request_error"


async def test_anthropic_garbage_policy_has_no_tool_use(
    fake: FakeProviderServer, client: httpx.AsyncClient
) -> None:
    fake.configure(providers={"anthropic": {"policy": {"kind": "garbage"}}})
    response = await client.post(
        "/v1/messages", headers=ANTHROPIC_HEADERS, json=anthropic_message()
    )
    message = response.json()
    assert [b["type"] for b in message["content"]] == ["text"]
    assert message["stop_reason"] == "end_turn"
