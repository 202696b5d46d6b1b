"""The error tree, retry-after parsing, redaction, and the credential that hides its key."""

from __future__ import annotations

import email.utils
import time
from pathlib import Path

import pytest

from launchgate.config import Settings
from launchgate.providers import (
    PROVIDERS,
    ChatRequest,
    Credential,
    ProviderAuthError,
    ProviderBadRequest,
    ProviderError,
    ProviderQuotaExhausted,
    ProviderRateLimited,
    ProviderServerError,
    ProviderSettings,
    ProviderTimeout,
    ProviderUnreachable,
    provider_settings,
)
from launchgate.providers.errors import from_status, redact, retry_after_seconds

SECRET = "sk-canary-4f0c2a9be1d84c7e9a3b5d6f7081a2b3"

RETRYABLE = {
    ProviderAuthError: False,
    ProviderRateLimited: True,
    ProviderQuotaExhausted: False,
    ProviderServerError: True,
    ProviderTimeout: True,
    ProviderUnreachable: True,
    ProviderBadRequest: False,
}


@pytest.mark.parametrize(("cls", "retryable"), RETRYABLE.items())
def test_every_error_knows_whether_a_retry_can_help(
    cls: type[ProviderError], retryable: bool
) -> None:
    error = cls("openai", "boom", 500)
    assert isinstance(error, ProviderError)
    assert error.retryable is retryable


@pytest.mark.parametrize("cls", RETRYABLE)
def test_no_error_shows_a_key_in_str_or_repr(cls: type[ProviderError]) -> None:
    gemini_key = "AIzaSyA1b2C3d4E5f6G7h8I9j0KlMnOpQrStUvW"
    azure_key = "0123456789abcdef0123456789abcdef"
    error = cls("openai", f"bad key {SECRET} / {gemini_key} / {azure_key} / sk-proj-****wxyz")
    for text in (str(error), repr(error), str(error.args)):
        for secret in (SECRET, gemini_key, azure_key, "sk-proj-****wxyz"):
            assert secret not in text
    assert "[redacted]" in str(error)


def test_redact_removes_a_given_secret_of_any_shape() -> None:
    assert redact("key=hunter2-canary!", ["hunter2-canary!"]) == "key=[redacted]"
    # Model names and request ids survive.
    text = "model claude-sonnet-4-20250514, request req_011CSHoEeqs5C35K2UUqR7Fy"
    assert redact(text) == text


@pytest.mark.parametrize(
    ("status", "cls"),
    [
        (400, ProviderBadRequest),
        (401, ProviderAuthError),
        (403, ProviderAuthError),
        (402, ProviderQuotaExhausted),
        (404, ProviderBadRequest),
        (408, ProviderTimeout),
        (422, ProviderBadRequest),
        (429, ProviderRateLimited),
        (500, ProviderServerError),
        (503, ProviderServerError),
        (529, ProviderServerError),
    ],
)
def test_status_mapping(status: int, cls: type[ProviderError]) -> None:
    error = from_status("anthropic", status, "message")
    assert type(error) is cls
    assert error.status == status


def test_retry_after_in_seconds_milliseconds_and_http_date() -> None:
    assert retry_after_seconds({"retry-after": "7"}) == 7.0
    assert retry_after_seconds({"retry-after": "1.5"}) == 1.5
    # retry-after-ms wins (OpenAI/Azure and Anthropic send it, more precise).
    assert retry_after_seconds({"retry-after-ms": "250", "retry-after": "1"}) == 0.25
    future = email.utils.formatdate(time.time() + 30, usegmt=True)
    assert 27 <= (retry_after_seconds({"retry-after": future}) or 0) <= 30
    past = email.utils.formatdate(time.time() - 30, usegmt=True)
    assert retry_after_seconds({"retry-after": past}) == 0.0
    assert retry_after_seconds({"retry-after": "soon"}) is None
    assert retry_after_seconds({}) is None


def test_credential_repr_masks_all_but_the_prefix() -> None:
    credential = Credential("openai", SECRET, {"organization": "org-1"})
    for text in (repr(credential), str(credential), f"{credential}", str([credential])):
        assert SECRET not in text
        assert SECRET[8:] not in text
        assert SECRET[:8] + "***" in text
        assert "org-1" in text


def test_a_short_key_is_masked_entirely() -> None:
    credential = Credential("google", "short-key-123")
    assert "short-key" not in repr(credential)
    assert "***" in repr(credential)


def test_credential_validates_provider_and_key() -> None:
    assert set(PROVIDERS) == {"openai", "anthropic", "google", "azure_openai"}
    with pytest.raises(ValueError, match="unknown provider"):
        Credential("cohere", SECRET)
    with pytest.raises(ValueError, match="non-empty"):
        Credential("openai", "  ")


def test_provider_settings_come_from_the_server_settings(tmp_path: Path) -> None:
    assert ProviderSettings().openai_base_url == "https://api.openai.com/v1"
    settings = Settings(
        data_dir=tmp_path,
        openai_base_url="http://127.0.0.1:9/v1/",
        anthropic_base_url="http://127.0.0.1:9",
        google_base_url="http://127.0.0.1:9",
        provider_timeout_s=5,
        allow_private_provider_urls=True,
    )
    built = provider_settings(settings)
    assert built == ProviderSettings(
        openai_base_url="http://127.0.0.1:9/v1",
        anthropic_base_url="http://127.0.0.1:9",
        google_base_url="http://127.0.0.1:9",
        anthropic_version="2023-06-01",
        timeout_s=5.0,
        allow_private_urls=True,
    )
    defaults = provider_settings(Settings(data_dir=tmp_path))
    assert defaults.google_base_url == "https://generativelanguage.googleapis.com"
    assert defaults.allow_private_urls is False


def test_provider_settings_read_the_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LAUNCHGATE_OPENAI_BASE_URL", "http://proxy.internal/v1")
    monkeypatch.setenv("LAUNCHGATE_PROVIDER_TIMEOUT_S", "12.5")
    monkeypatch.setenv("LAUNCHGATE_ALLOW_PRIVATE_PROVIDER_URLS", "true")
    built = provider_settings(Settings(data_dir=tmp_path))
    assert (built.openai_base_url, built.timeout_s, built.allow_private_urls) == (
        "http://proxy.internal/v1",
        12.5,
        True,
    )


def test_chat_request_checks_its_schema_and_names_it_safely() -> None:
    request = ChatRequest(
        "gpt-4o",
        "sys",
        "user",
        json_schema={"name": "judge verdict!", "schema": {"type": "object"}},
    )
    assert request.schema_name == "judge_verdict_"
    with pytest.raises(ValueError, match="json_schema"):
        ChatRequest("gpt-4o", "sys", "user", json_schema={"schema": {}})
