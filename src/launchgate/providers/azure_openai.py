"""Azure OpenAI: the OpenAI dialect at the key's ``endpoint``, ``api-key`` header, ``api-version``.

The model of a request is the deployment name. The key test lists the resource's models
(``GET {endpoint}/openai/models?api-version=…``), the documented cheap authenticated call.
``max_tokens`` (not ``max_completion_tokens``) because the default GA version 2024-10-21
documents it for chat completions.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from launchgate.providers.credential import AZURE_DEFAULT_API_VERSION, Credential, ProviderSettings
from launchgate.providers.errors import ProviderBadRequest
from launchgate.providers.http import HttpClient, send
from launchgate.providers.openai import chat_body, model_ids, parse_chat, read_error_for
from launchgate.providers.schemas import ChatReply, ChatRequest
from launchgate.providers.urls import CheckedUrl, checked_key_url

PROVIDER = "azure_openai"
_read_error = read_error_for(PROVIDER)


async def list_models(
    http: HttpClient, credential: Credential, settings: ProviderSettings
) -> list[str]:
    """``GET {endpoint}/openai/models?api-version=…``."""
    return model_ids(PROVIDER, await _send(http, credential, settings, "GET", "/openai/models"))


async def chat(
    http: HttpClient, credential: Credential, settings: ProviderSettings, request: ChatRequest
) -> ChatReply:
    """``POST {endpoint}/openai/deployments/{deployment}/chat/completions?api-version=…``."""
    deployment = quote(request.model.strip(), safe="")
    body = await _send(
        http,
        credential,
        settings,
        "POST",
        f"/openai/deployments/{deployment}/chat/completions",
        chat_body(request, max_tokens_field="max_tokens"),
    )
    return parse_chat(PROVIDER, body, request)


async def _send(
    http: HttpClient,
    credential: Credential,
    settings: ProviderSettings,
    method: str,
    path: str,
    body: Any = None,
) -> dict[str, Any]:
    """One call to ``{endpoint}{path}``, pinned to the address the guard checked."""
    endpoint = await _endpoint(credential, settings)
    return await send(
        http,
        method,
        f"{endpoint.url}{path}",
        provider=PROVIDER,
        secret=credential.secret,
        read_error=_read_error,
        timeout_s=settings.timeout_s,
        headers={"api-key": credential.secret},
        params=_version(credential),
        body=body,
        connect_to=endpoint.address,
    )


async def _endpoint(credential: Credential, settings: ProviderSettings) -> CheckedUrl:
    """The key's endpoint, checked against SSRF before each call and the call pinned to the
    checked address."""
    endpoint = credential.option("endpoint")
    if endpoint is None:
        raise ProviderBadRequest(PROVIDER, "this Azure OpenAI key has no endpoint in its config")
    checked = await checked_key_url(PROVIDER, endpoint, allow_private=settings.allow_private_urls)
    # People paste the endpoint with the "/openai" segment the paths already add.
    return checked.with_url(checked.url.removesuffix("/openai"))


def _version(credential: Credential) -> dict[str, str]:
    return {"api-version": credential.option("api_version") or AZURE_DEFAULT_API_VERSION}
