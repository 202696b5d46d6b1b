"""The only module that imports httpx: the shared client and the one ``send``.

``send`` turns every transport failure and every non-2xx answer into our error tree, and
scrubs the key out of whatever came back before anyone parses it. Provider modules tell it
how to read their error bodies (``ErrorReader``); they never see an httpx exception.

A call to a key's own URL is pinned (``connect_to``): the request goes to the address the
SSRF guard checked, never to a second DNS answer, while TLS still verifies the URL's host
name (the ``sni_hostname`` extension) and ``Host`` still names it.

The bytes travel over aiohttp (``httpx-aiohttp``'s transport) rather than httpcore: with
20 judge calls in flight, httpcore's pool costs about 2 ms of CPU per request on our
machines (it scans every connection and queued request on each one), aiohttp about
0.3 ms, and that CPU is what kept a judged batch from its 20-slot ceiling (bench/RESULTS.md,
"Batch throughput"). httpx stays the interface: requests, timeouts, errors and the tests'
transports are unchanged.

httpx and aiohttp are imported when the first request is sent (``HttpClient`` makes the
client then): a server whose suites never call a judge or test a key does not pay their
~11 MB of resident memory (bench/RESULTS.md, "Resident memory").

Each request is a span (observability/tracing.py) naming the provider, the method, the
host and the status: never the URL's path or query, the headers or the body, which carry
the key, the deployment and the prompt.
"""

from __future__ import annotations

import asyncio
import json
import ssl
import urllib.request
from collections.abc import Callable, Mapping
from http.cookiejar import CookieJar, DefaultCookiePolicy
from typing import TYPE_CHECKING, Any

from launchgate.observability import tracing
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

if TYPE_CHECKING:
    import aiohttp
    import httpx
    from httpx_aiohttp import AiohttpTransport

# (status, headers, body parsed as JSON or the raw text) -> the error to raise.
ErrorReader = Callable[[int, Mapping[str, str], Any], ProviderError]
_CONNECT_TIMEOUT_S = 10.0
_SNIPPET = 200


class HttpClient:
    """The process-wide client, made in the lifespan and closed at shutdown: httpx's
    ``AsyncClient``, built (and httpx and aiohttp imported) on the first request."""

    def __init__(self, build: Callable[[], httpx.AsyncClient]) -> None:
        self._build = build
        self._client: httpx.AsyncClient | None = None

    @property
    def client(self) -> httpx.AsyncClient:
        if self._client is None:
            self._client = self._build()
        return self._client

    async def request(self, method: str, url: httpx.URL | str, **kwargs: Any) -> httpx.Response:
        return await self.client.request(method, url, **kwargs)

    async def aclose(self) -> None:
        if self._client is not None:
            await self._client.aclose()

    async def __aenter__(self) -> HttpClient:
        return self

    async def __aexit__(self, *_exc: object) -> None:
        await self.aclose()


def create_client(
    timeout_s: float = 60.0,
    *,
    max_connections: int = 200,
    transport: httpx.AsyncBaseTransport | None = None,
    verify: ssl.SSLContext | None = None,
) -> HttpClient:
    """The process-wide client (made in the lifespan, closed at shutdown), as
    ``_build_client`` makes it on first use.

    No redirects: a public URL must not bounce our request, key included, somewhere else.
    No cookies kept: the client is shared by every organisation's calls, and one
    provider's cookie must not ride along on another tenant's request (a pinned request
    is addressed to an IP, which the cookie jar would treat as the cookie's domain).

    The transport is aiohttp's (see the module's docstring), except when the environment
    names an outbound proxy (``HTTPS_PROXY`` and friends): then httpx's own, which applies
    those variables, ``NO_PROXY`` included, as documented in docs/byok.md. ``verify``: the
    certificates to trust instead of the default ones (tests with their own CA).
    """
    return HttpClient(lambda: _build_client(timeout_s, max_connections, transport, verify))


def _build_client(
    timeout_s: float,
    max_connections: int,
    transport: httpx.AsyncBaseTransport | None,
    verify: ssl.SSLContext | None,
) -> httpx.AsyncClient:
    import httpx

    ssl_context = verify or httpx.create_ssl_context()
    if transport is None and not _proxied():
        transport = _aiohttp_transport(max_connections, ssl_context)
    return httpx.AsyncClient(
        verify=ssl_context,
        cookies=CookieJar(policy=DefaultCookiePolicy(allowed_domains=[])),
        timeout=_timeout(timeout_s),
        limits=httpx.Limits(
            max_connections=max_connections,
            max_keepalive_connections=max(1, max_connections // 4),
            keepalive_expiry=IDLE_KEEPALIVE_S,
        ),
        follow_redirects=False,
        headers={"user-agent": "launchgate"},
        transport=transport,
    )


# How long an idle connection to a provider is kept for the next call. Below the idle
# timeout of the servers OpenAI-compatible endpoints commonly run behind (uvicorn's and
# Node's 5 s): a connection the server closes at 5 s could otherwise be taken for a call at
# that very moment, before the event loop has read the server's FIN (aiohttp, unlike
# httpcore, does not poll an idle socket before reusing it), and the call would fail as
# unreachable and be retried. Judge calls close together reuse their connection; one after a
# pause of seconds pays a new handshake, small beside a model's answer.
IDLE_KEEPALIVE_S = 4.0


def _proxied() -> bool:
    """Whether the environment names a proxy for http or https (or all) requests."""
    return any(scheme in urllib.request.getproxies() for scheme in ("http", "https", "all"))


def _aiohttp_transport(max_connections: int, ssl_context: ssl.SSLContext) -> AiohttpTransport:
    """httpx's interface over an aiohttp session made on first use (inside the running
    loop, as aiohttp requires). Its own cookie jar is a dummy: aiohttp would otherwise keep
    cookies below httpx's jar and send them on another tenant's call. Certificates are
    verified as httpx would (certifi, or ``SSL_CERT_FILE``) unless told otherwise."""
    import aiohttp
    from httpx_aiohttp import AiohttpTransport

    def session() -> aiohttp.ClientSession:
        connector = aiohttp.TCPConnector(
            limit=max_connections, keepalive_timeout=IDLE_KEEPALIVE_S, ssl=ssl_context
        )
        return aiohttp.ClientSession(
            connector=connector, cookie_jar=aiohttp.DummyCookieJar(), trust_env=False
        )

    return AiohttpTransport(client=session)


def _timeout(seconds: float) -> httpx.Timeout:
    import httpx

    return httpx.Timeout(seconds, connect=min(_CONNECT_TIMEOUT_S, seconds))


async def send(
    http: HttpClient | httpx.AsyncClient,
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
    attributes = {"launchgate.provider": provider, "http.request.method": method}
    with tracing.span(f"{method} {provider}", attributes, kind="client") as span:
        if span is not None:
            tracing.set_attributes(span, {"server.address": _host(url)})
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
        tracing.set_attributes(span, {"http.response.status_code": response.status_code})
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
    http: HttpClient | httpx.AsyncClient,
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
    import aiohttp  # already loaded: the client was built by now, or is built below
    import httpx

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
    except (httpx.RequestError, aiohttp.ClientError, TimeoutError) as exc:
        failure = _failure(exc, provider=provider, url=url, timeout_s=timeout_s)
    raise failure


def _failure(exc: Exception, *, provider: str, url: str, timeout_s: float) -> ProviderError:
    """Our error for a failed request. The aiohttp transport hands most of aiohttp's
    errors up as httpx ones with the original as ``__cause__``, but its mapping is coarse
    (a dropped connection comes up as a connect timeout), so the cause decides when there
    is one; a few aiohttp errors come up unmapped."""
    import aiohttp
    import httpx

    cause = exc.__cause__ if isinstance(exc.__cause__, aiohttp.ClientError) else exc
    if isinstance(cause, httpx.UnsupportedProtocol | httpx.InvalidURL | aiohttp.InvalidURL):
        return ProviderBadRequest(provider, f"invalid provider URL for {provider}")
    if isinstance(cause, httpx.TimeoutException | TimeoutError):  # aiohttp's timeouts too
        return ProviderTimeout(
            provider, f"{provider} did not answer within {timeout_s:g} s ({_kind(cause)})"
        )
    # A connection refused or dropped, before the answer or in the middle of its body.
    dropped = aiohttp.ClientConnectionError | aiohttp.ClientPayloadError
    if isinstance(cause, httpx.TransportError | dropped):
        return ProviderUnreachable(
            provider, f"cannot reach {provider} at {_host(url)} ({_kind(cause)})"
        )
    # An undecodable or malformed answer, a redirect loop.
    return ProviderServerError(provider, f"{provider} sent an unreadable answer ({_kind(cause)})")


def _pinned(
    url: str, headers: Mapping[str, str] | None, connect_to: IPAddress | None
) -> tuple[httpx.URL | str, dict[str, str], dict[str, Any]]:
    """The request aimed at ``connect_to`` and still naming the URL's host.

    The URL's host becomes the address, so the pool connects there without resolving;
    ``Host`` keeps ``host[:port]`` and ``sni_hostname`` makes the transport send the host
    name in the TLS handshake and verify the certificate against it. A connection verified
    for one name must never carry a request for another name at the same address:
    aiohttp's pool keys connections by server name too, and ``Connection: close`` covers
    httpcore's (used behind a proxy), which keys them by address only.
    """
    headers = dict(headers or {})
    if connect_to is None:
        return url, headers, {}
    import httpx

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
    import httpx

    try:
        parsed = httpx.URL(url)
    except httpx.InvalidURL:
        return "?"
    return f"{parsed.host}:{parsed.port}" if parsed.port else parsed.host
