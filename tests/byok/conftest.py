"""An app that may call the fake provider server on 127.0.0.1 (private URLs allowed, the
provider base URLs pointed at the fake), one per backend."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI

from launchgate.app import create_app
from launchgate.config import Settings
from launchgate.testing.fake_provider import FakeProviderServer
from tests.conftest import make_settings, started
from tests.factories import Api


@pytest.fixture(scope="session")
def fake_provider() -> Iterator[FakeProviderServer]:
    with FakeProviderServer() as fake:
        yield fake


def provider_settings(
    database_url: str, data_dir: Path, fake: FakeProviderServer, **overrides: object
) -> Settings:
    return make_settings(
        database_url,
        data_dir,
        allow_private_provider_urls=True,
        openai_base_url=fake.openai_base_url,
        anthropic_base_url=fake.anthropic_base_url,
        google_base_url=fake.google_base_url,
        provider_timeout_s=5.0,
        judge_backoff_base_s=0.01,
        judge_retry_after_cap_s=0.05,
        **overrides,
    )


@pytest.fixture(scope="session")
async def provider_app(
    database_url: str,
    tmp_path_factory: pytest.TempPathFactory,
    fake_provider: FakeProviderServer,
) -> AsyncIterator[FastAPI]:
    settings = provider_settings(database_url, tmp_path_factory.mktemp("providers"), fake_provider)
    async for running in started(create_app(settings)):
        yield running


@pytest.fixture
async def papi(provider_app: FastAPI) -> AsyncIterator[Api]:
    transport = httpx.ASGITransport(app=provider_app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        yield Api(client, provider_app.state.runtime)
