"""GET /health: public, the services' state in the product documentation's words (SPEC §3:
``healthy``, ``degraded``, ``unhealthy`` with 503 when the database is down), and HEAD
answered like GET for the probes that send it."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path

import httpx

from launchgate import __version__
from launchgate.app import create_app
from launchgate.db import create_engine
from launchgate.runtime import ApiRuntime
from launchgate.testing.fake_provider import free_port
from tests.conftest import make_settings

ISO_Z = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")


def parse_iso_z(value: str) -> datetime:
    assert ISO_Z.match(value), value
    return datetime.strptime(value, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=UTC)


def ms_floor(value: datetime) -> datetime:
    return value.replace(microsecond=value.microsecond // 1000 * 1000)


async def test_health_is_public_and_reports_services(client: httpx.AsyncClient) -> None:
    before = ms_floor(datetime.now(UTC))
    response = await client.get("/health")
    after = datetime.now(UTC)
    assert response.status_code == 200, response.text
    body = response.json()
    assert set(body) == {"status", "version", "timestamp", "services"}
    assert body["status"] == "healthy"
    assert body["version"] == __version__
    assert body["services"] == {"database": "connected", "redis": "not_configured"}
    assert before <= parse_iso_z(body["timestamp"]) <= after


async def test_health_ignores_credentials(client: httpx.AsyncClient) -> None:
    response = await client.get("/health", headers={"Authorization": "Bearer garbage"})
    assert response.status_code == 200 and response.json()["status"] == "healthy"


async def test_health_is_503_when_the_database_is_down(database_url: str, tmp_path: Path) -> None:
    # The app cannot start with its database down (the lifespan resumes open runs), so
    # start it on a working database and then cut it off.
    app = create_app(make_settings(database_url, tmp_path))
    async with app.router.lifespan_context(app):
        runtime: ApiRuntime = app.state.runtime
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
            assert (await client.get("/health")).status_code == 200
            await runtime.engine.dispose()
            runtime.engine = create_engine(
                f"postgresql+psycopg://postgres@127.0.0.1:{free_port()}/launchgate"
            )
            response = await client.get("/health")
            head = await client.head("/health")
    assert response.status_code == 503, response.text
    # A probe that sends HEAD learns the same: 503, and no body.
    assert head.status_code == 503 and head.content == b""
    body = response.json()
    assert body["status"] == "unhealthy"
    assert body["services"] == {"database": "disconnected", "redis": "not_configured"}
    assert body["version"] == __version__
    parse_iso_z(body["timestamp"])


async def test_server_starts_with_its_database_down_and_says_so(tmp_path: Path) -> None:
    dead = f"postgresql+psycopg://postgres@127.0.0.1:{free_port()}/none"
    app = create_app(make_settings(dead, tmp_path))
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
            response = await client.get("/health")
    assert response.status_code == 503
    assert response.json()["services"]["database"] == "disconnected"


async def test_head_health_answers_like_get_without_a_body(client: httpx.AsyncClient) -> None:
    get = await client.get("/health")
    head = await client.head("/health")
    assert head.status_code == get.status_code == 200
    assert head.content == b""
    assert head.headers["content-type"] == get.headers["content-type"] == "application/json"
    # The length of the answer a GET would have had (RFC 9110 §9.3.2): the body's length.
    assert head.headers["content-length"] == get.headers["content-length"]


async def test_health_is_degraded_when_redis_is_down(database_url: str, tmp_path: Path) -> None:
    # Redis configured on a port where nothing listens: synchronous runs of deterministic
    # suites still work (docs/scale-out.md), so the answer stays 200, with the word that
    # says something needs attention.
    dead_redis = f"redis://127.0.0.1:{free_port()}/0"
    app = create_app(make_settings(database_url, tmp_path, redis_url=dead_redis))
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
            response = await client.get("/health")
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["status"] == "degraded"
    assert body["services"] == {"database": "connected", "redis": "disconnected"}
