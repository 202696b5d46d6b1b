"""The only module that imports the HTTP libraries (httpx, aiohttp): the shared client
and the one ``send``.

``send`` turns every transport failure and every non-2xx answer into our error tree, and
scrubs the key out of whatever came back before anyone parses it. Provider modules tell it
how to read their error bodies (``ErrorReader``); they never see an httpx or aiohttp
exception.

A call to a key's own URL is pinned (``connect_to``): the request goes to the address the
SSRF guard checked, never to a second DNS answer, while TLS still verifies the URL's host
name (the server name of the handshake) and ``Host`` still names it.

The bytes travel over aiohttp rather than httpcore: with 20 judge calls in flight,
httpcore's pool costs about 2 ms of CPU per request on our machines (it scans every
connection and queued request on each one), aiohttp about 0.3 ms, and that CPU is what
kept a judged batch from its 20-slot ceiling (bench/RESULTS.md, "Batch throughput"). And
``send`` puts its request on aiohttp's session itself, without httpx's request and
response models over it: about 0.34 → 0.14 ms of CPU per call (issue 17). The request is
the one httpx would send — URL and query encoded by httpx, the same JSON body, headers,
timeouts and pinning (tests/providers/test_http_paths.py compares them on the wire).
httpx carries the call when the environment names a proxy (its transport applies
``HTTPS_PROXY`` and ``NO_PROXY`` as docs/byok.md says) or a test gives a transport.

httpx and aiohttp are imported when the first request is sent (``HttpClient`` makes the
client then): a server whose suites never call a judge or test a key does not pay their
~11 MB of resident memory (bench/RESULTS.md, "Resident memory"). They are imported, and the
certificates to trust loaded, in a thread (``HttpClient.load``): about 0.12 s of CPU on a
quiet machine, far more on a loaded one, that the first judge call or key test of a
process spent on the event loop, where every other request waited for it.

Each request is a span (observability/tracing.py) naming the provider, the method, the
host and the status: never the URL's path or query, the headers or the body, which carry
the key, the deployment and the prompt.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import json
import ssl
import urllib.request
from collections.abc import Callable, Mapping
from dataclasses import dataclass
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
    import yarl

# (status, headers, body parsed as JSON or the raw text) -> the error to raise.
ErrorReader = Callable[[int, Mapping[str, str], Any], ProviderError]
_CONNECT_TIMEOUT_S = 10.0
_SNIPPET = 200
USER_AGENT = "launchgate"


class HttpClient:
    """The process-wide client, made in the lifespan and closed at shutdown; httpx and
    aiohttp are imported, and the client built, on the first request.

    ``send`` hands a call to aiohttp's session itself (``session``) unless the environment
    names a proxy or a test brought a transport of its own: then to httpx's
    ``AsyncClient`` (``client``), which applies them. httpx's request and response models
    cost about 0.2 ms of CPU per provider call on top of aiohttp's own 0.15 ms
    (``bench/http_client_cost.py``), on every judge call (issue 17). ``request`` is httpx's
    interface, over the same aiohttp session when there is one."""

    def __init__(
        self,
        timeout_s: float,
        max_connections: int,
        transport: httpx.AsyncBaseTransport | None,
        verify: ssl.SSLContext | None,
    ) -> None:
        self._timeout_s = timeout_s
        self._max_connections = max_connections
        self._transport = transport
        self._verify = verify
        self._ssl: ssl.SSLContext | None = None
        self._direct: bool | None = None  # decided at the first request
        self._session: aiohttp.ClientSession | None = None
        self._client: httpx.AsyncClient | None = None

    def session(self) -> aiohttp.ClientSession | None:
        """The aiohttp session that sends provider calls without httpx, made on first use
        (inside the running loop, as aiohttp requires); None when httpx's transport must
        carry them: a proxy named by the environment, or a transport of a test's own."""
        if self._direct is None:
            self._direct = self._transport is None and not _proxied()
        if not self._direct:
            return None
        if self._session is None or self._session.closed:
            self._session = _aiohttp_session(self._max_connections, self._ssl_context())
        return self._session

    @property
    def client(self) -> httpx.AsyncClient:
        if self._client is None:
            transport, session = self._transport, self.session()
            if transport is None and session is not None:
                from httpx_aiohttp import AiohttpTransport

                transport = AiohttpTransport(client=session)
            self._client = _build_client(
                self._timeout_s, self._max_connections, transport, self._ssl_context()
            )
        return self._client

    async def load(self) -> None:
        """Import httpx and aiohttp and load the certificates, in a thread, once: the
        first request's share of the work that is not sending it."""
        if self._ssl is None:
            await asyncio.to_thread(self._loaded)

    def _loaded(self) -> None:
        # Imported here, off the event loop; httpx with the certificates below.
        import aiohttp  # noqa: F401
        import httpx_aiohttp  # noqa: F401

        self._ssl_context()

    def _ssl_context(self) -> ssl.SSLContext:
        """The certificates to trust: the caller's, else httpx's defaults (certifi, or
        ``SSL_CERT_FILE``), for both ways of sending."""
        if self._ssl is None:
            import httpx

            self._ssl = self._verify or httpx.create_ssl_context()
        return self._ssl

    async def request(self, method: str, url: httpx.URL | str, **kwargs: Any) -> httpx.Response:
        return await self.client.request(method, url, **kwargs)

    async def aclose(self) -> None:
        if self._client is not None:
            await self._client.aclose()
        if self._session is not None:
            await self._session.close()

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
    """The process-wide client (made in the lifespan, closed at shutdown).

    No redirects: a public URL must not bounce our request, key included, somewhere else.
    No cookies kept: the client is shared by every organisation's calls, and one
    provider's cookie must not ride along on another tenant's request (a pinned request
    is addressed to an IP, which the cookie jar would treat as the cookie's domain).

    The calls go over aiohttp (see the module's docstring), except when the environment
    names an outbound proxy (``HTTPS_PROXY`` and friends): then over httpx's own
    transport, which applies those variables, ``NO_PROXY`` included, as documented in
    docs/byok.md. ``verify``: the certificates to trust instead of the default ones
    (tests with their own CA). ``transport``: an httpx transport of a test's own.
    """
    return HttpClient(timeout_s, max_connections, transport, verify)


def _build_client(
    timeout_s: float,
    max_connections: int,
    transport: httpx.AsyncBaseTransport | None,
    ssl_context: ssl.SSLContext,
) -> httpx.AsyncClient:
    import httpx

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
        headers={"user-agent": USER_AGENT},
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


def _aiohttp_session(max_connections: int, ssl_context: ssl.SSLContext) -> aiohttp.ClientSession:
    """aiohttp's session for provider calls. Its cookie jar is a dummy: a cookie from one
    provider must not ride along on another tenant's call. Certificates are verified
    against ``ssl_context``; idle connections are kept ``IDLE_KEEPALIVE_S``."""
    import aiohttp

    connector = aiohttp.TCPConnector(
        limit=max_connections, keepalive_timeout=IDLE_KEEPALIVE_S, ssl=ssl_context
    )
    return aiohttp.ClientSession(
        connector=connector,
        cookie_jar=aiohttp.DummyCookieJar(),
        trust_env=False,
        headers={"user-agent": USER_AGENT},
    )


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
    with _span(method, provider) as span:
        if span is not None:
            tracing.set_attributes(span, {"server.address": _host(url)})
        response = await _request(
            http,
            method,
            url,
            provider=provider,
            secret=secret,
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


@dataclass(frozen=True, slots=True)
class _Answer:
    """What ``send`` reads of an answer, however it came."""

    status_code: int
    text: str
    headers: Mapping[str, str]


async def _request(
    http: HttpClient | httpx.AsyncClient,
    method: str,
    url: str,
    *,
    provider: str,
    secret: str,
    timeout_s: float,
    headers: Mapping[str, str] | None,
    params: Mapping[str, str] | None,
    body: Any,
    connect_to: IPAddress | None,
) -> _Answer:
    """The answer, or our error raised outside the ``except``: an httpx or aiohttp
    exception holds the request, key header included, and must not ride along as
    ``__context__``."""
    if isinstance(http, HttpClient):
        await http.load()
    import aiohttp  # already loaded: the client was built by now, or is built below
    import httpx

    session = http.session() if isinstance(http, HttpClient) else None
    failure: ProviderError
    try:
        # The timeouts below bound each phase; the outer one bounds the whole call, so a
        # provider dribbling bytes cannot hold a judge slot past the setting.
        async with asyncio.timeout(timeout_s):
            if session is not None:
                return await _by_aiohttp(
                    session, method, url, secret, timeout_s, headers, params, body, connect_to
                )
            target, headers, extensions = _pinned(url, headers, connect_to)
            response = await http.request(
                method,
                target,
                headers=headers,
                params=params,
                json=body,
                timeout=_timeout(timeout_s),
                extensions=extensions,
            )
            return _Answer(response.status_code, response.text, response.headers)
    except (httpx.RequestError, httpx.InvalidURL, aiohttp.ClientError, TimeoutError) as exc:
        failure = _failure(exc, provider=provider, url=url, timeout_s=timeout_s)
    except _BadUrl:
        failure = ProviderBadRequest(provider, f"invalid provider URL for {provider}")
    raise failure


class _BadUrl(Exception):
    """A URL that cannot be sent (the error reading it would quote it, key and all)."""


async def _by_aiohttp(
    session: aiohttp.ClientSession,
    method: str,
    url: str,
    secret: str,
    timeout_s: float,
    headers: Mapping[str, str] | None,
    params: Mapping[str, str] | None,
    body: Any,
    connect_to: IPAddress | None,
) -> _Answer:
    """The request as httpx would send it — the same JSON body, headers, timeouts and
    pinning — straight on aiohttp's session. Content-Encoding is undone by aiohttp, and
    the text decoded as httpx decodes it (the charset the answer names, else UTF-8, bad
    bytes replaced)."""
    import aiohttp

    sent = dict(headers or {})
    query = tuple(params.items()) if params else ()
    # A URL or query holding the key is never kept (the cache outlives the call).
    keyed = bool(secret) and (secret in url or any(secret in value for _, value in query))
    prepare = _prepare.__wrapped__ if keyed else _prepare
    address, pinning, server_hostname = prepare(url, query, connect_to)
    sent.update(pinning)
    for name, value in sent.items():
        # As httpx: a header that is not ASCII is not sent (a key with an accented letter
        # fails its call rather than going out in some other encoding).
        name.encode("ascii")
        value.encode("ascii")
    data = None
    if body is not None:
        data = json.dumps(body, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
        sent["content-type"] = "application/json"
    connect = min(_CONNECT_TIMEOUT_S, timeout_s)
    async with session.request(
        method,
        address,
        headers=sent,
        data=None if data is None else data.encode(),
        allow_redirects=False,
        timeout=aiohttp.ClientTimeout(sock_connect=connect, sock_read=timeout_s, connect=timeout_s),
        server_hostname=server_hostname,
    ) as response:
        raw = await response.read()
        return _Answer(response.status, _decoded(raw, response.charset), response.headers)


@functools.lru_cache(maxsize=256)
def _prepare(
    url: str, query: tuple[tuple[str, str], ...], connect_to: IPAddress | None
) -> tuple[yarl.URL, tuple[tuple[str, str], ...], str | None]:
    """The address to send to, the pinning headers and the TLS server name, read from the
    URL and its query by httpx as its own path would read them (so the request line is
    byte for byte httpx's; yarl, told the result is encoded, leaves it alone). Kept for
    the URLs a server sends to again and again (a provider's endpoints): reading one
    costs about 10 µs per call."""
    import httpx
    from yarl import URL

    try:
        target, pinning, extensions = _pinned(url, None, connect_to)
        parsed = httpx.URL(target, params=query) if query else httpx.URL(target)
        if parsed.scheme not in ("http", "https") or not parsed.host:
            raise httpx.UnsupportedProtocol(parsed.scheme)
        address = URL(str(parsed), encoded=True)
    except (httpx.InvalidURL, httpx.UnsupportedProtocol, ValueError, TypeError) as exc:
        raise _BadUrl from exc
    return address, tuple(pinning.items()), extensions.get("sni_hostname")


def _decoded(raw: bytes, charset: str | None) -> str:
    try:
        return raw.decode(charset or "utf-8", errors="replace")
    except LookupError:  # a charset Python does not know
        return raw.decode("utf-8", errors="replace")


# Tracing off (the default): no span, not even the generator of an empty one (issue 17).
_UNTRACED = contextlib.nullcontext()


def _span(method: str, provider: str) -> contextlib.AbstractContextManager[Any]:
    if not tracing.active():
        return _UNTRACED
    attributes = {"launchgate.provider": provider, "http.request.method": method}
    return tracing.span(f"{method} {provider}", attributes, kind="client")


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
