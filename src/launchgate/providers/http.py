"""The only module that imports httpx: the shared client and the one ``send``.

``send`` turns every transport failure and every non-2xx answer into our error tree, and
scrubs the key out of whatever came back before anyone parses it. Provider modules tell it
how to read their error bodies (``ErrorReader``); they never see an httpx exception.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable, Mapping
from typing import Any

import httpx

from launchgate.providers.errors import (
    REDACTED,
    ProviderBadRequest,
    ProviderError,
    ProviderServerError,
    ProviderTimeout,
    ProviderUnreachable,
    redact,
)

HttpClient = httpx.AsyncClient
# (status, headers, body parsed as JSON or the raw text) -> the error to raise.
ErrorReader = Callable[[int, Mapping[str, str], Any], ProviderError]
_CONNECT_TIMEOUT_S = 10.0
_SNIPPET = 200


def create_client(
    timeout_s: float = 60.0,
    *,
    max_connections: int = 200,
    transport: httpx.AsyncBaseTransport | None = None,
) -> httpx.AsyncClient:
    """The process-wide client (made in the lifespan, closed at shutdown).

    No redirects: a public URL must not bounce our request, key included, somewhere else.
    """
    return httpx.AsyncClient(
        timeout=_timeout(timeout_s),
        limits=httpx.Limits(
            max_connections=max_connections,
            max_keepalive_connections=max(1, max_connections // 4),
            keepalive_expiry=30.0,
        ),
        follow_redirects=False,
        headers={"user-agent": "launchgate"},
        transport=transport,
    )


def _timeout(seconds: float) -> httpx.Timeout:
    return httpx.Timeout(seconds, connect=min(_CONNECT_TIMEOUT_S, seconds))


async def send(
    http: httpx.AsyncClient,
    method: str,
    url: str,
    *,
    provider: str,
    secret: str,
    read_error: ErrorReader,
    timeout_s: float,
    headers: Mapping[str, str] | None = None,
    params: Mapping[str, str] | None = None,
    body: Any = None,
) -> dict[str, Any]:
    """Send one request; the JSON object of a 2xx answer, else a ``ProviderError``."""
    response = await _request(
        http, method, url, provider=provider, timeout_s=timeout_s, headers=headers,
        params=params, body=body,
    )
    # Scrub before parsing: error bodies echo keys (OpenAI quotes the key it refused).
    text = response.text.replace(secret, REDACTED)
    parsed = _json(text)
    if 200 <= response.status_code < 300:
        if not isinstance(parsed, dict):
            raise ProviderServerError(
                provider, f"{provider} answered {response.status_code} with a non-JSON body",
                response.status_code,
            )
        return parsed
    if 300 <= response.status_code < 400:
        raise ProviderBadRequest(
            provider, f"{provider} answered with a redirect ({response.status_code})",
            response.status_code,
        )
    raise read_error(response.status_code, response.headers, parsed if parsed is not None else text)


async def _request(
    http: httpx.AsyncClient,
    method: str,
    url: str,
    *,
    provider: str,
    timeout_s: float,
    headers: Mapping[str, str] | None,
    params: Mapping[str, str] | None,
    body: Any,
) -> httpx.Response:
    """The response, or our error raised outside the ``except``: an httpx exception holds
    the request, key header included, and must not ride along as ``__context__``."""
    failure: ProviderError
    try:
        # httpx's timeouts bound each phase; the outer one bounds the whole call, so a
        # provider dribbling bytes cannot hold a judge slot past the setting.
        async with asyncio.timeout(timeout_s):
            return await http.request(
                method, url, headers=headers, params=params, json=body,
                timeout=_timeout(timeout_s),
            )
    except (httpx.UnsupportedProtocol, httpx.InvalidURL):
        failure = ProviderBadRequest(provider, f"invalid provider URL for {provider}")
    except (httpx.TimeoutException, TimeoutError) as exc:
        failure = ProviderTimeout(
            provider, f"{provider} did not answer within {timeout_s:g} s ({_kind(exc)})"
        )
    except httpx.TransportError as exc:
        failure = ProviderUnreachable(
            provider, f"cannot reach {provider} at {_host(url)} ({_kind(exc)})"
        )
    except httpx.RequestError as exc:  # an undecodable body, a redirect loop
        failure = ProviderServerError(provider, f"{provider} sent an unreadable answer "
                                      f"({_kind(exc)})")
    raise failure


def _json(text: str) -> Any:
    try:
        return json.loads(text)
    except ValueError:
        return None


def _kind(exc: Exception) -> str:
    """The failure's class, plus its text when that text cannot carry the request."""
    detail = str(exc)
    return f"{type(exc).__name__}: {redact(detail)[:_SNIPPET]}" if detail else type(exc).__name__


def _host(url: str) -> str:
    try:
        parsed = httpx.URL(url)
    except httpx.InvalidURL:
        return "?"
    return f"{parsed.host}:{parsed.port}" if parsed.port else parsed.host

