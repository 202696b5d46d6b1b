"""OpenAI (and OpenAI-compatible servers): Bearer auth, ``/models``, ``/chat/completions``.

Structured output is the ``json_schema`` response format with ``strict: true``. The chat
body and the error reading are shared with Azure OpenAI, which speaks the same dialect.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from launchgate.providers.credential import Credential, ProviderSettings
from launchgate.providers.errors import (
    ProviderBadRequest,
    ProviderError,
    ProviderQuotaExhausted,
    ProviderServerError,
    status_error,
)
from launchgate.providers.http import ErrorReader, HttpClient, send
from launchgate.providers.schemas import ChatReply, ChatRequest
from launchgate.providers.urls import CheckedUrl, checked_key_url

PROVIDER = "openai"
# The current name; ``max_tokens`` is deprecated and refused by reasoning models.
_MAX_TOKENS = "max_completion_tokens"
# 429s that are about money, not speed (OpenAI error codes; error.type is insufficient_quota).
_QUOTA_CODES = frozenset(
    {
        "insufficient_quota",
        "credit_balance_exhausted",
        "organization_spend_limit_exceeded",
        "project_spend_limit_exceeded",
        "organization_usage_limit_exceeded",
        "billing_hard_limit_reached",
    }
)


async def list_models(
    http: HttpClient, credential: Credential, settings: ProviderSettings
) -> list[str]:
    """``GET {base}/models``: the ids the key may use."""
    return model_ids(PROVIDER, await _send(http, credential, settings, "GET", "/models"))


async def chat(
    http: HttpClient, credential: Credential, settings: ProviderSettings, request: ChatRequest
) -> ChatReply:
    """``POST {base}/chat/completions``."""
    payload = {"model": request.model, **chat_body(request, max_tokens_field=_MAX_TOKENS)}
    body = await _send(http, credential, settings, "POST", "/chat/completions", payload)
    return parse_chat(PROVIDER, body, request)


async def _send(
    http: HttpClient,
    credential: Credential,
    settings: ProviderSettings,
    method: str,
    path: str,
    body: Any = None,
) -> dict[str, Any]:
    """One call to ``{base}{path}``, pinned to the address the guard checked."""
    base = await _base_url(credential, settings)
    return await send(
        http,
        method,
        f"{base.url}{path}",
        provider=PROVIDER,
        secret=credential.secret,
        read_error=read_error_for(PROVIDER),
        timeout_s=settings.timeout_s,
        headers=_headers(credential),
        body=body,
        connect_to=base.address,
    )


async def _base_url(credential: Credential, settings: ProviderSettings) -> CheckedUrl:
    """The key's own ``base_url`` (checked against SSRF each time, and the call pinned to
    the checked address), else the operator's setting, which is trusted as it is."""
    own = credential.option("base_url")
    if own is None:
        return CheckedUrl(settings.openai_base_url.rstrip("/"))
    return await checked_key_url(PROVIDER, own, allow_private=settings.allow_private_urls)


def _headers(credential: Credential) -> dict[str, str]:
    headers = {"authorization": f"Bearer {credential.secret}"}
    organization = credential.option("organization")
    if organization:
        headers["openai-organization"] = organization
    return headers


def chat_body(request: ChatRequest, *, max_tokens_field: str) -> dict[str, Any]:
    """The Chat Completions body without ``model`` (Azure names the deployment in the path)."""
    messages = [{"role": "user", "content": request.user}]
    if request.system:
        messages.insert(0, {"role": "system", "content": request.system})
    body: dict[str, Any] = {"messages": messages, "temperature": request.temperature}
    if request.max_tokens is not None:
        body[max_tokens_field] = request.max_tokens
    if request.schema is not None:
        body["response_format"] = {
            "type": "json_schema",
            "json_schema": {"name": request.schema_name, "strict": True, "schema": request.schema},
        }
    return body


def parse_chat(provider: str, body: dict[str, Any], request: ChatRequest) -> ChatReply:
    """The first choice's content, the reported model and the token counts."""
    try:
        message = body["choices"][0]["message"]
    except (KeyError, IndexError, TypeError):
        raise ProviderServerError(provider, f"{provider} answered without a choice") from None
    if message.get("refusal"):
        raise ProviderBadRequest(provider, f"the model refused: {message['refusal']}")
    content = message.get("content")
    if isinstance(content, list):  # some compatible servers answer with content parts
        content = "".join(str(part.get("text", "")) for part in content if isinstance(part, dict))
    usage = body.get("usage") or {}
    details = usage.get("prompt_tokens_details") or {}
    return ChatReply(
        text=content if isinstance(content, str) else json.dumps(content),
        model=str(body.get("model") or request.model),
        input_tokens=int(usage.get("prompt_tokens") or 0),
        output_tokens=int(usage.get("completion_tokens") or 0),
        raw=body,
        # Part of prompt_tokens, read from OpenAI's prompt cache (billed at its price).
        cached_input_tokens=int(details.get("cached_tokens") or 0)
        if isinstance(details, dict)
        else 0,
    )


def model_ids(provider: str, body: dict[str, Any]) -> list[str]:
    data = body.get("data")
    if not isinstance(data, list):
        raise ProviderServerError(provider, f"{provider} answered /models without a data list")
    return [str(item["id"]) for item in data if isinstance(item, dict) and "id" in item]


def read_error_for(provider: str) -> ErrorReader:
    """The error reader for OpenAI's shape ``{"error": {"message", "type", "code"}}``."""

    def read(status: int, headers: Mapping[str, str], body: Any) -> ProviderError:
        error = body.get("error") if isinstance(body, dict) else None
        if isinstance(error, str):  # OpenAI-compatible servers: {"error": "text"}
            return status_error(provider, status, headers, body, error)
        if not isinstance(error, dict):
            detail = body.get("detail") or body.get("message") if isinstance(body, dict) else None
            return status_error(provider, status, headers, body, _text(detail))
        message = _text(error.get("message")) or _text(error.get("code"))
        kinds = {str(error.get("type") or ""), str(error.get("code") or "")}
        # Azure's gateway answers an exhausted call-volume quota with 403 "Out of call
        # volume quota…": not a bad key, so not an auth error.
        if (status == 429 and kinds & _QUOTA_CODES) or (
            status == 403 and "quota" in (message or "").lower()
        ):
            return ProviderQuotaExhausted(provider, message or "quota exhausted", status)
        return status_error(provider, status, headers, body, message)

    return read


def _text(value: Any) -> str | None:
    if value is None:
        return None
    return value if isinstance(value, str) else json.dumps(value)
