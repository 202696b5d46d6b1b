"""An app with metrics on (behind a token) that judges against the fake provider server,
shared by the module's tests; helpers to scrape and read its /metrics page."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from prometheus_client.parser import text_string_to_metric_families

from launchgate.logging import configure
from launchgate.testing.fake_provider import FakeProviderServer
from tests.byok.conftest import fake_provider, provider_settings  # noqa: F401  (fixture)
from tests.conftest import started
from tests.factories import Api

TOKEN = "metrics-token-" + "m" * 24


@pytest.fixture(autouse=True)
def restore_logging() -> Iterator[None]:
    yield
    configure("INFO")  # process-wide: leave the text format the other tests expect


@pytest.fixture(scope="module")
async def metrics_app(
    database_url: str,
    tmp_path_factory: pytest.TempPathFactory,
    fake_provider: FakeProviderServer,  # noqa: F811
) -> AsyncIterator[FastAPI]:
    from launchgate.app import create_app

    settings = provider_settings(
        database_url,
        tmp_path_factory.mktemp("observed"),
        fake_provider,
        metrics="on",
        metrics_token=TOKEN,
    )
    async for running in started(create_app(settings)):
        yield running


@pytest.fixture
async def mapi(metrics_app: FastAPI) -> AsyncIterator[Api]:
    transport = httpx.ASGITransport(app=metrics_app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        yield Api(client, metrics_app.state.runtime)


async def scrape(client: httpx.AsyncClient) -> str:
    response = await client.get("/metrics", headers={"Authorization": f"Bearer {TOKEN}"})
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/plain; version=0.0.4")
    return response.text


def samples(page: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    """Every sample of the page, by name and sorted labels (parsed by prometheus-client)."""
    found: dict[tuple[str, tuple[tuple[str, str], ...]], float] = {}
    for family in text_string_to_metric_families(page):
        for sample in family.samples:
            found[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return found


def value(page: str, name: str, **labels: str) -> float:
    """One sample's value; 0 when absent (a counter not yet incremented)."""
    return samples(page).get((name, tuple(sorted(labels.items()))), 0.0)


def moved(before: str, after: str, name: str, **labels: Any) -> float:
    return value(after, name, **labels) - value(before, name, **labels)
