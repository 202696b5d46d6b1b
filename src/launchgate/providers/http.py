"""The only module that imports httpx: the shared client and the one ``send``.

``send`` turns every transport failure and every non-2xx answer into our error tree, and
scrubs the key out of whatever came back before anyone parses it. Provider modules tell it
how to read their error bodies (``ErrorReader``); they never see an httpx exception.

A call to a key's own URL is pinned (``connect_to``): the request goes to the address the
SSRF guard checked, never to a second DNS answer, while TLS still verifies the URL's host
name (httpcore's ``sni_hostname`` extension) and ``Host`` still names it.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable, Mapping
from http.cookiejar import CookieJar, DefaultCookiePolicy
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
from launchgate.providers.urls import IPAddress

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
    No cookies kept: the client is shared by every organisation's calls, and one
    provider's cookie must not ride along on another tenant's request (a pinned request
    is addressed to an IP, which the cookie jar would treat as the cookie's domain).
    """
    return httpx.AsyncClient(
        cookies=CookieJar(policy=DefaultCookiePolicy(allowed_domains=[])),
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
    connect_to: IPAddress | None = None,
) -> dict[str, Any]:
    """Send one request; the JSON object of a 2xx answer, else a ``ProviderError``.

    ``connect_to``: the address the SSRF guard approved for the URL's host (see
    ``CheckedUrl``); the connection goes there and nowhere else.
    """
    response = await _request(
        http,
        method,
        url,
        provider=provider,
        timeout_s=timeout_s,
        headers=headers,
        params=params,
        body=body,
        connect_to=connect_to,
    )
    # Scrub before parsing: error bodies echo keys (OpenAI quotes the key it refused).
    text = response.text.replace(secret, REDACTED)
    parsed = _json(text)
    if 200 <= response.status_code < 300:
        if not isinstance(parsed, dict):
            raise ProviderServerError(
                provider,
                f"{provider} answered {response.status_code} with a non-JSON body",
                response.status_code,
            )
        return parsed
    if 300 <= response.status_code < 400:
        raise ProviderBadRequest(
            provider,
            f"{provider} answered with a redirect ({response.status_code})",
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
    connect_to: IPAddress | None,
) -> httpx.Response:
    """The response, or our error raised outside the ``except``: an httpx exception holds
    the request, key header included, and must not ride along as ``__context__``."""
    failure: ProviderError
    try:
        target, headers, extensions = _pinned(url, headers, connect_to)
        # httpx's timeouts bound each phase; the outer one bounds the whole call, so a
        # provider dribbling bytes cannot hold a judge slot past the setting.
        async with asyncio.timeout(timeout_s):
            return await http.request(
                method,
                target,
                headers=headers,
                params=params,
                json=body,
                timeout=_timeout(timeout_s),
                extensions=extensions,
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
        failure = ProviderServerError(
            provider, f"{provider} sent an unreadable answer ({_kind(exc)})"
        )
    raise failure


def _pinned(
    url: str, headers: Mapping[str, str] | None, connect_to: IPAddress | None
) -> tuple[httpx.URL | str, dict[str, str], dict[str, Any]]:
    """The request aimed at ``connect_to`` and still naming the URL's host.

    The URL's host becomes the address, so the pool connects there without resolving;
    ``Host`` keeps ``host[:port]`` and ``sni_hostname`` makes httpcore send the host name
    in the TLS handshake and verify the certificate against it. ``Connection: close``: the
    pool keys connections by address, so a kept-alive connection verified for one host
    name could otherwise carry a later request for another host at the same address.
    """
    headers = dict(headers or {})
    if connect_to is None:
        return url, headers, {}
    parsed = httpx.URL(url)
    headers["host"] = parsed.netloc.decode("ascii")
    headers["connection"] = "close"
    return parsed.copy_with(host=str(connect_to)), headers, {"sni_hostname": parsed.host}


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
