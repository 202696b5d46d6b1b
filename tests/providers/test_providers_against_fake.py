"""Every provider over real HTTP against the fake provider server, errors scripted through
its admin API. The key of each test is a unique canary; no error may ever show it."""

from __future__ import annotations

import json
from typing import Any

import pytest

from launchgate import providers
from launchgate.providers import (
    DEFAULT_MODELS,
    ChatRequest,
    Credential,
    HttpClient,
    ProviderAuthError,
    ProviderBadRequest,
    ProviderError,
    ProviderQuotaExhausted,
    ProviderRateLimited,
    ProviderServerError,
    ProviderTimeout,
    ProviderUnreachable,
)
from launchgate.testing.fake_provider import free_port
from tests.providers.conftest import PROVIDER_NAMES, Fake

JUDGE_SCHEMA = {
    "type": "object",
    "properties": {
        "reasoning": {"type": "string"},
        "score": {"type": "number", "minimum": 0, "maximum": 1},
    },
    "required": ["reasoning", "score"],
    "additionalProperties": False,
}
CHAT_MODELS = {**DEFAULT_MODELS, "azure_openai": "my-gpt4o-deployment"}
LISTED = {
    "openai": "gpt-4o",
    "anthropic": "claude-sonnet-4-20250514",
    "google": "gemini-2.5-pro",
    "azure_openai": "gpt-4o-2024-08-06",
}
WRONG_KEY_MESSAGES = {
    "openai": "Incorrect API key provided",
    "anthropic": "invalid x-api-key",
    "google": "API key not valid",
    "azure_openai": "Access denied due to invalid subscription key",
}
all_providers = pytest.mark.parametrize("provider", PROVIDER_NAMES)


def judge_request(provider: str, **changes: Any) -> ChatRequest:
    values: dict[str, Any] = {
        "model": CHAT_MODELS[provider],
        "system": "You are a strict evaluator.",
        "user": "Rate this output: 'Paris is the capital of France.'",
        "temperature": 0.0,
        "max_tokens": 256,
        "json_schema": {"name": "judge_verdict", "schema": JUDGE_SCHEMA},
    }
    values.update(changes)
    return ChatRequest(**values)


def assert_hidden(error: ProviderError, credential: Credential) -> None:
    for text in (str(error), repr(error), str(error.args), error.message):
        assert credential.secret not in text
    assert error.__cause__ is None and error.__context__ is None


async def expect(error_type: type[ProviderError], call: Any) -> Any:
    with pytest.raises(error_type) as caught:
        await call
    return caught.value


# -- the happy path ----------------------------------------------------------------------


@all_providers
async def test_list_models_and_check_key(provider: str, fake: Fake, http: HttpClient) -> None:
    credential = fake.credential(provider)
    models = await providers.list_models(http, credential, fake.settings)
    assert LISTED[provider] in models
    latency_ms = await providers.check_key(http, credential, fake.settings)
    assert 0 <= latency_ms < 5000
    assert fake.server.counters()["providers"][provider]["endpoints"] == {"models": 2}


@all_providers
async def test_chat_answers_with_structured_json(
    provider: str, fake: Fake, http: HttpClient
) -> None:
    fake.server.configure(policy={"kind": "fixed", "score": 0.75, "reasoning": "Correct."})
    reply = await providers.chat(
        http, fake.credential(provider), fake.settings, judge_request(provider)
    )
    assert json.loads(reply.text) == {"reasoning": "Correct.", "score": 0.75}
    assert reply.model == CHAT_MODELS[provider]
    assert reply.input_tokens > 0 and reply.output_tokens > 0
    assert reply.raw
    assert fake.server.counters()["providers"][provider]["statuses"] == {"200": 1}


async def test_openai_request_wire_format(fake: Fake, http: HttpClient) -> None:
    credential = fake.credential("openai", organization="org-launchgate")
    await providers.chat(http, credential, fake.settings, judge_request("openai"))
    [recorded] = fake.server.recorded_requests("openai")
    assert recorded["path"] == "/v1/chat/completions"
    assert recorded["headers"]["openai-organization"] == "org-launchgate"
    body = recorded["body"]
    assert body["model"] == "gpt-4o"
    assert [m["role"] for m in body["messages"]] == ["system", "user"]
    assert body["max_completion_tokens"] == 256
    assert body["response_format"] == {
        "type": "json_schema",
        "json_schema": {"name": "judge_verdict", "strict": True, "schema": JUDGE_SCHEMA},
    }


async def test_anthropic_request_wire_format(fake: Fake, http: HttpClient) -> None:
    reply = await providers.chat(
        http,
        fake.credential("anthropic"),
        fake.settings,
        judge_request("anthropic", max_tokens=None),
    )
    [recorded] = fake.server.recorded_requests("anthropic")
    assert recorded["path"] == "/v1/messages"
    assert recorded["headers"]["anthropic-version"] == "2023-06-01"
    body = recorded["body"]
    assert body["system"] == "You are a strict evaluator."
    assert body["max_tokens"] == 1024  # required by Anthropic; our default
    assert body["tools"][0]["name"] == "judge_verdict"
    assert body["tools"][0]["input_schema"] == JUDGE_SCHEMA
    assert body["tool_choice"] == {"type": "tool", "name": "judge_verdict"}
    assert reply.raw["content"][0]["type"] == "tool_use"


async def test_gemini_request_wire_format(fake: Fake, http: HttpClient) -> None:
    reply = await providers.chat(
        http, fake.credential("google"), fake.settings, judge_request("google")
    )
    [recorded] = fake.server.recorded_requests("google")
    assert recorded["path"] == "/v1beta/models/gemini-2.5-pro:generateContent"
    body = recorded["body"]
    assert body["systemInstruction"] == {"parts": [{"text": "You are a strict evaluator."}]}
    config = body["generationConfig"]
    assert config["responseMimeType"] == "application/json"
    assert config["maxOutputTokens"] == 256
    assert "additionalProperties" not in json.dumps(config["responseSchema"])
    assert config["responseSchema"]["type"] == "OBJECT"
    # Thinking tokens count as output.
    usage = reply.raw["usageMetadata"]
    assert reply.output_tokens == usage["candidatesTokenCount"] + usage["thoughtsTokenCount"]


async def test_azure_request_wire_format(fake: Fake, http: HttpClient) -> None:
    credential = fake.credential("azure_openai", api_version="2024-08-01-preview")
    await providers.chat(http, credential, fake.settings, judge_request("azure_openai"))
    await providers.list_models(http, credential, fake.settings)
    chat_call, models_call = fake.server.recorded_requests("azure_openai")
    assert chat_call["path"] == "/openai/deployments/my-gpt4o-deployment/chat/completions"
    assert chat_call["query"] == {"api-version": "2024-08-01-preview"}
    assert "model" not in chat_call["body"]
    assert chat_call["body"]["max_tokens"] == 256
    assert chat_call["body"]["response_format"]["json_schema"]["strict"] is True
    assert models_call["path"] == "/openai/models"
    assert models_call["query"] == {"api-version": "2024-08-01-preview"}


async def test_azure_default_api_version_and_pasted_openai_suffix(
    fake: Fake, http: HttpClient
) -> None:
    credential = fake.credential("azure_openai", endpoint=fake.server.azure_endpoint + "/openai/")
    await providers.list_models(http, credential, fake.settings)
    [call] = fake.server.recorded_requests("azure_openai")
    assert call["path"] == "/openai/models"
    assert call["query"] == {"api-version": "2024-10-21"}


async def test_plain_text_chat_without_a_schema(fake: Fake, http: HttpClient) -> None:
    fake.server.configure(policy={"kind": "garbage", "text": "just words"})
    for provider in PROVIDER_NAMES:
        reply = await providers.chat(
            http,
            fake.credential(provider),
            fake.settings,
            judge_request(provider, json_schema=None),
        )
        assert reply.text == "just words"


@all_providers
async def test_an_unparseable_answer_comes_back_as_text(
    provider: str, fake: Fake, http: HttpClient
) -> None:
    """The judge decides that such an answer is a case error; the provider layer reports it."""
    fake.server.schedule(provider, {"kind": "garbage"})
    reply = await providers.chat(
        http, fake.credential(provider), fake.settings, judge_request(provider)
    )
    with pytest.raises(ValueError):
        json.loads(reply.text)


# -- the error tree ----------------------------------------------------------------------


@all_providers
async def test_wrong_key_is_an_auth_error_with_the_providers_message(
    provider: str, fake: Fake, http: HttpClient
) -> None:
    prefix = "sk-" if provider in ("openai", "anthropic") else ""
    credential = fake.credential(provider, secret=prefix + "wrong-canary-" + "f00d" * 8)
    for call in (
        providers.check_key(http, credential, fake.settings),
        providers.chat(http, credential, fake.settings, judge_request(provider)),
    ):
        error = await expect(ProviderAuthError, call)
        assert WRONG_KEY_MESSAGES[provider] in error.message
        assert error.provider == provider
        assert error.status in (400, 401)
        assert not error.retryable
        assert_hidden(error, credential)


async def test_openai_echo_of_the_wrong_key_is_redacted(fake: Fake, http: HttpClient) -> None:
    credential = fake.credential("openai", secret="sk-proj-canary" + "0123456789abcdef" * 3)
    error = await expect(ProviderAuthError, providers.check_key(http, credential, fake.settings))
    assert "[redacted]" in error.message
    assert credential.secret[-4:] not in error.message.replace("[redacted]", "")


@all_providers
async def test_rate_limit_carries_retry_after(provider: str, fake: Fake, http: HttpClient) -> None:
    fake.server.schedule(provider, {"kind": "rate_limit", "retry_after": 2})
    credential = fake.credential(provider)
    error = await expect(
        ProviderRateLimited,
        providers.chat(http, credential, fake.settings, judge_request(provider)),
    )
    assert error.status == 429
    assert error.retry_after == pytest.approx(2.0, abs=0.01)
    assert error.retryable
    assert error.message
    assert_hidden(error, credential)


async def test_retry_after_as_an_http_date_and_in_milliseconds(
    fake: Fake, http: HttpClient
) -> None:
    fake.server.schedule(
        "openai",
        {
            "kind": "custom",
            "status": 429,
            "body": {
                "error": {"message": "Slow down", "type": "requests", "code": "rate_limit_exceeded"}
            },
            "headers": {"retry-after-ms": "1500"},
        },
    )
    error = await expect(
        ProviderRateLimited,
        providers.chat(http, fake.credential("openai"), fake.settings, judge_request("openai")),
    )
    assert error.retry_after == 1.5 and error.message == "Slow down"
    fake.server.schedule(
        "anthropic",
        {
            "kind": "custom",
            "status": 429,
            "body": {"type": "error", "error": {"type": "rate_limit_error", "message": "later"}},
            "headers": {"retry-after": "Wed, 21 Oct 2015 07:28:00 GMT"},
        },
    )
    error = await expect(
        ProviderRateLimited,
        providers.chat(
            http, fake.credential("anthropic"), fake.settings, judge_request("anthropic")
        ),
    )
    assert error.retry_after == 0.0  # a date in the past: retry now


@all_providers
async def test_server_errors_are_retryable(provider: str, fake: Fake, http: HttpClient) -> None:
    fake.server.schedule(
        provider,
        {"kind": "server_error", "retry_after": None},
        {"kind": "overloaded", "retry_after": None},
    )
    credential = fake.credential(provider)
    first = await expect(
        ProviderServerError,
        providers.chat(http, credential, fake.settings, judge_request(provider)),
    )
    assert first.status == 500 and first.retryable and first.message
    second = await expect(
        ProviderServerError,
        providers.chat(http, credential, fake.settings, judge_request(provider)),
    )
    assert second.status == (529 if provider == "anthropic" else 503)
    assert second.retryable
    if provider == "anthropic":
        assert second.message == "Overloaded"
    assert_hidden(second, credential)


@all_providers
async def test_quota_exhausted_is_not_retryable(
    provider: str, fake: Fake, http: HttpClient
) -> None:
    fake.server.schedule(provider, {"kind": "quota", "retry_after": None})
    credential = fake.credential(provider)
    error = await expect(
        ProviderQuotaExhausted,
        providers.chat(http, credential, fake.settings, judge_request(provider)),
    )
    assert not error.retryable
    assert "quota" in error.message.lower() or "credit" in error.message.lower()
    assert_hidden(error, credential)


async def test_anthropic_billing_and_spend_limit_errors_are_quota(
    fake: Fake, http: HttpClient
) -> None:
    fake.server.schedule(
        "anthropic",
        {
            "kind": "custom",
            "status": 402,
            "body": {"type": "error", "error": {"type": "billing_error", "message": "Pay up"}},
        },
        {
            "kind": "custom",
            "status": 429,
            "body": {
                "type": "error",
                "error": {
                    "type": "rate_limit_error",
                    "message": "Monthly spend limit reached",
                    "details": {"error_code": "enforced_spend_limit_reached"},
                },
            },
        },
    )
    for _ in range(2):
        await expect(
            ProviderQuotaExhausted,
            providers.chat(
                http, fake.credential("anthropic"), fake.settings, judge_request("anthropic")
            ),
        )


@all_providers
async def test_unreachable_port(provider: str, fake: Fake, http: HttpClient) -> None:
    dead = f"http://127.0.0.1:{free_port()}"
    settings = fake.with_settings(
        openai_base_url=dead + "/v1", anthropic_base_url=dead, google_base_url=dead
    )
    credential = (
        fake.credential(provider, endpoint=dead)
        if provider == "azure_openai"
        else (fake.credential(provider))
    )
    error = await expect(ProviderUnreachable, providers.check_key(http, credential, settings))
    assert error.retryable and error.status is None
    assert "127.0.0.1" in error.message
    assert_hidden(error, credential)


@all_providers
async def test_timeout_when_the_provider_is_slower_than_the_client(
    provider: str, fake: Fake, http: HttpClient
) -> None:
    fake.server.configure(providers={provider: {"latency_ms": 1500}})
    credential = fake.credential(provider)
    error = await expect(
        ProviderTimeout,
        providers.chat(
            http, credential, fake.with_settings(timeout_s=0.3), judge_request(provider)
        ),
    )
    assert error.retryable
    assert "0.3 s" in error.message
    assert_hidden(error, credential)


async def test_a_hanging_provider_times_out_and_a_dropped_connection_is_unreachable(
    fake: Fake, http: HttpClient
) -> None:
    fake.server.schedule("openai", {"kind": "timeout", "seconds": 3}, {"kind": "drop"})
    settings = fake.with_settings(timeout_s=0.3)
    await expect(
        ProviderTimeout,
        providers.chat(http, fake.credential("openai"), settings, judge_request("openai")),
    )
    error = await expect(
        ProviderUnreachable,
        providers.chat(http, fake.credential("openai"), settings, judge_request("openai")),
    )
    assert error.retryable


async def test_unknown_model_and_bad_requests_are_not_retryable(
    fake: Fake, http: HttpClient
) -> None:
    # The fake serves any model name on generateContent; the real API answers this 404.
    fake.server.schedule(
        "google",
        {
            "kind": "custom",
            "status": 404,
            "body": {
                "error": {
                    "code": 404,
                    "status": "NOT_FOUND",
                    "message": "models/gemini-0 is not found for API version v1beta",
                }
            },
        },
    )
    error = await expect(
        ProviderBadRequest,
        providers.chat(
            http,
            fake.credential("google"),
            fake.settings,
            judge_request("google", model="gemini-0"),
        ),
    )
    assert error.status == 404 and "not found" in error.message and not error.retryable
    error = await expect(
        ProviderBadRequest,
        providers.chat(
            http,
            fake.credential("anthropic"),
            fake.settings,
            judge_request("anthropic", temperature=1.5),
        ),
    )
    assert error.status == 400 and "temperature" in error.message


async def test_azure_unknown_deployment_and_missing_endpoint(fake: Fake, http: HttpClient) -> None:
    fake.server.configure(providers={"azure_openai": {"deployments": ["prod-gpt4o"]}})
    error = await expect(
        ProviderBadRequest,
        providers.chat(
            http, fake.credential("azure_openai"), fake.settings, judge_request("azure_openai")
        ),
    )
    assert error.status == 404 and "deployment" in error.message.lower()
    no_endpoint = Credential("azure_openai", "azure-test-" + "ab" * 20, {})
    error = await expect(ProviderBadRequest, providers.check_key(http, no_endpoint, fake.settings))
    assert "endpoint" in error.message


async def test_an_openai_keys_own_base_url(fake: Fake, http: HttpClient) -> None:
    elsewhere = fake.with_settings(openai_base_url="http://127.0.0.1:9/v1")
    credential = fake.credential("openai", base_url=fake.server.openai_base_url + "/")
    assert "gpt-4o" in await providers.list_models(http, credential, elsewhere)
    # Without the operator's permission a private base URL is refused before any request.
    strict = fake.with_settings(allow_private_urls=False)
    error = await expect(ProviderBadRequest, providers.list_models(http, credential, strict))
    assert "https" in error.message
    azure = fake.credential("azure_openai")
    await expect(ProviderBadRequest, providers.list_models(http, azure, strict))
    assert fake.server.counters()["providers"]["openai"]["requests"] == 1
    assert fake.server.counters()["providers"]["azure_openai"]["requests"] == 0
