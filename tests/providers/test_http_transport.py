"""Which transport carries the judge's calls: aiohttp's below httpx by default, httpx's own
when the environment names an outbound proxy, so that ``HTTPS_PROXY`` / ``NO_PROXY`` keep
working as docs/byok.md says. Everything listens on 127.0.0.1; the "proxy" is a recording
server of the test's own and the "provider" behind it is never connected to.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator

import pytest

from launchgate.providers import ProviderUnreachable, create_client
from launchgate.providers.http import HttpClient, send
from launchgate.providers.openai import read_error_for
from tests.providers.conftest import local_server

ANSWER = json.dumps({"data": [{"id": "gpt-4o"}]}).encode()


class Recording:
    """An HTTP server that answers every request with a model list and keeps each
    request line: as a forward proxy it sees absolute URLs, as a server plain paths."""

    def __init__(self) -> None:
        self.lines: list[str] = []
        self.port = 0

    async def serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while head := await reader.readuntil(b"\r\n\r\n"):
                self.lines.append(head.decode("latin-1").split("\r\n")[0])
                writer.write(
                    b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\n"
                    + f"content-length: {len(ANSWER)}\r\n\r\n".encode()
                    + ANSWER
                )
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()


@pytest.fixture
async def recording() -> AsyncIterator[Recording]:
    server_state = Recording()
    async with local_server(server_state.serve) as server_state.port:
        yield server_state


async def get(url: str, http: HttpClient | None = None) -> dict[str, object]:
    """``send`` a GET on ``http``, else on a client of its own, closed after."""
    client = http or create_client(timeout_s=5.0)
    try:
        return await send(
            client,
            "GET",
            url,
            provider="openai",
            secret="sk-" + "a" * 40,
            read_error=read_error_for("openai"),
            timeout_s=5.0,
        )
    finally:
        if http is None:
            await client.aclose()


async def test_without_a_proxy_the_call_goes_straight_to_the_server(
    recording: Recording, no_proxy_env: pytest.MonkeyPatch
) -> None:
    assert await get(f"http://127.0.0.1:{recording.port}/v1/models") == json.loads(ANSWER)
    assert recording.lines == ["GET /v1/models HTTP/1.1"]


async def test_a_proxy_in_the_environment_carries_the_call(
    recording: Recording, no_proxy_env: pytest.MonkeyPatch
) -> None:
    no_proxy_env.setenv("HTTP_PROXY", f"http://127.0.0.1:{recording.port}")
    # Port 9 on loopback: nothing listens there, so only the proxy can have answered.
    assert await get("http://127.0.0.1:9/v1/models") == json.loads(ANSWER)
    assert recording.lines == ["GET http://127.0.0.1:9/v1/models HTTP/1.1"]


async def test_no_proxy_still_exempts_a_host(
    recording: Recording, no_proxy_env: pytest.MonkeyPatch
) -> None:
    no_proxy_env.setenv("HTTP_PROXY", f"http://127.0.0.1:{recording.port}")
    no_proxy_env.setenv("NO_PROXY", "127.0.0.1")
    with pytest.raises(ProviderUnreachable):
        await get("http://127.0.0.1:9/v1/models")
    assert recording.lines == []


class Connections(Recording):
    """``Recording`` that also counts the connections it accepted."""

    def __init__(self) -> None:
        super().__init__()
        self.accepted = 0

    async def serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.accepted += 1
        await super().serve(reader, writer)


async def test_an_idle_connection_is_not_kept_past_the_keepalive(
    no_proxy_env: pytest.MonkeyPatch,
) -> None:
    """Calls close together share a connection; after IDLE_KEEPALIVE_S of silence the next
    call opens a new one, so a server that closes idle connections at 5 s (uvicorn, Node)
    never has one of ours closed under a call being sent."""
    from launchgate.providers.http import IDLE_KEEPALIVE_S

    assert IDLE_KEEPALIVE_S < 5.0
    state = Connections()
    async with local_server(state.serve) as port, create_client(timeout_s=5.0) as http:
        url = f"http://127.0.0.1:{port}/v1/models"
        await get(url, http)
        await get(url, http)
        assert state.accepted == 1  # reused
        await asyncio.sleep(IDLE_KEEPALIVE_S + 0.5)
        await get(url, http)
        assert state.accepted == 2  # the idle one was not taken again
