"""The real fake provider server (one per session, reset per test) and clients pointed at it."""

from __future__ import annotations

import asyncio
import contextlib
import secrets
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass, replace

import pytest

from launchgate.providers import Credential, HttpClient, ProviderSettings, create_client
from launchgate.testing.fake_provider import DEFAULT_KEY_PREFIXES, FakeProviderServer

PROVIDER_NAMES = ("openai", "anthropic", "google", "azure_openai")


@dataclass(frozen=True)
class Fake:
    """The running server plus LaunchGate-side settings and keys that point at it."""

    server: FakeProviderServer
    settings: ProviderSettings

    def credential(self, provider: str, secret: str | None = None, **config: str) -> Credential:
        """A key the fake accepts (a valid prefix and a unique canary tail) unless given."""
        if secret is None:
            secret = DEFAULT_KEY_PREFIXES[provider] + "canary" + secrets.token_hex(16)
        if provider == "azure_openai":
            config.setdefault("endpoint", self.server.azure_endpoint)
        return Credential(provider, secret, config)

    def with_settings(self, **changes: object) -> ProviderSettings:
        return replace(self.settings, **changes)  # type: ignore[arg-type]


@pytest.fixture(scope="session")
def fake_server() -> Iterator[FakeProviderServer]:
    with FakeProviderServer() as server:
        yield server


@pytest.fixture
def fake(fake_server: FakeProviderServer) -> Fake:
    fake_server.reset()
    settings = ProviderSettings(
        openai_base_url=fake_server.openai_base_url,
        anthropic_base_url=fake_server.anthropic_base_url,
        google_base_url=fake_server.google_base_url,
        timeout_s=5.0,
        # The fake listens on 127.0.0.1: Azure endpoints and own base URLs must be allowed there.
        allow_private_urls=True,
    )
    return Fake(fake_server, settings)


@pytest.fixture
async def http() -> AsyncIterator[HttpClient]:
    client = create_client(timeout_s=5.0)
    try:
        yield client
    finally:
        await client.aclose()


@pytest.fixture
def no_proxy_env(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    """No proxy named by the environment (the client would send through httpx then)."""
    for name in ("http_proxy", "https_proxy", "all_proxy", "no_proxy"):
        monkeypatch.delenv(name, raising=False)
        monkeypatch.delenv(name.upper(), raising=False)
    return monkeypatch


@contextlib.asynccontextmanager
async def local_server(
    serve: Callable[[asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]],
) -> AsyncIterator[int]:
    """An HTTP server of a test's own on 127.0.0.1, ``serve`` answering each connection;
    yields its port and closes it at the end."""
    server = await asyncio.start_server(serve, "127.0.0.1", 0)
    try:
        yield server.sockets[0].getsockname()[1]
    finally:
        server.close()
        await server.wait_closed()
