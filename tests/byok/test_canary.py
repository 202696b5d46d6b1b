"""A canary key per provider goes in through the API and is used (stored, listed, tested,
made default, renamed, revoked, read back with the wrong master key); afterwards it is
in no API response, no log line (at DEBUG), no exception text, and nowhere in the bytes
of the SQLite file or in a dump of every PostgreSQL table.

The module has its own database (file or PostgreSQL database) so that "nowhere in it"
means the whole of it.
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import httpx
import psycopg
import pytest
from fastapi import FastAPI

from launchgate.app import create_app
from launchgate.migrations import upgrade
from launchgate.testing.fake_provider import FakeProviderServer
from tests.byok.conftest import provider_settings
from tests.conftest import BACKENDS
from tests.factories import Api, Org
from tests.pg import empty_database

PREFIX = {
    "openai": "sk-test-",
    "anthropic": "sk-ant-test-",
    "google": "AIza-test-",
    "azure_openai": "azure-test-",
}
# Random and long: a fragment of it cannot turn up anywhere by chance.
CANARIES = {p: prefix + "canary" + secrets.token_hex(24) for p, prefix in PREFIX.items()}
WRONG = "sk-wrong-canary" + secrets.token_hex(24)  # rejected by the fake: the error path


def hidden_parts() -> list[str]:
    """What must never show: each key past its 8-character prefix."""
    return [key[8:] for key in [*CANARIES.values(), WRONG]]


@pytest.fixture(scope="module", params=BACKENDS)
def canary_database(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[str, str]]:
    """``(backend, url)`` of a database used by this module alone."""
    if request.param == "sqlite":
        path = tmp_path_factory.mktemp("canary") / "canary.db"
        url = f"sqlite+aiosqlite:///{path}"
        upgrade(url)
        yield "sqlite", url
        return
    with empty_database("lg_canary") as plain:
        url = plain.replace("postgresql://", "postgresql+psycopg://", 1)
        upgrade(url)
        yield "postgres", url


class Recorder:
    """Keeps every response body the client saw."""

    def __init__(self) -> None:
        self.bodies: list[str] = []

    async def __call__(self, response: httpx.Response) -> None:
        await response.aread()
        self.bodies.append(f"{response.status_code} {dict(response.headers)} {response.text}")


async def _client(app: FastAPI, recorder: Recorder) -> AsyncIterator[Api]:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(
        transport=transport, base_url="http://testserver", event_hooks={"response": [recorder]}
    ) as client:
        yield Api(client, app.state.runtime)


async def _use_every_key(api: Api, org: Org, fake: FakeProviderServer) -> list[str]:
    ids = []
    for provider, key in CANARIES.items():
        body: dict[str, Any] = {"provider": provider, "name": f"canary {provider}", "key": key}
        if provider == "azure_openai":
            body["config"] = {"endpoint": fake.azure_endpoint}
        created = (await api.ok("POST", "/v1/byok-keys", org, 201, json=body))["data"]
        ids.append(created["id"])
        result = (await api.ok("POST", f"/v1/byok-keys/{created['id']}/test", org))["data"]
        assert result["valid"] is True, result
    wrong = (
        await api.ok(
            "POST",
            "/v1/byok-keys",
            org,
            201,
            json={"provider": "openai", "name": "wrong", "key": WRONG},
        )
    )["data"]
    assert (await api.ok("POST", f"/v1/byok-keys/{wrong['id']}/test", org))["data"][
        "valid"
    ] is False
    await api.ok("PATCH", f"/v1/byok-keys/{wrong['id']}", org, json={"is_default": True})
    await api.ok("PATCH", f"/v1/byok-keys/{ids[0]}", org, json={"name": "renamed"})
    for path in ("/v1/byok-keys", f"/v1/byok-keys/{ids[1]}", "/v1/audit-log?pageSize=100"):
        await api.ok("GET", path, org)
    bad = await api.call(
        "POST",
        "/v1/byok-keys",
        org,
        json={"provider": "openai", "name": "bad", "key": CANARIES["openai"], "surprise": 1},
    )
    assert bad.status_code == 400
    await api.call("DELETE", f"/v1/byok-keys/{ids[2]}", org)
    return ids


def _database_bytes(backend: str, url: str) -> bytes:
    if backend == "sqlite":
        path = Path(url.split("///", 1)[1])
        return b"".join(p.read_bytes() for p in path.parent.glob(path.name + "*"))
    plain = url.replace("postgresql+psycopg://", "postgresql://", 1)
    dump = []
    with psycopg.connect(plain) as connection:
        tables = [
            r[0]
            for r in connection.execute(
                "SELECT tablename FROM pg_tables WHERE schemaname = 'public'"
            )
        ]
        for table in tables:
            for row in connection.execute(f'SELECT row_to_json(t)::text FROM "{table}" t'):
                dump.append(row[0])
    assert any("byok" in line or "ciphertext" in line for line in dump)
    return "\n".join(dump).encode()


async def test_a_canary_key_leaks_nowhere(
    canary_database: tuple[str, str],
    fake_provider: FakeProviderServer,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
    capsys: pytest.CaptureFixture[str],
) -> None:
    backend, url = canary_database
    caplog.set_level(logging.DEBUG)
    recorder = Recorder()
    settings = provider_settings(url, tmp_path / "a", fake_provider, log_level="DEBUG")
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        async for api in _client(app, recorder):
            org = await api.org()
            ids = await _use_every_key(api, org, fake_provider)
    # The same database under another master key: opening fails clearly, the API works.
    other = create_app(
        provider_settings(
            url, tmp_path / "b", fake_provider, log_level="DEBUG", byok_encryption_key="1e" * 32
        )
    )
    async with other.router.lifespan_context(other):
        async for api in _client(other, recorder):
            result = (await api.ok("POST", f"/v1/byok-keys/{ids[0]}/test", org))["data"]
            assert result["valid"] is False and "cannot be decrypted" in result["message"]
            assert len((await api.ok("GET", "/v1/byok-keys", org))["data"]) == 5
            await api.ok("GET", "/v1/projects", org)
    printed = capsys.readouterr()
    logs = caplog.text + printed.out + printed.err
    stored = _database_bytes(backend, url)
    assert len(recorder.bodies) >= 15  # the recorder saw the traffic
    for hidden in hidden_parts():
        assert hidden not in "\n".join(recorder.bodies)
        assert hidden not in logs
        assert hidden.encode() not in stored
