"""Per-IP limits of SPEC §8: the API rate, the stricter auth-endpoint rate, and the lockout
after failed authentications. Each test starts its own app with the limits it needs (the
shared app has them all off) and picks the client IP through the ASGI transport."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
from fastapi import FastAPI

from launchgate.app import create_app
from tests.conftest import make_settings
from tests.factories import Api, Org

IP_A, IP_B = "10.1.2.3", "10.9.8.7"
BAD_KEY = "lg_live_" + "0" * 32
PASSWORD = "correct horse battery"


@contextlib.asynccontextmanager
async def limited_app(database_url: str, tmp_path: Path, **limits: str) -> AsyncIterator[FastAPI]:
    overrides = {"rate_limit": "off", "auth_rate_limit": "off", "lockout_limit": "off", **limits}
    app = create_app(make_settings(database_url, tmp_path, **overrides))
    async with app.router.lifespan_context(app):
        yield app


def client_from(app: FastAPI, ip: str) -> httpx.AsyncClient:
    transport = httpx.ASGITransport(app=app, client=(ip, 1234))
    return httpx.AsyncClient(transport=transport, base_url="http://testserver")


async def new_org(app: FastAPI, client: httpx.AsyncClient) -> tuple[Api, Org]:
    api = Api(client, app.state.runtime)
    return api, await api.org()


def bearer(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


def assert_rate_limited(response: httpx.Response, window_s: int) -> None:
    assert response.status_code == 429, response.text
    error = response.json()["error"]
    assert error["code"] == "RATE_LIMITED" and error["message"]
    retry_after = int(response.headers["Retry-After"])
    assert 0 < retry_after <= window_s
    assert error["details"]["retry_after"] == retry_after


def assert_unauthorized(response: httpx.Response) -> None:
    assert response.status_code == 401, response.text
    assert response.json()["error"]["code"] == "UNAUTHORIZED"


async def login(client: httpx.AsyncClient, email: str, password: str = PASSWORD) -> Any:
    return await client.post("/v1/auth/login", json={"email": email, "password": password})


# --- API rate -----------------------------------------------------------------------------


async def test_sixth_request_in_a_minute_is_429(database_url: str, tmp_path: Path) -> None:
    async with (
        limited_app(database_url, tmp_path, rate_limit="5/minute") as app,
        client_from(app, IP_A) as a,
        client_from(app, IP_B) as b,
    ):
        _, org = await new_org(app, a)
        for _ in range(5):
            assert (await a.get("/v1/projects", headers=org.headers)).status_code == 200
        assert_rate_limited(await a.get("/v1/projects", headers=org.headers), 60)
        # Still limited, whatever the endpoint, public ones included.
        assert_rate_limited(await a.get("/v1/templates"), 60)
        assert (await b.get("/v1/projects", headers=org.headers)).status_code == 200
        for _ in range(7):
            health = await a.get("/health")
            assert health.status_code == 200 and health.json()["status"] == "healthy"


async def test_rejected_requests_count_too(database_url: str, tmp_path: Path) -> None:
    async with (
        limited_app(database_url, tmp_path, rate_limit="5/minute") as app,
        client_from(app, IP_A) as a,
    ):
        _, org = await new_org(app, a)
        for _ in range(3):
            assert_unauthorized(await a.get("/v1/projects"))
        assert (await a.get("/v1/templates")).status_code == 200
        assert (await a.post("/v1/projects", headers=org.headers, json={})).status_code == 400
        assert_rate_limited(await a.get("/v1/projects", headers=org.headers), 60)


# --- auth endpoints -----------------------------------------------------------------------


async def test_fourth_login_in_the_window_is_429(database_url: str, tmp_path: Path) -> None:
    async with (
        limited_app(database_url, tmp_path, auth_rate_limit="3/15 minutes") as app,
        client_from(app, IP_A) as a,
        client_from(app, IP_B) as b,
    ):
        api, org = await new_org(app, a)
        email = await api.user(org)
        for _ in range(3):
            assert (await login(a, email)).status_code == 200
        assert_rate_limited(await login(a, email), 15 * 60)
        assert (await login(b, email)).status_code == 200
        # Only the auth endpoints have the stricter limit.
        for _ in range(5):
            assert (await a.get("/v1/projects", headers=org.headers)).status_code == 200


async def test_fourth_key_creation_in_the_window_is_429(database_url: str, tmp_path: Path) -> None:
    async with (
        limited_app(database_url, tmp_path, auth_rate_limit="3/15 minutes") as app,
        client_from(app, IP_A) as a,
        client_from(app, IP_B) as b,
    ):
        _, org = await new_org(app, a)
        for _ in range(5):  # listing keys is not an auth endpoint
            assert (await a.get("/v1/api-keys", headers=org.headers)).status_code == 200
        for n in range(3):
            created = await a.post("/v1/api-keys", headers=org.headers, json={"name": f"k{n}"})
            assert created.status_code == 201, created.text
        assert_rate_limited(
            await a.post("/v1/api-keys", headers=org.headers, json={"name": "k4"}), 15 * 60
        )
        created = await b.post("/v1/api-keys", headers=org.headers, json={"name": "from b"})
        assert created.status_code == 201
        # The refused creation made no key: 1 default + 3 from A + 1 from B.
        listed = (await a.get("/v1/api-keys", headers=org.headers)).json()
        assert listed["pagination"]["total"] == 5


# --- lockout ------------------------------------------------------------------------------


async def test_failed_api_keys_lock_the_ip_out(database_url: str, tmp_path: Path) -> None:
    async with (
        limited_app(database_url, tmp_path, lockout_limit="3/15 minutes") as app,
        client_from(app, IP_A) as a,
        client_from(app, IP_B) as b,
    ):
        _, org = await new_org(app, a)
        assert (await a.get("/v1/projects", headers=org.headers)).status_code == 200
        for _ in range(3):
            assert_unauthorized(await a.get("/v1/projects", headers=bearer(BAD_KEY)))
        # Now every request from A is refused, a valid key and public endpoints included...
        locked = await a.get("/v1/projects", headers=org.headers)
        assert_unauthorized(locked)
        assert "failed" in locked.json()["error"]["message"].lower()
        assert_unauthorized(await a.get("/v1/templates"))
        assert_unauthorized(await login(a, "nobody@example.com"))
        # ...while other addresses work, and A can still be probed by a load balancer.
        assert (await b.get("/v1/projects", headers=org.headers)).status_code == 200
        assert (await a.get("/health")).status_code == 200


async def test_failed_logins_lock_the_ip_out(database_url: str, tmp_path: Path) -> None:
    async with (
        limited_app(database_url, tmp_path, lockout_limit="3/15 minutes") as app,
        client_from(app, IP_A) as a,
        client_from(app, IP_B) as b,
    ):
        api, org = await new_org(app, a)
        email = await api.user(org)
        for _ in range(3):
            assert_unauthorized(await login(a, email, "wrong password"))
        assert_unauthorized(await login(a, email))
        assert_unauthorized(await a.get("/v1/projects", headers=org.headers))
        assert (await login(b, email)).status_code == 200


async def test_key_and_login_failures_add_up(database_url: str, tmp_path: Path) -> None:
    async with (
        limited_app(database_url, tmp_path, lockout_limit="3/15 minutes") as app,
        client_from(app, IP_A) as a,
    ):
        _, org = await new_org(app, a)
        assert_unauthorized(await a.get("/v1/projects", headers=bearer(BAD_KEY)))
        assert_unauthorized(await login(a, "nobody@example.com"))
        assert_unauthorized(await a.get("/v1/projects", headers=bearer("garbage.jwt.value")))
        assert_unauthorized(await a.get("/v1/projects", headers=org.headers))


async def test_successes_do_not_count_toward_lockout(database_url: str, tmp_path: Path) -> None:
    async with (
        limited_app(database_url, tmp_path, lockout_limit="3/15 minutes") as app,
        client_from(app, IP_A) as a,
    ):
        _, org = await new_org(app, a)
        for _ in range(6):
            assert (await a.get("/v1/projects", headers=org.headers)).status_code == 200
        for _ in range(2):
            assert_unauthorized(await a.get("/v1/projects", headers=bearer(BAD_KEY)))
        assert (await a.get("/v1/projects", headers=org.headers)).status_code == 200


# --- "off" --------------------------------------------------------------------------------


async def test_off_disables_every_limit(database_url: str, tmp_path: Path) -> None:
    async with limited_app(database_url, tmp_path) as app, client_from(app, IP_A) as a:
        api, org = await new_org(app, a)
        email = await api.user(org)
        for _ in range(8):
            assert_unauthorized(await a.get("/v1/projects", headers=bearer(BAD_KEY)))
        for _ in range(4):
            assert_unauthorized(await login(a, email, "wrong password"))
        for n in range(4):
            created = await a.post("/v1/api-keys", headers=org.headers, json={"name": f"k{n}"})
            assert created.status_code == 201
        assert (await login(a, email)).status_code == 200
        assert (await a.get("/v1/projects", headers=org.headers)).status_code == 200
        assert app.state.runtime.limits.api is None


async def test_requests_without_credentials_do_not_count_towards_lockout(
    database_url: str, tmp_path: Path
) -> None:
    async with (
        limited_app(database_url, tmp_path, lockout_limit="3/15 minutes") as app,
        client_from(app, IP_A) as a,
    ):
        for _ in range(5):
            assert (await a.get("/v1/projects")).status_code == 401
        _, org = await new_org(app, a)
        assert (await a.get("/v1/projects", headers=org.headers)).status_code == 200
