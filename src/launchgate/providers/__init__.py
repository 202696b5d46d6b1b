"""LLM providers over one shared HTTP client: the four wire formats, our error tree, the
SSRF guard. HTTP and nothing else: callers hand in an opened ``Credential`` and the
``ProviderSettings``; nothing here reads the vault, the database or the settings.

    http = create_client()                       # once, in the lifespan
    latency_ms = await check_key(http, credential, settings)
    reply = await chat(http, credential, settings, ChatRequest(...))
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from launchgate.providers import anthropic, azure_openai, google, openai
from launchgate.providers.credential import (
    PROVIDERS,
    Credential,
    ProviderSettings,
    provider_settings,
)
from launchgate.providers.errors import (
    ProviderAuthError,
    ProviderBadRequest,
    ProviderError,
    ProviderQuotaExhausted,
    ProviderRateLimited,
    ProviderServerError,
    ProviderTimeout,
    ProviderUnreachable,
)
from launchgate.providers.http import HttpClient, create_client
from launchgate.providers.schemas import ChatReply, ChatRequest
from launchgate.providers.urls import CheckedUrl, UnsafeProviderUrl, check_public_https_url

__all__ = [
    "DEFAULT_MODELS",
    "PROVIDERS",
    "ChatReply",
    "ChatRequest",
    "CheckedUrl",
    "Credential",
    "HttpClient",
    "ProviderAuthError",
    "ProviderBadRequest",
    "ProviderError",
    "ProviderQuotaExhausted",
    "ProviderRateLimited",
    "ProviderServerError",
    "ProviderSettings",
    "ProviderTimeout",
    "ProviderUnreachable",
    "UnsafeProviderUrl",
    "chat",
    "check_key",
    "check_public_https_url",
    "create_client",
    "list_models",
    "provider_settings",
]

# Azure has none: its model is the deployment name the customer chose.
DEFAULT_MODELS = {
    "openai": "gpt-4o",
    "anthropic": "claude-sonnet-4-20250514",
    "google": "gemini-2.5-pro",
}


@dataclass(frozen=True)
class _Api:
    list_models: Callable[[HttpClient, Credential, ProviderSettings], Awaitable[list[str]]]
    chat: Callable[[HttpClient, Credential, ProviderSettings, ChatRequest], Awaitable[ChatReply]]


_APIS = {
    "openai": _Api(openai.list_models, openai.chat),
    "anthropic": _Api(anthropic.list_models, anthropic.chat),
    "google": _Api(google.list_models, google.chat),
    "azure_openai": _Api(azure_openai.list_models, azure_openai.chat),
}


def _api(credential: Credential) -> _Api:
    try:
        return _APIS[credential.provider]
    except KeyError:
        raise ProviderBadRequest(credential.provider, "unknown provider") from None


async def list_models(
    http: HttpClient, credential: Credential, settings: ProviderSettings
) -> list[str]:
    """The models the key may use (one page); raises ``ProviderError``."""
    return await _api(credential).list_models(http, credential, settings)


async def check_key(http: HttpClient, credential: Credential, settings: ProviderSettings) -> float:
    """Milliseconds one cheap authenticated call (list models) took; raises ``ProviderError``."""
    started = time.perf_counter()
    await list_models(http, credential, settings)
    return round((time.perf_counter() - started) * 1000, 1)


async def chat(
    http: HttpClient, credential: Credential, settings: ProviderSettings, request: ChatRequest
) -> ChatReply:
    """One chat call to the credential's provider; raises ``ProviderError``."""
    return await _api(credential).chat(http, credential, settings, request)
