"""Anthropic Messages API wire format: `x-api-key`, `anthropic-version`, `/v1/messages`.

Structured output comes back as a `tool_use` content block whose `input` is the judge
answer, as when `tool_choice` forces a tool. Errors are
`{"type": "error", "error": {"type", "message"}, "request_id"}`; overload is HTTP 529.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from launchgate.testing.fake_provider.dialect import (
    Dialect,
    cached_tokens,
    count_tokens,
    random_id,
    text_of,
)
from launchgate.testing.fake_provider.state import Answer, Scripted

VERSIONS = ("2023-06-01", "2023-01-01")
MODELS = [
    ("claude-sonnet-4-20250514", "Claude Sonnet 4", "2025-05-22T00:00:00Z"),
    ("claude-opus-4-20250514", "Claude Opus 4", "2025-05-22T00:00:00Z"),
    ("claude-3-5-haiku-20241022", "Claude Haiku 3.5", "2024-10-22T00:00:00Z"),
]
TOOL_CHOICES = ("auto", "any", "tool", "none")
# The tool-use system prompt Anthropic documents adding when tools are present.
TOOL_PROMPT_TOKENS = {"auto": 313, "none": 313, "any": 346, "tool": 346}
CREDIT = (
    "Your credit balance is too low to access the Anthropic API. Please go to Plans & "
    "Billing to upgrade or purchase credits."
)
BASE62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"


class AnthropicDialect(Dialect):
    """api.anthropic.com: `/v1/models`, `/v1/messages`."""

    provider = "anthropic"

    def headers(self) -> dict[str, str]:
        return {"request-id": self._new_request_id()}

    def _new_request_id(self) -> str:
        return "req_011C" + random_id(20, BASE62)

    def error(
        self, status: int, type_: str, message: str, headers: dict[str, str] | None = None
    ) -> Response:
        request_id = self._new_request_id()
        body = {
            "type": "error",
            "error": {"type": type_, "message": message},
            "request_id": request_id,
        }
        return self.json(status, body, {"request-id": request_id, **(headers or {})})

    def credential(self, request: Request) -> str | None:
        return request.headers.get("x-api-key") or None

    def missing_key(self) -> Response:
        return self.error(401, "authentication_error", "x-api-key header is required")

    def invalid_key(self, key: str) -> Response:
        return self.error(401, "authentication_error", "invalid x-api-key")

    def check_headers(self, request: Request) -> Response | None:
        version = request.headers.get("anthropic-version")
        if not version:
            return self.error(400, "invalid_request_error", "anthropic-version: header is required")
        if version not in VERSIONS:
            return self.error(
                400,
                "invalid_request_error",
                f'anthropic-version: "{version}" is not a valid version',
            )
        return None

    def bad_json(self) -> Response:
        return self.error(
            400,
            "invalid_request_error",
            "There was an error parsing the body of your request. Please check "
            "that the body is valid JSON.",
        )

    def validate(self, body: dict[str, Any]) -> Response | None:
        for name in ("model", "max_tokens", "messages"):
            if name not in body:
                return self._invalid(f"{name}: Field required")
        max_tokens = body["max_tokens"]
        if not isinstance(max_tokens, int) or isinstance(max_tokens, bool) or max_tokens < 1:
            return self._invalid(
                "max_tokens: Input should be a valid integer greater than or equal to 1"
            )
        messages = body["messages"]
        if not isinstance(messages, list):
            return self._invalid("messages: Input should be a valid list")
        if not messages:
            return self._invalid("messages: at least one message is required")
        for index, message in enumerate(messages):
            if not isinstance(message, dict) or message.get("role") not in ("user", "assistant"):
                return self._invalid(
                    f"messages.{index}.role: Input should be 'user' or 'assistant'"
                )
        temperature = body.get("temperature")
        if isinstance(temperature, int | float) and not 0 <= temperature <= 1:
            return self._invalid("temperature: Input should be less than or equal to 1")
        return self._check_tools(body)

    def _check_tools(self, body: dict[str, Any]) -> Response | None:
        tools = body.get("tools") or []
        if not isinstance(tools, list) or not all(
            isinstance(t, dict) and t.get("name") for t in tools
        ):
            return self._invalid("tools: each tool needs a name")
        choice = body.get("tool_choice")
        if choice is None:
            return None
        if not isinstance(choice, dict) or choice.get("type") not in TOOL_CHOICES:
            return self._invalid(
                "tool_choice: Input tag does not match any of the expected "
                "tags: 'auto', 'any', 'tool', 'none'"
            )
        if choice["type"] in ("any", "tool") and not tools:
            return self._invalid(
                "tool_choice: tool_choice may only be specified while providing tools."
            )
        if choice["type"] == "tool" and choice.get("name") not in {t["name"] for t in tools}:
            return self._invalid(
                f"tool_choice: Tool '{choice.get('name')}' not found in provided tools"
            )
        return None

    def _invalid(self, message: str) -> Response:
        return self.error(400, "invalid_request_error", message)

    def models(self, request: Request, name: str | None = None) -> Response:
        data = [
            {"type": "model", "id": model, "display_name": display, "created_at": created}
            for model, display, created in MODELS
        ]
        return self.json(
            200,
            {"data": data, "has_more": False, "first_id": data[0]["id"], "last_id": data[-1]["id"]},
        )

    def prompt_text(self, body: dict[str, Any]) -> str:
        messages = body.get("messages") or []
        parts = [text_of(body.get("system"))]
        parts += [text_of(m.get("content")) for m in messages if isinstance(m, dict)]
        return "\n".join(parts)

    def chat(self, body: dict[str, Any], model: str, answer: Answer, prompt: str) -> Response:
        tool = chosen_tool(body)
        if tool and answer.payload is not None:
            block: dict[str, Any] = {
                "type": "tool_use",
                "id": "toolu_01" + random_id(22, BASE62),
                "name": tool,
                "input": answer.payload,
            }
            stop_reason, output = "tool_use", json.dumps(answer.payload)
        else:
            block = {"type": "text", "text": answer.text}
            stop_reason, output = "end_turn", answer.text
        # Anthropic reports cache reads apart: input_tokens is the uncached rest.
        total = input_tokens(body, prompt)
        cached = cached_tokens(prompt, total)
        usage = {
            "input_tokens": total - cached,
            "cache_creation_input_tokens": 0,
            "cache_read_input_tokens": cached,
            "output_tokens": count_tokens(output) + 8,
            "service_tier": "standard",
        }
        message = {
            "id": "msg_01" + random_id(22, BASE62),
            "type": "message",
            "role": "assistant",
            "model": model,
            "content": [block],
            "stop_reason": stop_reason,
            "stop_sequence": None,
            "usage": usage,
        }
        return self.json(200, message)

    def rate_limited(self, item: Scripted, request: Request, model: str) -> Response:
        reset = datetime.now(UTC) + timedelta(seconds=item.retry_after or 1)
        headers = {
            "anthropic-ratelimit-requests-limit": "50",
            "anthropic-ratelimit-requests-remaining": "0",
            "anthropic-ratelimit-requests-reset": reset.strftime("%Y-%m-%dT%H:%M:%SZ"),
        }
        message = (
            "This request would exceed the rate limit for your organization "
            "(00000000-0000-4000-8000-fakeprovider) of 50 requests per minute. For "
            "details, refer to: https://docs.claude.com/en/api/rate-limits. You can see "
            "the response headers for current usage. Please reduce the prompt length or "
            "the maximum tokens requested, or try again later. You may also contact "
            "sales at https://www.anthropic.com/contact-sales to discuss your options "
            "for a rate limit increase."
        )
        return self.error(429, "rate_limit_error", message, headers)

    def quota_exhausted(self, item: Scripted, request: Request, model: str) -> Response:
        return self.error(400, "invalid_request_error", CREDIT)

    def server_error(self, item: Scripted, request: Request, model: str) -> Response:
        return self.error(500, "api_error", "Internal server error")

    def overloaded(self, item: Scripted, request: Request, model: str) -> Response:
        return self.error(529, "overloaded_error", "Overloaded")


def chosen_tool(body: dict[str, Any]) -> str | None:
    """The tool the fake model calls: the forced one, else the first, unless told none."""
    tools = body.get("tools") or []
    choice = body.get("tool_choice") or {"type": "auto"}
    if not tools or choice.get("type") == "none":
        return None
    if choice.get("type") == "tool":
        return str(choice["name"])
    return str(tools[0]["name"])


def input_tokens(body: dict[str, Any], prompt: str) -> int:
    tools = body.get("tools") or []
    if not tools:
        return count_tokens(prompt) + 8
    choice = (body.get("tool_choice") or {}).get("type", "auto")
    return count_tokens(prompt) + count_tokens(json.dumps(tools)) + TOOL_PROMPT_TOKENS[choice]
