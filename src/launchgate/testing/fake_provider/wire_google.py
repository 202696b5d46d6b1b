"""Gemini API wire format: `x-goog-api-key` (or `?key=`), `/v1beta/models[...]:generateContent`.

Structured output is `candidates[0].content.parts[0].text` holding the JSON answer. Errors
are Google RPC statuses, `{"error": {"code", "message", "status", "details"?}}`; a wrong key
is 400 `INVALID_ARGUMENT` with reason `API_KEY_INVALID` (not 401), a missing one 403.
Gemini sends no `Retry-After` header; a rate limit carries a `RetryInfo.retryDelay` detail.
"""

from __future__ import annotations

import re
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from launchgate.testing.fake_provider.dialect import (
    Dialect,
    cached_tokens,
    count_tokens,
    random_id,
    seconds_text,
    text_of,
)
from launchgate.testing.fake_provider.state import Answer, Scripted

MODELS = [
    ("gemini-2.5-pro", "2.5", "Gemini 2.5 Pro", 1048576, 65536),
    ("gemini-2.5-flash", "001", "Gemini 2.5 Flash", 1048576, 65536),
    ("gemini-2.0-flash", "2.0", "Gemini 2.0 Flash", 1048576, 8192),
]
METHODS = ["generateContent", "countTokens", "createCachedContent", "batchGenerateContent"]
REQUEST_FIELDS = {
    "contents",
    "tools",
    "toolConfig",
    "safetySettings",
    "systemInstruction",
    "generationConfig",
    "cachedContent",
    "model",
}
GENERATION_FIELDS = {
    "stopSequences",
    "responseMimeType",
    "responseSchema",
    "responseJsonSchema",
    "responseModalities",
    "candidateCount",
    "maxOutputTokens",
    "temperature",
    "topP",
    "topK",
    "seed",
    "presencePenalty",
    "frequencyPenalty",
    "responseLogprobs",
    "logprobs",
    "enableEnhancedCivicAnswers",
    "speechConfig",
    "thinkingConfig",
    "mediaResolution",
}
MIME_TYPES = (
    "text/plain",
    "application/json",
    "application/xml",
    "application/yaml",
    "text/x.enum",
)
BAD_KEY = "API key not valid. Please pass a valid API key."
NO_KEY = (
    "Method doesn't allow unregistered callers (callers without established identity). "
    "Please use API Key or other form of API consumer identity to call this API."
)
QUOTA = (
    "You exceeded your current quota, please check your plan and billing details. For "
    "more information on this error, head to: https://ai.google.dev/gemini-api/docs/"
    "rate-limits. To monitor your current usage, head to: https://ai.dev/rate-limit. "
)
HELP = {
    "@type": "type.googleapis.com/google.rpc.Help",
    "links": [
        {
            "description": "Learn more about Gemini API quotas",
            "url": "https://ai.google.dev/gemini-api/docs/rate-limits",
        }
    ],
}
THOUGHT_TOKENS = 64


def camel(name: str) -> str:
    """Gemini's JSON accepts proto field names in either snake_case or lowerCamelCase."""
    return re.sub(r"_([a-z])", lambda m: m.group(1).upper(), name)


def rpc_error(
    code: int, status: str, message: str, details: list[dict[str, Any]] | None = None
) -> dict[str, Any]:
    error: dict[str, Any] = {"code": code, "message": message, "status": status}
    if details:
        error["details"] = details
    return {"error": error}


def model_info(name: str, version: str, display: str, inputs: int, outputs: int) -> dict[str, Any]:
    return {
        "name": f"models/{name}",
        "version": version,
        "displayName": display,
        "description": f"{display} (fake provider)",
        "inputTokenLimit": inputs,
        "outputTokenLimit": outputs,
        "supportedGenerationMethods": METHODS,
        "temperature": 1,
        "topP": 0.95,
        "topK": 64,
        "maxTemperature": 2,
        "thinking": name.startswith("gemini-2.5"),
    }


class GoogleDialect(Dialect):
    """generativelanguage.googleapis.com (the Gemini API, not Vertex AI)."""

    provider = "google"
    sends_retry_after_header = False

    def credential(self, request: Request) -> str | None:
        return request.headers.get("x-goog-api-key") or request.query_params.get("key") or None

    def missing_key(self) -> Response:
        return self.json(403, rpc_error(403, "PERMISSION_DENIED", NO_KEY))

    def invalid_key(self, key: str) -> Response:
        details: list[dict[str, Any]] = [
            {
                "@type": "type.googleapis.com/google.rpc.ErrorInfo",
                "reason": "API_KEY_INVALID",
                "domain": "googleapis.com",
                "metadata": {"service": "generativelanguage.googleapis.com"},
            },
            {
                "@type": "type.googleapis.com/google.rpc.LocalizedMessage",
                "locale": "en-US",
                "message": BAD_KEY,
            },
        ]
        return self.json(400, rpc_error(400, "INVALID_ARGUMENT", BAD_KEY, details))

    def bad_json(self) -> Response:
        return self._invalid("Invalid JSON payload received. Unexpected token.\n")

    def _invalid(self, message: str, violation: bool = False) -> Response:
        details = None
        if violation:
            details = [
                {
                    "@type": "type.googleapis.com/google.rpc.BadRequest",
                    "fieldViolations": [{"description": message}],
                }
            ]
        return self.json(400, rpc_error(400, "INVALID_ARGUMENT", message, details))

    def validate(self, body: dict[str, Any]) -> Response | None:
        for name in body:
            if camel(name) not in REQUEST_FIELDS:
                return self._invalid(
                    f'Invalid JSON payload received. Unknown name "{name}": Cannot find field.',
                    violation=True,
                )
        config = body.get("generationConfig", body.get("generation_config")) or {}
        for name in config if isinstance(config, dict) else {}:
            if camel(name) not in GENERATION_FIELDS:
                return self._invalid(
                    f'Invalid JSON payload received. Unknown name "{name}" at '
                    "'generation_config': Cannot find field.",
                    violation=True,
                )
        return self._check_contents(body) or self._check_mime(config)

    def _check_contents(self, body: dict[str, Any]) -> Response | None:
        contents = body.get("contents")
        if not contents or not isinstance(contents, list):
            return self._invalid("* GenerateContentRequest.contents: contents is not specified\n")
        for index, content in enumerate(contents):
            if not isinstance(content, dict) or not content.get("parts"):
                return self._invalid(
                    f"* GenerateContentRequest.contents[{index}].parts: "
                    "contents.parts must not be empty.\n"
                )
            if content.get("role", "user") not in ("user", "model", "function"):
                return self._invalid("Please use a valid role: user, model.")
        return None

    def _check_mime(self, config: Any) -> Response | None:
        if not isinstance(config, dict):
            return None
        mime = config.get("responseMimeType", config.get("response_mime_type"))
        if mime is not None and mime not in MIME_TYPES:
            return self._invalid(
                "* GenerateContentRequest.generation_config.response_mime_type:"
                " allowed mimetypes are `text/plain`, `application/json`, "
                "`application/xml`, `application/yaml` and `text/x.enum`.\n"
            )
        return None

    def models(self, request: Request, name: str | None = None) -> Response:
        if name is None:
            return self.json(200, {"models": [model_info(*m) for m in MODELS]})
        for model in MODELS:
            if model[0] == name:
                return self.json(200, model_info(*model))
        return self.not_found(name)

    def not_found(self, name: str) -> Response:
        message = (
            f"models/{name} is not found for API version v1beta, or is not supported "
            "for generateContent. Call ListModels to see the list of available models "
            "and their supported methods."
        )
        return self.json(404, rpc_error(404, "NOT_FOUND", message))

    def prompt_text(self, body: dict[str, Any]) -> str:
        system = body.get("systemInstruction", body.get("system_instruction")) or {}
        contents = body.get("contents") or []
        blocks = [system, *contents]
        return "\n".join(text_of(b.get("parts")) for b in blocks if isinstance(b, dict))

    def chat(self, body: dict[str, Any], model: str, answer: Answer, prompt: str) -> Response:
        prompt_tokens = count_tokens(prompt)
        output_tokens = count_tokens(answer.text)
        usage: dict[str, Any] = {
            "promptTokenCount": prompt_tokens,
            "candidatesTokenCount": output_tokens,
            "totalTokenCount": prompt_tokens + output_tokens,
            "promptTokensDetails": [{"modality": "TEXT", "tokenCount": prompt_tokens}],
        }
        cached = cached_tokens(prompt, prompt_tokens)
        if cached:  # part of promptTokenCount, as Gemini reports a context-cache read
            usage["cachedContentTokenCount"] = cached
        if model.startswith("gemini-2.5"):
            usage["thoughtsTokenCount"] = THOUGHT_TOKENS
            usage["totalTokenCount"] += THOUGHT_TOKENS
        candidate = {
            "content": {"parts": [{"text": answer.text}], "role": "model"},
            "finishReason": "STOP",
            "index": 0,
        }
        return self.json(
            200,
            {
                "candidates": [candidate],
                "usageMetadata": usage,
                "modelVersion": model,
                "responseId": random_id(22),
            },
        )

    def _exhausted(self, quota_id: str, retry_after: float | None) -> Response:
        violation = {
            "quotaMetric": "generativelanguage.googleapis.com/generate_content_free_tier_requests",
            "quotaId": quota_id,
            "quotaValue": "5",
        }
        details: list[dict[str, Any]] = [
            {"@type": "type.googleapis.com/google.rpc.QuotaFailure", "violations": [violation]},
            HELP,
        ]
        if retry_after is not None:
            details.append(
                {
                    "@type": "type.googleapis.com/google.rpc.RetryInfo",
                    "retryDelay": f"{seconds_text(retry_after)}s",
                }
            )
        return self.json(429, rpc_error(429, "RESOURCE_EXHAUSTED", QUOTA, details))

    def rate_limited(self, item: Scripted, request: Request, model: str) -> Response:
        return self._exhausted(
            "GenerateRequestsPerMinutePerProjectPerModel-FreeTier", item.retry_after
        )

    def quota_exhausted(self, item: Scripted, request: Request, model: str) -> Response:
        return self._exhausted(
            "GenerateRequestsPerDayPerProjectPerModel-FreeTier", item.retry_after
        )

    def server_error(self, item: Scripted, request: Request, model: str) -> Response:
        message = (
            "An internal error has occurred. Please retry or report in "
            "https://developers.generativeai.google/guide/troubleshooting"
        )
        return self.json(500, rpc_error(500, "INTERNAL", message))

    def overloaded(self, item: Scripted, request: Request, model: str) -> Response:
        return self.json(
            503, rpc_error(503, "UNAVAILABLE", "The model is overloaded. Please try again later.")
        )
