"""Shared fixtures: a real database per backend (SQLite file and PostgreSQL), the real
app with its lifespan, and an httpx client over ASGI.

Every API test runs on both backends. Tests isolate by tenant: each makes its own
organisations, so no test depends on another's rows. PostgreSQL comes from
``LAUNCHGATE_TEST_POSTGRES_URL`` (default: the local server on 127.0.0.1:5432); each
pytest session creates a fresh database there and drops it at the end. When the server is
unreachable the PostgreSQL half is skipped, unless ``LAUNCHGATE_TEST_REQUIRE_POSTGRES=1``
(set by ``scripts/test``), which turns that into a failure.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from launchgate.app import create_app
from launchgate.config import Settings
from launchgate.migrations import upgrade
from launchgate.runtime import ApiRuntime
from tests.factories import Api
from tests.pg import empty_database

BACKENDS = [
    b for b in os.environ.get("LAUNCHGATE_TEST_BACKENDS", "sqlite,postgres").split(",") if b
]


@pytest.fixture(scope="session")
def postgres_database() -> Iterator[str]:
    """A fresh, migrated PostgreSQL database for this pytest session."""
    with empty_database("lg_test") as plain_url:
        url = plain_url.replace("postgresql://", "postgresql+psycopg://", 1)
        upgrade(url)
        yield url


@pytest.fixture(scope="session")
def sqlite_database(tmp_path_factory: pytest.TempPathFactory) -> str:
    path = tmp_path_factory.mktemp("sqlite") / "launchgate.db"
    url = f"sqlite+aiosqlite:///{path}"
    upgrade(url)
    return url


def make_settings(database_url: str, data_dir: Path, **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "env": "test",
        "data_dir": data_dir,
        "database_url": database_url,
        "secret_key": "test-secret-" + "x" * 40,
        "rate_limit": "off",
        "auth_rate_limit": "off",
        "lockout_limit": "off",
        "retention_sweep_interval_s": 0,
        "regex_timeout_ms": 200,
        # A fixed test master key; the canary test proves no provider key leaks anyway.
        "byok_encryption_key": "0f" * 32,
    }
    values.update(overrides)
    if values["byok_encryption_key"] is None:  # a test that wants the environment's, or none
        del values["byok_encryption_key"]
    return Settings(**values)


@pytest.fixture(scope="session", params=BACKENDS)
def database_url(request: pytest.FixtureRequest) -> str:
    return str(request.getfixturevalue(f"{request.param}_database"))


@pytest.fixture(scope="session")
def settings(database_url: str, tmp_path_factory: pytest.TempPathFactory) -> Settings:
    return make_settings(database_url, tmp_path_factory.mktemp("data"))


async def started(app: FastAPI) -> AsyncIterator[FastAPI]:
    async with app.router.lifespan_context(app):
        yield app


@pytest.fixture(scope="session")
async def app(settings: Settings) -> AsyncIterator[FastAPI]:
    async for running in started(create_app(settings)):
        yield running


@pytest.fixture(scope="session")
def runtime(app: FastAPI) -> ApiRuntime:
    value: ApiRuntime = app.state.runtime
    return value


@pytest.fixture(scope="session")
async def client(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as c:
        yield c


@pytest.fixture
def api(client: httpx.AsyncClient, runtime: ApiRuntime) -> Api:
    return Api(client, runtime)
