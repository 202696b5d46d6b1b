"""``launchgate serve`` as a real server process. (The README's curl walk-through runs
against one in tests/docs, with the other runnable examples of the docs.)"""

from __future__ import annotations

import signal
from collections.abc import Iterator

import httpx
import pytest

from tests.cli.conftest import QUIET_LIMITS, Server, make_cli, start_server, stop_server

pytestmark = pytest.mark.slow

PASSWORD = "correct horse battery staple"


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Server, str, str]]:
    """One server for this module, over a data dir holding one organisation and its owner."""
    cli = make_cli(tmp_path_factory.mktemp("served"))
    cli.settings.update(QUIET_LIMITS)
    org_id, key = cli.create_org("Acme")
    done = cli.run(
        "users",
        "create",
        "--org",
        org_id,
        "--email",
        "owner@example.com",
        "--password-stdin",
        "--role",
        "owner",
        stdin=PASSWORD + "\n",
    )
    assert done.returncode == 0, done.stderr
    server = start_server(cli)
    try:
        yield server, org_id, key
    finally:
        code = stop_server(server)
    # uvicorn shuts down gracefully, then re-raises the signal it caught.
    assert code in (0, -signal.SIGTERM), f"launchgate serve exited with {code} on SIGTERM"


def test_serve_answers_health_and_the_api(served: tuple[Server, str, str]) -> None:
    server, _, key = served
    health = httpx.get(f"{server.url}/health", timeout=5)
    assert health.status_code == 200
    body = health.json()
    assert body["status"] == "healthy" and body["version"]
    assert body["services"] == {"database": "connected", "redis": "not_configured"}
    usage = httpx.get(
        f"{server.url}/v1/billing/usage", headers={"Authorization": f"Bearer {key}"}, timeout=5
    )
    assert usage.status_code == 200 and usage.json()["plan"] == "enterprise"


def test_a_user_made_with_the_cli_can_log_in(served: tuple[Server, str, str]) -> None:
    server, _, _ = served
    login = httpx.post(
        f"{server.url}/v1/auth/login",
        timeout=10,
        json={"email": "Owner@Example.com", "password": PASSWORD},
    )
    assert login.status_code == 200, login.text
    token = login.json()["data"]["access_token"]
    projects = httpx.get(
        f"{server.url}/v1/projects", headers={"Authorization": f"Bearer {token}"}, timeout=5
    )
    assert projects.status_code == 200 and projects.json()["data"] == []
    wrong = httpx.post(
        f"{server.url}/v1/auth/login",
        timeout=10,
        json={"email": "owner@example.com", "password": PASSWORD + "!"},
    )
    assert wrong.status_code == 401
    assert wrong.json()["error"]["code"] == "UNAUTHORIZED"
