"""The two ways a provider call leaves the server: straight on aiohttp's session (the
default, ``HttpClient.session``) and through httpx (when a proxy is configured, or a
transport is given). A provider must not be able to tell them apart: the same request
line, body bytes and headers that matter, and ``send`` must read every answer alike.
Everything listens on 127.0.0.1.
"""

from __future__ import annotations

import asyncio
import gzip
import json
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field

import httpx
import pytest

from launchgate.providers import (
    ProviderBadRequest,
    ProviderError,
    ProviderRateLimited,
    ProviderServerError,
    ProviderUnreachable,
    create_client,
)
from launchgate.providers.http import HttpClient, send
from launchgate.providers.openai import read_error_for
from tests.providers.conftest import local_server

SECRET = "sk-" + "k" * 40


@dataclass
class Seen:
    head: list[str]
    body: bytes

    @property
    def headers(self) -> dict[str, str]:
        pairs = (line.split(": ", 1) for line in self.head[1:] if ": " in line)
        return {name.lower(): value for name, value in pairs}


@dataclass
class Canned:
    """An HTTP/1.1 server that records each request and answers ``answer`` (raw bytes)."""

    answer: bytes = b""
    seen: list[Seen] = field(default_factory=list)
    port: int = 0

    async def serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while head := await reader.readuntil(b"\r\n\r\n"):
                lines = head.decode("latin-1").split("\r\n")[:-2]
                length = int(Seen(lines, b"").headers.get("content-length", "0"))
                body = await reader.readexactly(length) if length else b""
                self.seen.append(Seen(lines, body))
                writer.write(self.answer)
                await writer.drain()
                if b"connection: close" in self.answer:
                    break
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()


def answer(status: str, body: bytes, *headers: str) -> bytes:
    head = "\r\n".join((f"HTTP/1.1 {status}", *headers, f"content-length: {len(body)}"))
    return head.encode("latin-1") + b"\r\n\r\n" + body


@pytest.fixture
async def canned() -> AsyncIterator[Canned]:
    state = Canned()
    async with local_server(state.serve) as state.port:
        yield state


PATHS: dict[str, Callable[[], HttpClient]] = {
    "aiohttp": lambda: create_client(timeout_s=5.0),
    "httpx": lambda: create_client(timeout_s=5.0, transport=httpx.AsyncHTTPTransport()),
}


@pytest.fixture(params=list(PATHS))
async def http(
    request: pytest.FixtureRequest, no_proxy_env: pytest.MonkeyPatch
) -> AsyncIterator[HttpClient]:
    client = PATHS[request.param]()
    try:
        yield client
    finally:
        await client.aclose()


async def call(
    http: HttpClient, canned: Canned, path: str = "/v1/chat/completions", **kwargs: object
) -> dict[str, object]:
    return await send(
        http,
        "POST",
        f"http://127.0.0.1:{canned.port}{path}",
        provider="openai",
        secret=SECRET,
        read_error=read_error_for("openai"),
        timeout_s=5.0,
        headers={"authorization": f"Bearer {SECRET}"},
        **kwargs,  # type: ignore[arg-type]
    )


async def test_the_default_client_sends_without_httpx(no_proxy_env: pytest.MonkeyPatch) -> None:
    http = create_client(timeout_s=5.0)
    try:
        assert http.session() is not None
    finally:
        await http.aclose()
    proxied = create_client(timeout_s=5.0, transport=httpx.AsyncHTTPTransport())
    try:
        assert proxied.session() is None  # a transport of its own: httpx carries the call
    finally:
        await proxied.aclose()


async def test_a_proxy_in_the_environment_sends_through_httpx(
    no_proxy_env: pytest.MonkeyPatch,
) -> None:
    no_proxy_env.setenv("HTTPS_PROXY", "http://127.0.0.1:9")
    http = create_client(timeout_s=5.0)
    try:
        assert http.session() is None
    finally:
        await http.aclose()


async def test_both_paths_put_the_same_request_on_the_wire(
    canned: Canned, no_proxy_env: pytest.MonkeyPatch
) -> None:
    canned.answer = answer("200 OK", b'{"ok": true}', "content-type: application/json")
    body = {
        "model": "gpt-4o",
        "messages": [{"role": "user", "content": 'Ünïcødé "quoted" \\ <output>\n\t\u2028'}],
        "temperature": 0.0,
        "max_tokens": 1000000,
        "top": 1e-07,
    }
    for make in PATHS.values():
        http = make()
        try:
            assert await call(
                http,
                canned,
                "/openai/deployments/my dëploy:x/chat?z=1",
                body=body,
                params={"api-version": "2024 06/01"},
            )
        finally:
            await http.aclose()
    by_aiohttp, by_httpx = canned.seen
    assert by_aiohttp.head[0] == by_httpx.head[0]  # method, path and query, encoded alike
    assert by_aiohttp.body == by_httpx.body
    assert json.loads(by_aiohttp.body) == body
    for name in ("host", "content-type", "content-length", "user-agent", "authorization"):
        assert by_aiohttp.headers[name] == by_httpx.headers[name], name
    assert by_aiohttp.headers["user-agent"] == "launchgate"
    assert "cookie" not in by_aiohttp.headers


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (
            answer(
                "200 OK",
                '{"text": "café"}'.encode("latin-1"),
                "content-type: text/json; charset=latin-1",
            ),
            {"text": "café"},
        ),
        (
            answer(
                "200 OK",
                gzip.compress(b'{"zipped": 1}'),
                "content-type: application/json",
                "content-encoding: gzip",
            ),
            {"zipped": 1},
        ),
        (
            answer("200 OK", b'{"odd": 1}', "content-type: application/json; charset=no-such"),
            {"odd": 1},
        ),
    ],
)
async def test_both_paths_read_an_answer_alike(
    http: HttpClient, canned: Canned, raw: bytes, expected: dict[str, object]
) -> None:
    canned.answer = raw
    assert await call(http, canned, body={"x": 1}) == expected


@pytest.mark.parametrize(
    ("raw", "error"),
    [
        (answer("200 OK", b"not json", "content-type: text/plain"), ProviderServerError),
        (answer("302 Found", b"", "location: http://127.0.0.1:9/"), ProviderBadRequest),
        (
            answer(
                "429 Too Many Requests",
                b'{"error": {"message": "slow down", "type": "rate_limit"}}',
                "retry-after: 7",
                "content-type: application/json",
            ),
            ProviderRateLimited,
        ),
        # Headers promise 100 bytes, 10 come, then the connection closes.
        (
            b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 100\r\n"
            b'connection: close\r\n\r\n{"a": 1, ',
            ProviderUnreachable,
        ),
    ],
)
async def test_both_paths_raise_the_same_errors(
    http: HttpClient, canned: Canned, raw: bytes, error: type[ProviderError]
) -> None:
    canned.answer = raw
    with pytest.raises(error) as raised:
        await call(http, canned, body={"x": 1})
    assert SECRET not in str(raised.value)
    if isinstance(raised.value, ProviderRateLimited):
        assert raised.value.retry_after == 7


async def test_a_key_echoed_in_an_error_is_scrubbed_on_both_paths(
    http: HttpClient, canned: Canned
) -> None:
    canned.answer = answer(
        "401 Unauthorized",
        json.dumps({"error": {"message": f"Incorrect API key provided: {SECRET}"}}).encode(),
        "content-type: application/json",
    )
    with pytest.raises(ProviderError) as raised:
        await call(http, canned, body={"x": 1})
    assert SECRET not in str(raised.value) and SECRET not in repr(raised.value.__dict__)


async def test_an_unreadable_url_is_a_bad_request_on_both_paths(http: HttpClient) -> None:
    with pytest.raises(ProviderBadRequest) as raised:
        await send(
            http,
            "GET",
            f"http://[::1/v1/models?key={SECRET}",
            provider="google",
            secret=SECRET,
            read_error=read_error_for("openai"),
            timeout_s=5.0,
        )
    assert SECRET not in str(raised.value)
    assert raised.value.__cause__ is None and raised.value.__context__ is None


async def test_a_url_holding_the_key_is_not_kept(
    canned: Canned, no_proxy_env: pytest.MonkeyPatch
) -> None:
    """The aiohttp path keeps the URLs it has read (a provider's endpoints, sent to again
    and again); one that holds the key must not outlive its call."""
    from launchgate.providers.http import _prepare

    canned.answer = answer("200 OK", b'{"ok": true}', "content-type: application/json")
    http = create_client(timeout_s=5.0)
    try:
        _prepare.cache_clear()
        await call(http, canned, f"/v1/models?key={SECRET}")
        await call(http, canned, "/v1/models", params={"key": SECRET})
        assert _prepare.cache_info().currsize == 0
        await call(http, canned, "/v1/models")
        await call(http, canned, "/v1/models")
        assert (_prepare.cache_info().currsize, _prepare.cache_info().hits) == (1, 1)
    finally:
        await http.aclose()
    assert [seen.head[0].split()[1] for seen in canned.seen] == [
        f"/v1/models?key={SECRET}",
        f"/v1/models?key={SECRET}",
        "/v1/models",
        "/v1/models",
    ]


async def test_a_header_that_is_not_ascii_is_not_sent_on_either_path(
    http: HttpClient, canned: Canned
) -> None:
    canned.answer = answer("200 OK", b'{"ok": true}', "content-type: application/json")
    with pytest.raises(UnicodeEncodeError):
        await send(
            http,
            "POST",
            f"http://127.0.0.1:{canned.port}/v1/chat/completions",
            provider="openai",
            secret="sk-é",
            read_error=read_error_for("openai"),
            timeout_s=5.0,
            headers={"authorization": "Bearer sk-é"},
            body={"x": 1},
        )
    assert canned.seen == []
