"""Anthropic Messages API: ``x-api-key`` + ``anthropic-version``, ``/v1/models``, ``/v1/messages``.

Structured output is a single tool whose ``input_schema`` is the schema, forced with
``tool_choice: {"type": "tool"}``; the reply is that ``tool_use`` block's input.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from launchgate.providers.credential import Credential, ProviderSettings
from launchgate.providers.errors import (
    ProviderError,
    ProviderQuotaExhausted,
    ProviderServerError,
    status_error,
)
from launchgate.providers.http import HttpClient, send
from launchgate.providers.schemas import DEFAULT_MAX_TOKENS, ChatReply, ChatRequest

PROVIDER = "anthropic"
# A 400 about money: spend limits ("You have reached your specified API usage limits") and
# an empty prepaid balance ("Your credit balance is too low to access the Anthropic API").
_QUOTA_PHRASES = ("credit balance", "usage limits", "spend limit")


async def list_models(
    http: HttpClient, credential: Credential, settings: ProviderSettings
) -> list[str]:
    """``GET /v1/models`` (first page, newest first)."""
    body = await send(
        http,
        "GET",
        f"{settings.anthropic_base_url.rstrip('/')}/v1/models",
        provider=PROVIDER,
        secret=credential.secret,
        read_error=read_error,
        timeout_s=settings.timeout_s,
        headers=_headers(credential, settings),
    )
    data = body.get("data")
    if not isinstance(data, list):
        raise ProviderServerError(PROVIDER, "anthropic answered /v1/models without a data list")
    return [str(item["id"]) for item in data if isinstance(item, dict) and "id" in item]


async def chat(
    http: HttpClient, credential: Credential, settings: ProviderSettings, request: ChatRequest
) -> ChatReply:
    """``POST /v1/messages``."""
    body = await send(
        http,
        "POST",
        f"{settings.anthropic_base_url.rstrip('/')}/v1/messages",
        provider=PROVIDER,
        secret=credential.secret,
        read_error=read_error,
        timeout_s=settings.timeout_s,
        headers=_headers(credential, settings),
        body=_body(request),
    )
    return _reply(body, request)


def _headers(credential: Credential, settings: ProviderSettings) -> dict[str, str]:
    return {"x-api-key": credential.secret, "anthropic-version": settings.anthropic_version}


def _body(request: ChatRequest) -> dict[str, Any]:
    body: dict[str, Any] = {
        "model": request.model,
        # Required by the Messages API, unlike the other providers.
        "max_tokens": request.max_tokens or DEFAULT_MAX_TOKENS,
        "messages": [{"role": "user", "content": request.user}],
        "temperature": request.temperature,
    }
    if request.system:
        body["system"] = request.system
    if request.schema is not None:
        body["tools"] = [
            {
                "name": request.schema_name,
                "description": "Record the answer in this exact structure.",
                "input_schema": request.schema,
            }
        ]
        body["tool_choice"] = {"type": "tool", "name": request.schema_name}
    return body


def _reply(body: dict[str, Any], request: ChatRequest) -> ChatReply:
    blocks = body.get("content")
    if not isinstance(blocks, list):
        raise ProviderServerError(PROVIDER, "anthropic answered without content blocks")
    tool_inputs = [
        block.get("input")
        for block in blocks
        if isinstance(block, dict)
        and block.get("type") == "tool_use"
        and block.get("name") == request.schema_name
    ]
    if request.schema is not None and tool_inputs:
        text = json.dumps(tool_inputs[0])
    else:
        text = "".join(
            str(block.get("text", ""))
            for block in blocks
            if isinstance(block, dict) and block.get("type") == "text"
        )
    usage = body.get("usage") or {}
    # Cached prompt tokens are reported apart from input_tokens; all of them were read.
    input_tokens = sum(
        int(usage.get(name) or 0)
        for name in ("input_tokens", "cache_creation_input_tokens", "cache_read_input_tokens")
    )
    return ChatReply(
        text=text,
        model=str(body.get("model") or request.model),
        input_tokens=input_tokens,
        output_tokens=int(usage.get("output_tokens") or 0),
        raw=body,
        # Reads from the prompt cache (billed at its price); cache writes count as input.
        cached_input_tokens=int(usage.get("cache_read_input_tokens") or 0),
    )


def read_error(status: int, headers: Mapping[str, str], body: Any) -> ProviderError:
    """Anthropic's shape: ``{"type": "error", "error": {"type", "message"}, "request_id"}``."""
    error = body.get("error") if isinstance(body, dict) else None
    if not isinstance(error, dict):
        return status_error(PROVIDER, status, headers, body)
    kind = str(error.get("type") or "")
    message = str(error.get("message") or kind or "")
    details = error.get("details")
    details = details if isinstance(details, dict) else {}
    if (
        kind == "billing_error"
        or (status == 400 and any(phrase in message.lower() for phrase in _QUOTA_PHRASES))
        or (status == 429 and details.get("error_code") == "enforced_spend_limit_reached")
    ):
        return ProviderQuotaExhausted(PROVIDER, message or "quota exhausted", status)
    return status_error(PROVIDER, status, headers, body, message)
