"""Azure OpenAI: the OpenAI dialect at the key's ``endpoint``, ``api-key`` header, ``api-version``.

The model of a request is the deployment name. The key test lists the resource's models
(``GET {endpoint}/openai/models?api-version=…``), the documented cheap authenticated call.
``max_tokens`` (not ``max_completion_tokens``) because the default GA version 2024-10-21
documents it for chat completions.
"""

from __future__ import annotations

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
    endpoint = await _endpoint(credential, settings)
    body = await send(
        http,
        "GET",
        f"{endpoint.url}/openai/models",
        provider=PROVIDER,
        secret=credential.secret,
        read_error=_read_error,
        timeout_s=settings.timeout_s,
        headers={"api-key": credential.secret},
        params=_version(credential),
        connect_to=endpoint.address,
    )
    return model_ids(PROVIDER, body)


async def chat(
    http: HttpClient, credential: Credential, settings: ProviderSettings, request: ChatRequest
) -> ChatReply:
    """``POST {endpoint}/openai/deployments/{deployment}/chat/completions?api-version=…``."""
    endpoint = await _endpoint(credential, settings)
    deployment = quote(request.model.strip(), safe="")
    body = await send(
        http,
        "POST",
        f"{endpoint.url}/openai/deployments/{deployment}/chat/completions",
        provider=PROVIDER,
        secret=credential.secret,
        read_error=_read_error,
        timeout_s=settings.timeout_s,
        headers={"api-key": credential.secret},
        params=_version(credential),
        body=chat_body(request, max_tokens_field="max_tokens"),
        connect_to=endpoint.address,
    )
    return parse_chat(PROVIDER, body, request)


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
