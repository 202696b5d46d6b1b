"""Gemini API (Google AI): ``x-goog-api-key``, ``/v1beta/models``, ``:generateContent``.

Structured output is ``responseMimeType: application/json`` with a ``responseSchema``,
which takes Google's OpenAPI-3.0 subset, not JSON Schema: see :func:`to_gemini_schema`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from urllib.parse import quote

from launchgate.providers.credential import Credential, ProviderSettings
from launchgate.providers.errors import (
    ProviderAuthError,
    ProviderBadRequest,
    ProviderError,
    ProviderQuotaExhausted,
    ProviderRateLimited,
    ProviderServerError,
    retry_after_seconds,
    status_error,
)
from launchgate.providers.http import HttpClient, send
from launchgate.providers.schemas import ChatReply, ChatRequest

PROVIDER = "google"
_TYPE = "type.googleapis.com/google.rpc."
# The Schema fields Gemini accepts (v1beta Schema object); everything else is dropped.
_KEEP = frozenset(
    {
        "format",
        "title",
        "description",
        "nullable",
        "minItems",
        "maxItems",
        "minLength",
        "maxLength",
        "pattern",
        "minimum",
        "maximum",
        "minProperties",
        "maxProperties",
        "default",
        "example",
    }
)
_MAX_DEPTH = 32


async def list_models(
    http: HttpClient, credential: Credential, settings: ProviderSettings
) -> list[str]:
    """``GET /v1beta/models``: model ids without the ``models/`` prefix."""
    body = await send(
        http,
        "GET",
        f"{settings.google_base_url.rstrip('/')}/v1beta/models",
        provider=PROVIDER,
        secret=credential.secret,
        read_error=read_error,
        timeout_s=settings.timeout_s,
        headers=_headers(credential),
    )
    models = body.get("models", [])
    if not isinstance(models, list):
        raise ProviderServerError(PROVIDER, "google answered /v1beta/models without a list")
    return [
        str(item["name"]).removeprefix("models/")
        for item in models
        if isinstance(item, dict) and "name" in item
    ]


async def chat(
    http: HttpClient, credential: Credential, settings: ProviderSettings, request: ChatRequest
) -> ChatReply:
    """``POST /v1beta/models/{model}:generateContent``."""
    model = quote(request.model.strip().removeprefix("models/"), safe="-._")
    body = await send(
        http,
        "POST",
        f"{settings.google_base_url.rstrip('/')}/v1beta/models/{model}:generateContent",
        provider=PROVIDER,
        secret=credential.secret,
        read_error=read_error,
        timeout_s=settings.timeout_s,
        headers=_headers(credential),
        body=_body(request),
    )
    return _reply(body, request)


def _headers(credential: Credential) -> dict[str, str]:
    return {"x-goog-api-key": credential.secret}


def _body(request: ChatRequest) -> dict[str, Any]:
    config: dict[str, Any] = {"temperature": request.temperature}
    if request.max_tokens is not None:
        config["maxOutputTokens"] = request.max_tokens
    if request.schema is not None:
        config["responseMimeType"] = "application/json"
        config["responseSchema"] = to_gemini_schema(request.schema)
    body: dict[str, Any] = {
        "contents": [{"role": "user", "parts": [{"text": request.user}]}],
        "generationConfig": config,
    }
    if request.system:
        body["systemInstruction"] = {"parts": [{"text": request.system}]}
    return body


def _reply(body: dict[str, Any], request: ChatRequest) -> ChatReply:
    candidates = body.get("candidates") or []
    if not candidates:
        reason = (body.get("promptFeedback") or {}).get("blockReason", "no candidates")
        raise ProviderBadRequest(PROVIDER, f"gemini returned no answer: prompt blocked ({reason})")
    candidate = candidates[0]
    parts = (candidate.get("content") or {}).get("parts") or []
    # Thinking models may return thought summaries as parts marked "thought": true.
    text = "".join(
        str(part.get("text", ""))
        for part in parts
        if isinstance(part, dict) and not part.get("thought")
    )
    if not text:
        reason = candidate.get("finishReason", "unknown")
        raise ProviderBadRequest(PROVIDER, f"gemini returned no text (finishReason {reason})")
    usage = body.get("usageMetadata") or {}
    return ChatReply(
        text=text,
        model=str(body.get("modelVersion") or request.model),
        input_tokens=int(usage.get("promptTokenCount") or 0),
        # Thinking tokens are billed as output.
        output_tokens=int(usage.get("candidatesTokenCount") or 0)
        + int(usage.get("thoughtsTokenCount") or 0),
        raw=body,
        # Part of promptTokenCount, read from a context cache (billed at its price).
        cached_input_tokens=int(usage.get("cachedContentTokenCount") or 0),
    )


def read_error(status: int, headers: Mapping[str, str], body: Any) -> ProviderError:
    """Google's shape: ``{"error": {"code", "message", "status", "details": [...]}}``."""
    if isinstance(body, list) and body:  # some Google front ends wrap the error in a list
        body = body[0]
    error = body.get("error") if isinstance(body, dict) else None
    if not isinstance(error, dict):
        return status_error(PROVIDER, status, headers, body)
    message = str(error.get("message") or error.get("status") or "")
    details = [d for d in error.get("details") or [] if isinstance(d, dict)]
    reasons = {d.get("reason") for d in details if d.get("@type") == _TYPE + "ErrorInfo"}
    if "API_KEY_INVALID" in reasons or error.get("status") == "UNAUTHENTICATED":
        return ProviderAuthError(PROVIDER, message, status)
    if status == 429 or error.get("status") == "RESOURCE_EXHAUSTED":
        return _exhausted(status, headers, message, details)
    return status_error(PROVIDER, status, headers, body, message)


def _exhausted(
    status: int, headers: Mapping[str, str], message: str, details: list[dict[str, Any]]
) -> ProviderError:
    """A per-day quota is spent until tomorrow: quota exhausted; a per-minute one: rate limit."""
    quota_ids = [
        str(violation.get("quotaId", ""))
        for detail in details
        if detail.get("@type") == _TYPE + "QuotaFailure"
        for violation in detail.get("violations") or []
        if isinstance(violation, dict)
    ]
    if status == 402 or any("PerDay" in quota_id for quota_id in quota_ids):
        return ProviderQuotaExhausted(PROVIDER, message, status)
    delay = next(
        (d.get("retryDelay") for d in details if d.get("@type") == _TYPE + "RetryInfo"), None
    )
    retry_after = retry_after_seconds(headers)
    if retry_after is None and isinstance(delay, str) and delay.endswith("s"):
        try:
            retry_after = max(0.0, float(delay[:-1]))
        except ValueError:
            retry_after = None
    return ProviderRateLimited(PROVIDER, message, status, retry_after=retry_after)


def to_gemini_schema(schema: Mapping[str, Any]) -> dict[str, Any]:
    """JSON Schema → Gemini's Schema: upper-case types, ``nullable`` for ``"null"`` unions,
    ``$ref`` inlined, ``const``/``oneOf`` rewritten, unsupported keywords (e.g.
    ``additionalProperties``) dropped, and ``propertyOrdering`` from the declared order so
    that, e.g., a judge's reasoning comes before its score.
    """
    definitions = {**schema.get("definitions", {}), **schema.get("$defs", {})}
    return _convert(schema, definitions, 0)


def _convert(node: Mapping[str, Any], defs: Mapping[str, Any], depth: int) -> dict[str, Any]:
    if depth > _MAX_DEPTH:
        raise ProviderBadRequest(PROVIDER, "response schema is too deep (or recursive) for Gemini")
    node = _resolve(node, defs)
    out: dict[str, Any] = {key: node[key] for key in _KEEP if key in node}
    if "const" in node:
        out["enum"] = [str(node["const"])]
    elif "enum" in node:
        out["enum"] = [str(value) for value in node["enum"] if value is not None]
        if None in node["enum"]:
            out["nullable"] = True
    _convert_type(node, out, defs, depth)
    if isinstance(node.get("items"), Mapping):
        out["items"] = _convert(node["items"], defs, depth + 1)
    if isinstance(node.get("properties"), Mapping):
        out["properties"] = {
            name: _convert(sub, defs, depth + 1) for name, sub in node["properties"].items()
        }
        out["propertyOrdering"] = list(node["properties"])
    if isinstance(node.get("required"), list):
        out["required"] = list(node["required"])
    return out


def _convert_type(
    node: Mapping[str, Any], out: dict[str, Any], defs: Mapping[str, Any], depth: int
) -> None:
    kind = node.get("type")
    kinds = [kind] if isinstance(kind, str) else list(kind or [])
    if "null" in kinds:
        out["nullable"] = True
        kinds.remove("null")
    if len(kinds) == 1:
        out["type"] = str(kinds[0]).upper()
    elif kinds:
        out["anyOf"] = [{"type": str(k).upper()} for k in kinds]
    alternatives = node.get("anyOf") or node.get("oneOf")
    if isinstance(alternatives, list):
        converted = [
            _convert(alt, defs, depth + 1)
            for alt in alternatives
            if isinstance(alt, Mapping) and alt.get("type") != "null"
        ]
        if len(converted) < len(alternatives):
            out["nullable"] = True
        if len(converted) == 1:
            out.update({k: v for k, v in converted[0].items() if k not in out})
        elif converted:
            out["anyOf"] = converted


def _resolve(node: Mapping[str, Any], defs: Mapping[str, Any], hops: int = 0) -> Mapping[str, Any]:
    """Inline a local ``$ref`` and merge an ``allOf``; siblings of the ref win."""
    ref = node.get("$ref")
    if isinstance(ref, str):
        name = ref.rsplit("/", 1)[-1]
        if not ref.startswith("#/") or name not in defs or hops > _MAX_DEPTH:
            raise ProviderBadRequest(PROVIDER, f"response schema $ref {ref!r} cannot be resolved")
        merged = {**defs[name], **{k: v for k, v in node.items() if k != "$ref"}}
        return _resolve(merged, defs, hops + 1)
    if isinstance(node.get("allOf"), list):
        merged_all: dict[str, Any] = {}
        for part in node["allOf"]:
            part = _resolve(part, defs)
            props = {**merged_all.get("properties", {}), **part.get("properties", {})}
            required = [*merged_all.get("required", []), *part.get("required", [])]
            merged_all.update(part)
            if props:
                merged_all["properties"] = props
            if required:
                merged_all["required"] = list(dict.fromkeys(required))
        rest = {k: v for k, v in node.items() if k != "allOf"}
        return {**merged_all, **rest}
    return node
