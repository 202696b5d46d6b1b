"""One fake provider server for the session, reset before every test, and an HTTP client."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import httpx
import pytest

from launchgate.testing.fake_provider import FakeProviderServer

OPENAI_KEY = "sk-test-openai-0001"
ANTHROPIC_KEY = "sk-ant-test-anthropic-0001"
GOOGLE_KEY = "AIza-test-google-0001"
AZURE_KEY = "azure-test-azure-0001"
ANTHROPIC_HEADERS = {"x-api-key": ANTHROPIC_KEY, "anthropic-version": "2023-06-01"}
AZURE_QUERY = {"api-version": "2024-10-21"}


@pytest.fixture(scope="session")
def fake_server() -> Iterator[FakeProviderServer]:
    with FakeProviderServer() as server:
        yield server


@pytest.fixture
def fake(fake_server: FakeProviderServer) -> FakeProviderServer:
    fake_server.reset()
    return fake_server


@pytest.fixture
async def client(fake: FakeProviderServer) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=fake.base_url, timeout=10) as http:
        yield http


def openai_chat(content: str = "Rate this.", **extra: object) -> dict[str, object]:
    schema = {
        "type": "object",
        "properties": {"reasoning": {"type": "string"}, "score": {"type": "number"}},
    }
    return {
        "model": "gpt-4o",
        "temperature": 0,
        "messages": [
            {"role": "system", "content": "You are a judge."},
            {"role": "user", "content": content},
        ],
        "response_format": {
            "type": "json_schema",
            "json_schema": {"name": "verdict", "schema": schema, "strict": True},
        },
        **extra,
    }


def anthropic_message(content: str = "Rate this.", **extra: object) -> dict[str, object]:
    tool = {
        "name": "record_verdict",
        "description": "Record the verdict.",
        "input_schema": {
            "type": "object",
            "properties": {"reasoning": {"type": "string"}, "score": {"type": "number"}},
        },
    }
    return {
        "model": "claude-sonnet-4-20250514",
        "max_tokens": 1024,
        "temperature": 0,
        "system": "You are a judge.",
        "messages": [{"role": "user", "content": content}],
        "tools": [tool],
        "tool_choice": {"type": "tool", "name": "record_verdict"},
        **extra,
    }


def gemini_request(content: str = "Rate this.", **extra: object) -> dict[str, object]:
    return {
        "systemInstruction": {"parts": [{"text": "You are a judge."}]},
        "contents": [{"role": "user", "parts": [{"text": content}]}],
        "generationConfig": {
            "temperature": 0,
            "responseMimeType": "application/json",
            "responseSchema": {"type": "OBJECT"},
        },
        **extra,
    }
