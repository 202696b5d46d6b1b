"""API keys (SPEC §8): shown once, stored as a SHA-256 hash, revocable, optional expiry."""

from __future__ import annotations

import hashlib
import re
import uuid
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select, update

from launchgate.db import unit_of_work
from launchgate.kit.time import utcnow
from launchgate.models import ApiKey
from tests.factories import Api, Org

KEY = re.compile(r"^lg_(live|test)_[0-9A-Za-z]{32}$")
ISO_Z = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")


def bearer(secret: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {secret}"}


async def create_key(api: Api, org: Org, **body: Any) -> dict[str, Any]:
    body.setdefault("name", "ci")
    created: dict[str, Any] = (await api.ok("POST", "/v1/api-keys", org, 201, json=body))["data"]
    return created


def assert_unauthorized(response: Any) -> None:
    assert response.status_code == 401, response.text
    error = response.json()["error"]
    assert error["code"] == "UNAUTHORIZED"
    assert error["message"]


@pytest.mark.parametrize("mode", ["live", "test"])
async def test_create_returns_the_full_key_once(api: Api, mode: str) -> None:
    org = await api.org()
    created = await create_key(api, org, name="deploy bot", mode=mode)
    assert KEY.match(created["key"]) and created["key"].startswith(f"lg_{mode}_")
    assert created["key_prefix"] == created["key"][:12]
    assert created["mode"] == mode and created["name"] == "deploy bot"
    assert created["expires_at"] is None and created["revoked_at"] is None
    assert ISO_Z.match(created["created_at"])
    uuid.UUID(created["id"])


async def test_mode_defaults_to_live(api: Api) -> None:
    created = await create_key(api, await api.org())
    assert created["key"].startswith("lg_live_") and created["mode"] == "live"


async def test_keys_are_random(api: Api) -> None:
    org = await api.org()
    first, second = await create_key(api, org), await create_key(api, org)
    assert first["key"] != second["key"]


async def test_list_never_shows_the_secret(api: Api) -> None:
    org = await api.org()
    created = await create_key(api, org)
    response = await api.call("GET", "/v1/api-keys", org)
    assert response.status_code == 200, response.text
    assert created["key"] not in response.text
    assert org.key not in response.text
    body = response.json()
    listed = {item["id"]: item for item in body["data"]}
    assert created["id"] in listed and len(listed) == 2  # the org's default key + the new one
    assert listed[created["id"]]["key_prefix"] == created["key"][:12]
    for item in body["data"]:
        assert "key" not in item and "key_hash" not in item
    assert body["pagination"] == {"page": 1, "pageSize": 20, "total": 2, "hasMore": False}


async def test_list_is_scoped_to_the_organisation(api: Api) -> None:
    mine, theirs = await api.org(), await api.org()
    created = await create_key(api, theirs)
    listed = (await api.ok("GET", "/v1/api-keys", mine))["data"]
    assert created["id"] not in {item["id"] for item in listed}
    assert len(listed) == 1


async def test_database_keeps_only_a_hash(api: Api) -> None:
    org = await api.org()
    created = await create_key(api, org)
    secret = created["key"]
    async with unit_of_work(api.runtime.sessions) as session:
        row = (
            (
                await session.execute(
                    select(ApiKey.__table__).where(ApiKey.id == uuid.UUID(created["id"]))
                )
            )
            .mappings()
            .one()
        )
    assert row["key_hash"] == hashlib.sha256(secret.encode()).hexdigest()
    assert row["key_prefix"] == secret[:12]
    for column, value in row.items():
        assert secret not in str(value), column
        assert secret[12:] not in str(value), column  # not even the random part


async def test_new_key_authenticates_as_its_organisation(api: Api) -> None:
    org, other = await api.org(), await api.org()
    project = await api.project(org)
    await api.project(other)
    created = await create_key(api, org)
    response = await api.client.get("/v1/projects", headers=bearer(created["key"]))
    assert response.status_code == 200, response.text
    assert [p["slug"] for p in response.json()["data"]] == [project["slug"]]


async def test_test_key_authenticates(api: Api) -> None:
    org = await api.org()
    secret = await api.test_key(org)
    assert secret.startswith("lg_test_")
    response = await api.client.get("/v1/projects", headers=bearer(secret))
    assert response.status_code == 200, response.text


async def test_revoke(api: Api) -> None:
    org = await api.org()
    created = await create_key(api, org)
    assert (await api.client.get("/v1/projects", headers=bearer(created["key"]))).status_code == 200
    response = await api.call("DELETE", f"/v1/api-keys/{created['id']}", org)
    assert response.status_code == 204 and response.content == b""
    assert_unauthorized(await api.client.get("/v1/projects", headers=bearer(created["key"])))
    listed = (await api.ok("GET", "/v1/api-keys", org))["data"]
    revoked = next(item for item in listed if item["id"] == created["id"])
    assert ISO_Z.match(revoked["revoked_at"])
    # Revoking twice is a 404: there is no live key of that id any more.
    again = await api.call("DELETE", f"/v1/api-keys/{created['id']}", org)
    assert again.status_code == 404 and again.json()["error"]["code"] == "NOT_FOUND"


async def test_a_key_can_revoke_itself(api: Api) -> None:
    org = await api.org()
    created = await create_key(api, org)
    response = await api.client.delete(
        f"/v1/api-keys/{created['id']}", headers=bearer(created["key"])
    )
    assert response.status_code == 204
    assert_unauthorized(await api.client.get("/v1/projects", headers=bearer(created["key"])))


async def test_cannot_revoke_another_organisations_key(api: Api) -> None:
    mine, theirs = await api.org(), await api.org()
    created = await create_key(api, theirs)
    response = await api.call("DELETE", f"/v1/api-keys/{created['id']}", mine)
    assert response.status_code == 404 and response.json()["error"]["code"] == "NOT_FOUND"
    assert (await api.client.get("/v1/projects", headers=bearer(created["key"]))).status_code == 200


async def test_revoke_unknown_or_malformed_id(api: Api) -> None:
    org = await api.org()
    unknown = await api.call("DELETE", f"/v1/api-keys/{uuid.uuid4()}", org)
    assert unknown.status_code == 404
    malformed = await api.call("DELETE", "/v1/api-keys/not-a-uuid", org)
    assert malformed.status_code == 400
    assert malformed.json()["error"]["code"] == "VALIDATION_ERROR"


async def test_future_expiry_is_kept_and_the_key_works(api: Api) -> None:
    org = await api.org()
    expires = (utcnow() + timedelta(days=30)).replace(microsecond=0)
    created = await create_key(api, org, expires_at=expires.isoformat().replace("+00:00", "Z"))
    assert created["expires_at"] == expires.strftime("%Y-%m-%dT%H:%M:%S.000Z")
    assert (await api.client.get("/v1/projects", headers=bearer(created["key"]))).status_code == 200


@pytest.mark.parametrize(
    "expires_at",
    [(utcnow() - timedelta(minutes=1)).isoformat(), "2001-01-01T00:00:00Z"],
    ids=["a-minute-ago", "in-2001"],  # stable ids: pytest-xdist's workers collect apart
)
async def test_expiry_in_the_past_is_refused(api: Api, expires_at: str) -> None:
    org = await api.org()
    response = await api.call(
        "POST", "/v1/api-keys", org, json={"name": "x", "expires_at": expires_at}
    )
    assert response.status_code == 400, response.text
    assert response.json()["error"]["code"] == "VALIDATION_ERROR"
    assert len((await api.ok("GET", "/v1/api-keys", org))["data"]) == 1


async def test_expired_key_is_unauthorized(api: Api) -> None:
    org = await api.org()
    created = await create_key(api, org, expires_at=(utcnow() + timedelta(hours=1)).isoformat())
    async with unit_of_work(api.runtime.sessions) as session:
        await session.execute(
            update(ApiKey)
            .where(ApiKey.id == uuid.UUID(created["id"]))
            .values(expires_at=utcnow() - timedelta(seconds=1))
        )
    assert_unauthorized(await api.client.get("/v1/projects", headers=bearer(created["key"])))


@pytest.mark.parametrize(
    "authorization",
    [
        None,
        "",
        "Basic x",
        "Basic dXNlcjpwYXNz",
        "Bearer ",
        "Bearer",
        "Bearer garbage",
        "Bearer lg_live_" + "A" * 32,
        "Bearer lg_test_",
        "Bearer not.a.jwt",
        "Token lg_live_" + "A" * 32,
        "lg_live_" + "A" * 32,
    ],
)
async def test_bad_credentials_are_401(api: Api, authorization: str | None) -> None:
    headers = {} if authorization is None else {"Authorization": authorization}
    response = await api.client.get("/v1/projects", headers=headers)
    assert_unauthorized(response)
    if authorization and authorization.startswith("Bearer lg_live_"):
        assert authorization.removeprefix("Bearer ") not in response.text


async def test_the_real_key_with_a_lowercase_scheme_is_accepted(api: Api) -> None:
    org = await api.org()
    response = await api.client.get("/v1/projects", headers={"Authorization": f"bearer {org.key}"})
    assert response.status_code == 200, response.text


@pytest.mark.parametrize(
    "body",
    [
        {"name": "x", "mode": "live", "scopes": ["all"]},
        {"name": "x", "key": "lg_live_" + "A" * 32},
        {"name": "x", "mode": "prod"},
        {"name": ""},
        {"name": 5},
        {"mode": "live"},
        {"name": "x", "expires_at": "tomorrow"},
    ],
)
async def test_bad_bodies_are_400(api: Api, body: dict[str, Any]) -> None:
    org = await api.org()
    response = await api.call("POST", "/v1/api-keys", org, json=body)
    assert response.status_code == 400, response.text
    assert response.json()["error"]["code"] == "VALIDATION_ERROR"


async def test_creating_a_key_needs_authentication(api: Api) -> None:
    assert_unauthorized(await api.client.post("/v1/api-keys", json={"name": "x"}))
    assert_unauthorized(await api.client.get("/v1/api-keys"))
