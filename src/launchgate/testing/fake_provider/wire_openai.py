"""OpenAI (`/v1/...`, Bearer key) and Azure OpenAI (`/openai/...`, `api-key`) wire formats.

Both serve the same chat-completion object; Azure adds its content-filter annotations,
names the model by deployment, needs `?api-version=` and answers errors in its own
`{"error": {"code", "message"}}` shape where the Azure gateway (not the model) answers.
"""

from __future__ import annotations

import time
import uuid
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

OPENAI_MODELS = [
    ("gpt-4o", 1715367049),
    ("gpt-4o-mini", 1721172741),
    ("gpt-4.1", 1744316542),
    ("gpt-4.1-mini", 1744318173),
    ("o3-mini", 1737146383),
]
ROLES = ("system", "assistant", "user", "function", "tool", "developer")
FORMATS = ("json_object", "json_schema", "text")
NO_KEY = (
    "You didn't provide an API key. You need to provide your API key in an Authorization "
    "header using Bearer auth (i.e. Authorization: Bearer YOUR_KEY), or as the password field "
    "(with blank username) if you're accessing the API from your browser and are prompted for "
    "a username and password. You can obtain an API key from "
    "https://platform.openai.com/account/api-keys."
)
BAD_JSON = (
    "We could not parse the JSON body of your request. (HINT: This likely means you aren't "
    "using your HTTP library correctly. The OpenAI API expects a JSON payload, but what was "
    "sent was not valid JSON. If you have trouble figuring out how to fix this, please "
    "contact us through our help center at help.openai.com.)"
)
QUOTA = (
    "You exceeded your current quota, please check your plan and billing details. For more "
    "information on this error, read the docs: "
    "https://platform.openai.com/docs/guides/error-codes/api-errors."
)


def masked(key: str) -> str:
    """How OpenAI echoes a wrong key: first 8 and last 4 characters, the rest starred."""
    if len(key) <= 12:
        return "*" * len(key)
    return key[:8] + "*" * (len(key) - 12) + key[-4:]


def error_body(
    message: str, type_: str, param: str | None = None, code: str | None = None
) -> dict[str, Any]:
    return {"error": {"message": message, "type": type_, "param": param, "code": code}}


class OpenAIDialect(Dialect):
    """api.openai.com: `Authorization: Bearer`, `/v1/models`, `/v1/chat/completions`."""

    provider = "openai"

    def headers(self) -> dict[str, str]:
        return {"x-request-id": "req_" + uuid.uuid4().hex, "openai-processing-ms": "12"}

    def credential(self, request: Request) -> str | None:
        scheme, _, token = request.headers.get("authorization", "").partition(" ")
        return (token.strip() or None) if scheme.lower() == "bearer" else None

    def missing_key(self) -> Response:
        return self.json(401, error_body(NO_KEY, "invalid_request_error"))

    def invalid_key(self, key: str) -> Response:
        message = (
            f"Incorrect API key provided: {masked(key)}. You can find your API key at "
            "https://platform.openai.com/account/api-keys."
        )
        return self.json(401, error_body(message, "invalid_request_error", None, "invalid_api_key"))

    def bad_json(self) -> Response:
        return self.json(400, error_body(BAD_JSON, "invalid_request_error"))

    def validate(self, body: dict[str, Any]) -> Response | None:
        if not body.get("model"):
            return self._invalid("you must provide a model parameter", None, None)
        return self._validate_chat(body)

    def _validate_chat(self, body: dict[str, Any]) -> Response | None:
        messages = body.get("messages")
        if messages is None:
            return self._invalid(
                "Missing required parameter: 'messages'.", "messages", "missing_required_parameter"
            )
        if not isinstance(messages, list):
            return self._invalid(
                f"Invalid type for 'messages': expected an array, but got "
                f"{type(messages).__name__} instead.",
                "messages",
                "invalid_type",
            )
        if not messages:
            return self._invalid(
                "Invalid 'messages': empty array. Expected an array with "
                "minimum length 1, but got an empty array instead.",
                "messages",
                "empty_array",
            )
        for index, message in enumerate(messages):
            problem = self._check_message(index, message)
            if problem:
                return problem
        return self._check_options(body)

    def _check_message(self, index: int, message: Any) -> Response | None:
        param = f"messages[{index}].role"
        if not isinstance(message, dict) or "role" not in message:
            return self._invalid(
                f"Missing required parameter: '{param}'.", param, "missing_required_parameter"
            )
        if message["role"] not in ROLES:
            return self._invalid(
                f"Invalid value: '{message['role']}'. Supported values are: "
                "'system', 'assistant', 'user', 'function', 'tool', and "
                "'developer'.",
                param,
                "invalid_value",
            )
        return None

    def _check_options(self, body: dict[str, Any]) -> Response | None:
        temperature = body.get("temperature")
        if isinstance(temperature, int | float) and not 0 <= temperature <= 2:
            return self._invalid(
                f"Invalid 'temperature': decimal out of range. Expected a "
                f"value between 0 and 2, but got {temperature} instead.",
                "temperature",
                "decimal_out_of_range",
            )
        response_format = body.get("response_format")
        if response_format is None:
            return None
        kind = response_format.get("type") if isinstance(response_format, dict) else None
        if kind not in FORMATS:
            return self._invalid(
                f"Invalid value: '{kind}'. Supported values are: "
                "'json_object', 'json_schema', and 'text'.",
                "response_format.type",
                "invalid_value",
            )
        schema = response_format.get("json_schema")
        if kind == "json_schema" and not (isinstance(schema, dict) and schema.get("name")):
            return self._invalid(
                "Missing required parameter: 'response_format.json_schema.name'.",
                "response_format.json_schema.name",
                "missing_required_parameter",
            )
        return None

    def _invalid(self, message: str, param: str | None, code: str | None) -> Response:
        return self.json(400, error_body(message, "invalid_request_error", param, code))

    def models(self, request: Request, name: str | None = None) -> Response:
        data = [
            {"id": model, "object": "model", "created": created, "owned_by": "system"}
            for model, created in OPENAI_MODELS
        ]
        return self.json(200, {"object": "list", "data": data})

    def prompt_text(self, body: dict[str, Any]) -> str:
        messages = body.get("messages") or []
        return "\n".join(text_of(m.get("content")) for m in messages if isinstance(m, dict))

    def chat(self, body: dict[str, Any], model: str, answer: Answer, prompt: str) -> Response:
        return self.json(200, self.completion(body, model, answer, prompt))

    def completion(
        self, body: dict[str, Any], model: str, answer: Answer, prompt: str
    ) -> dict[str, Any]:
        prompt_tokens = count_tokens(prompt) + 3 * len(body.get("messages") or []) + 3
        completion_tokens = count_tokens(answer.text)
        message: dict[str, Any] = {
            "role": "assistant",
            "content": answer.text,
            "refusal": None,
            "annotations": [],
        }
        return {
            "id": "chatcmpl-" + random_id(29),
            "object": "chat.completion",
            "created": int(time.time()),
            "model": model,
            "choices": [
                {"index": 0, "message": message, "logprobs": None, "finish_reason": "stop"}
            ],
            "usage": {
                "prompt_tokens": prompt_tokens,
                "completion_tokens": completion_tokens,
                "total_tokens": prompt_tokens + completion_tokens,
                "prompt_tokens_details": {
                    "cached_tokens": cached_tokens(prompt, prompt_tokens),
                    "audio_tokens": 0,
                },
                "completion_tokens_details": {
                    "reasoning_tokens": 0,
                    "audio_tokens": 0,
                    "accepted_prediction_tokens": 0,
                    "rejected_prediction_tokens": 0,
                },
            },
            "service_tier": "default",
            "system_fingerprint": "fp_" + random_id(10, "0123456789abcdef"),
        }

    def rate_limited(self, item: Scripted, request: Request, model: str) -> Response:
        wait = seconds_text(item.retry_after or 1)
        message = (
            f"Rate limit reached for {model or 'gpt-4o'} in organization org-fakeprovider "
            "on requests per min (RPM): Limit 500, Used 500, Requested 1. Please try "
            f"again in {wait}s. Visit https://platform.openai.com/account/rate-limits "
            "to learn more."
        )
        headers = {
            "x-ratelimit-limit-requests": "500",
            "x-ratelimit-remaining-requests": "0",
            "x-ratelimit-reset-requests": f"{wait}s",
        }
        return self.json(429, error_body(message, "requests", None, "rate_limit_exceeded"), headers)

    def quota_exhausted(self, item: Scripted, request: Request, model: str) -> Response:
        return self.json(429, error_body(QUOTA, "insufficient_quota", None, "insufficient_quota"))

    def server_error(self, item: Scripted, request: Request, model: str) -> Response:
        message = "The server had an error while processing your request. Sorry about that!"
        return self.json(500, error_body(message, "server_error"))

    def overloaded(self, item: Scripted, request: Request, model: str) -> Response:
        return self.json(
            503, error_body("The server is overloaded or not ready yet.", "server_error")
        )


AZURE_MODELS = [("gpt-4o-2024-08-06", 1723075200), ("gpt-4o-mini-2024-07-18", 1721260800)]
AZURE_NO_KEY = (
    "Access denied due to missing subscription key. Make sure to include "
    "subscription key when making requests to an API."
)
AZURE_BAD_KEY = (
    "Access denied due to invalid subscription key or wrong API endpoint. Make "
    "sure to provide a valid key for an active subscription and use a correct "
    "regional API endpoint for your resource."
)
AZURE_NO_DEPLOYMENT = (
    "The API deployment for this resource does not exist. If you created "
    "the deployment within the last 5 minutes, please wait a moment and try "
    "again."
)
FILTERS = {
    name: {"filtered": False, "severity": "safe"}
    for name in ("hate", "self_harm", "sexual", "violence")
}


def azure_error(code: str, message: str) -> dict[str, Any]:
    return {"error": {"code": code, "message": message}}


class AzureDialect(OpenAIDialect):
    """Azure OpenAI: `api-key` header, `/openai/deployments/{d}/chat/completions?api-version=`."""

    provider = "azure_openai"

    def headers(self) -> dict[str, str]:
        request_id = str(uuid.uuid4())
        return {"apim-request-id": request_id, "x-request-id": request_id}

    def credential(self, request: Request) -> str | None:
        return request.headers.get("api-key") or None

    def precheck(self, request: Request) -> Response | None:
        # Azure routes on api-version before it authenticates: without it, nothing matches.
        if not request.query_params.get("api-version"):
            return self.json(404, azure_error("404", "Resource not found"))
        return None

    def missing_key(self) -> Response:
        return self.json(401, azure_error("401", AZURE_NO_KEY))

    def invalid_key(self, key: str) -> Response:
        return self.json(401, azure_error("401", AZURE_BAD_KEY))

    def check_headers(self, request: Request) -> Response | None:
        deployment = request.path_params.get("deployment")
        known = self.state.providers[self.provider].deployments
        if deployment is not None and known is not None and deployment not in known:
            return self.json(404, azure_error("DeploymentNotFound", AZURE_NO_DEPLOYMENT))
        return None

    def validate(self, body: dict[str, Any]) -> Response | None:
        return self._validate_chat(body)

    def models(self, request: Request, name: str | None = None) -> Response:
        if name == "deployments":
            return self.json(200, {"data": self._deployments(), "object": "list"})
        capabilities = {
            "fine_tune": False,
            "inference": True,
            "completion": False,
            "chat_completion": True,
            "embeddings": False,
        }
        data = [
            {
                "status": "succeeded",
                "capabilities": capabilities,
                "lifecycle_status": "generally-available",
                "deprecation": {"inference": created + 365 * 86400},
                "id": model,
                "created_at": created,
                "object": "model",
            }
            for model, created in AZURE_MODELS
        ]
        return self.json(200, {"data": data, "object": "list"})

    def _deployments(self) -> list[dict[str, Any]]:
        names = self.state.providers[self.provider].deployments or {"gpt-4o"}
        return [
            {
                "scale_settings": {"scale_type": "standard"},
                "model": "gpt-4o",
                "owner": "organization-owner",
                "id": name,
                "status": "succeeded",
                "created_at": 1723075200,
                "updated_at": 1723075200,
                "object": "deployment",
            }
            for name in sorted(names)
        ]

    def chat(self, body: dict[str, Any], model: str, answer: Answer, prompt: str) -> Response:
        completion = self.completion(body, model, answer, prompt)
        completion["choices"][0]["content_filter_results"] = FILTERS
        completion["prompt_filter_results"] = [
            {"prompt_index": 0, "content_filter_results": FILTERS}
        ]
        del completion["service_tier"]
        return self.json(200, completion)

    def rate_limited(self, item: Scripted, request: Request, model: str) -> Response:
        wait = item.retry_after or 1
        version = request.query_params.get("api-version", "")
        message = (
            f"Requests to the ChatCompletions_Create Operation under Azure OpenAI API "
            f"version {version} have exceeded token rate limit of your current OpenAI S0 "
            f"pricing tier. Please retry after {seconds_text(wait)} seconds. Please go "
            "here: https://aka.ms/oai/quotaincrease if you would like to further "
            "increase the default rate limit."
        )
        headers = {} if item.retry_after is None else {"retry-after-ms": str(int(wait * 1000))}
        return self.json(429, azure_error("429", message), headers)

    def quota_exhausted(self, item: Scripted, request: Request, model: str) -> Response:
        message = (
            "Out of call volume quota for OpenAI API. Quota will be replenished in 1.00:00:00."
        )
        return self.json(403, azure_error("403", message))

    def server_error(self, item: Scripted, request: Request, model: str) -> Response:
        message = (
            "The server had an error processing your request. Sorry about that! You "
            "can retry your request, or contact us through an Azure support request at: "
            "https://go.microsoft.com/fwlink/?linkid=2213926 if you keep seeing this "
            "error."
        )
        return self.json(500, error_body(message, "server_error"))

    def overloaded(self, item: Scripted, request: Request, model: str) -> Response:
        message = (
            "The service is temporarily unable to process your request. Please try again later."
        )
        return self.json(503, azure_error("ServiceUnavailable", message))
