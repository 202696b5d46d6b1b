"""The BYOK API of SPEC §6: metadata only out, one default per provider, revocation,
validation that stores nothing, and 404 across organisations."""

from __future__ import annotations

import asyncio
import secrets
import uuid
from typing import Any

import pytest
from sqlalchemy import select

from launchgate.db import unit_of_work
from launchgate.models import ByokKey
from tests.factories import Api, Org, assert_error

PROVIDER_CONFIG: dict[str, dict[str, str] | None] = {
    "openai": None,
    "anthropic": None,
    "google": None,
    # A public address literal: resolving it needs no network (these machines have no DNS).
    "azure_openai": {"endpoint": "https://20.38.100.1"},
}


def new_secret(provider: str = "openai") -> str:
    return {"openai": "sk-", "anthropic": "sk-ant-", "google": "AIza", "azure_openai": "az"}[
        provider
    ] + secrets.token_hex(20)


async def create(api: Api, org: Org, provider: str = "openai", **body: Any) -> dict[str, Any]:
    body.setdefault("name", f"{provider} key")
    body.setdefault("key", new_secret(provider))
    if PROVIDER_CONFIG[provider] is not None:
        body.setdefault("config", PROVIDER_CONFIG[provider])
    return (await api.ok("POST", "/v1/byok-keys", org, 201, json={"provider": provider, **body}))[
        "data"
    ]


async def keys(api: Api, org: Org) -> list[dict[str, Any]]:
    return (await api.ok("GET", "/v1/byok-keys?pageSize=100", org))["data"]


@pytest.mark.parametrize("provider", list(PROVIDER_CONFIG))
async def test_create_answers_metadata_only(api: Api, provider: str) -> None:
    org = await api.org()
    secret = new_secret(provider)
    response = await api.call(
        "POST",
        "/v1/byok-keys",
        org,
        json={
            "provider": provider,
            "name": "Production",
            "key": secret,
            **({"config": PROVIDER_CONFIG[provider]} if PROVIDER_CONFIG[provider] else {}),
        },
    )
    assert response.status_code == 201, response.text
    data = response.json()["data"]
    assert set(data) == {
        "id",
        "provider",
        "name",
        "key_prefix",
        "is_default",
        "status",
        "config",
        "created_at",
        "updated_at",
        "last_used_at",
        "last_tested_at",
    }
    assert data["key_prefix"] == secret[:8] and data["status"] == "active"
    assert data["is_default"] is True  # the first key of a provider
    assert secret[8:] not in response.text
    if provider == "azure_openai":
        assert data["config"]["api_version"] == "2024-10-21"
    for path in ("/v1/byok-keys", f"/v1/byok-keys/{data['id']}"):
        assert secret[8:] not in (await api.call("GET", path, org)).text


async def test_the_database_holds_only_ciphertext(api: Api) -> None:
    org = await api.org()
    secret = new_secret()
    created = await create(api, org, key=secret)
    async with unit_of_work(api.runtime.sessions) as session:
        row = (
            await session.execute(select(ByokKey).where(ByokKey.id == uuid.UUID(created["id"])))
        ).scalar_one()
    assert row.ciphertext and secret not in row.ciphertext and secret[8:] not in repr(row)


async def test_one_default_per_provider_and_the_first_is_it(api: Api) -> None:
    org = await api.org()
    first = await create(api, org)
    second = await create(api, org)
    other_provider = await create(api, org, "anthropic")
    assert (first["is_default"], second["is_default"], other_provider["is_default"]) == (
        True,
        False,
        True,
    )
    third = await create(api, org, is_default=True)
    state = {k["id"]: k["is_default"] for k in await keys(api, org)}
    assert state == {
        first["id"]: False,
        second["id"]: False,
        third["id"]: True,
        other_provider["id"]: True,
    }
    await api.ok("PATCH", f"/v1/byok-keys/{second['id']}", org, json={"is_default": True})
    state = {k["id"]: k["is_default"] for k in await keys(api, org)}
    assert {i for i, d in state.items() if d} == {second["id"], other_provider["id"]}


async def test_twenty_parallel_make_default_calls_leave_exactly_one(api: Api) -> None:
    org = await api.org()
    created = [await create(api, org) for _ in range(20)]
    responses = await asyncio.gather(
        *(
            api.call("PATCH", f"/v1/byok-keys/{k['id']}", org, json={"is_default": True})
            for k in created
        )
    )
    assert all(r.status_code in (200, 409) for r in responses), [r.text for r in responses]
    defaults = [k for k in await keys(api, org) if k["is_default"]]
    assert len(defaults) == 1


async def test_patch_name_and_config_then_revoke(api: Api) -> None:
    org = await api.org()
    key = await create(api, org, "azure_openai")
    path = f"/v1/byok-keys/{key['id']}"
    updated = (
        await api.ok(
            "PATCH",
            path,
            org,
            json={
                "name": "Renamed",
                "config": {"endpoint": "https://20.38.100.2", "api_version": "2025-01-01-preview"},
            },
        )
    )["data"]
    assert updated["name"] == "Renamed"
    assert updated["config"] == {
        "endpoint": "https://20.38.100.2",
        "api_version": "2025-01-01-preview",
    }
    assert (await api.call("DELETE", path, org)).status_code == 204
    revoked = (await api.ok("GET", path, org))["data"]
    assert revoked["status"] == "revoked" and revoked["is_default"] is False
    async with unit_of_work(api.runtime.sessions) as session:
        row = await session.get(ByokKey, uuid.UUID(key["id"]))
        assert row is not None and row.ciphertext is None
    assert_error(await api.call("DELETE", path, org), 404, "NOT_FOUND")
    assert_error(await api.call("PATCH", path, org, json={"name": "x"}), 409, "CONFLICT")
    assert_error(await api.call("POST", f"{path}/test", org), 409, "CONFLICT")


@pytest.mark.parametrize(
    "body,field",
    [
        ({"provider": "mistral", "name": "k", "key": "abc"}, "provider"),
        ({"provider": "azure_openai", "name": "k", "key": "abc"}, "config.endpoint"),
        (
            {
                "provider": "azure_openai",
                "name": "k",
                "key": "abc",
                "config": {"endpoint": "http://example.openai.azure.com"},
            },
            "config.endpoint",
        ),
        (
            {
                "provider": "openai",
                "name": "k",
                "key": "abc",
                "config": {"base_url": "https://169.254.169.254/v1"},
            },
            "config.base_url",
        ),
        (
            {
                "provider": "openai",
                "name": "k",
                "key": "abc",
                "config": {"base_url": "https://127.0.0.1:8443/v1"},
            },
            "config.base_url",
        ),
        (
            {"provider": "openai", "name": "k", "key": "abc", "config": {"deployment": "x"}},
            "config.deployment",
        ),
        ({"provider": "openai", "name": "k", "key": ""}, "key"),
        ({"provider": "openai", "name": "k", "key": "sk-has space"}, "key"),
        ({"provider": "openai", "name": "k", "key": "x" * 4097}, "key"),  # over KEY_MAX
        ({"provider": "openai", "name": "k", "key": "abc", "extra": 1}, "extra"),
        ({"provider": "openai", "name": "k", "key": 12345}, "key"),
    ],
)
async def test_bad_bodies_are_400_and_store_nothing(
    api: Api, body: dict[str, Any], field: str
) -> None:
    org = await api.org()
    error = assert_error(
        await api.call("POST", "/v1/byok-keys", org, json=body), 400, "VALIDATION_ERROR"
    )
    assert any(field in d["field"] for d in error["details"]), error
    if isinstance(body.get("key"), str) and len(body["key"]) > 3:
        assert body["key"][3:40] not in str(error)
    assert await keys(api, org) == []


async def test_other_organisations_get_404_everywhere(api: Api) -> None:
    owner, stranger = await api.org(), await api.org()
    key = await create(api, owner)
    path = f"/v1/byok-keys/{key['id']}"
    for method, suffix, body in [
        ("GET", "", None),
        ("PATCH", "", {"name": "x"}),
        ("DELETE", "", None),
        ("POST", "/test", None),
    ]:
        kwargs = {"json": body} if body is not None else {}
        assert_error(await api.call(method, path + suffix, stranger, **kwargs), 404, "NOT_FOUND")
    assert await keys(api, stranger) == []
    assert (await api.ok("GET", path, owner))["data"] == key


async def test_changes_are_in_the_audit_log_without_secrets(api: Api) -> None:
    org = await api.org()
    secret = new_secret()
    key = await create(api, org, key=secret)
    other = await create(api, org)
    await api.ok("PATCH", f"/v1/byok-keys/{other['id']}", org, json={"is_default": True})
    await api.call("DELETE", f"/v1/byok-keys/{key['id']}", org)
    await api.ok("POST", "/v1/api-keys", org, 201, json={"name": "ci"})
    response = await api.call("GET", "/v1/audit-log?pageSize=100", org)
    assert response.status_code == 200 and secret[8:] not in response.text
    actions = [e["action"] for e in response.json()["data"]]
    for expected in (
        "byok_key.created",
        "byok_key.default_set",
        "byok_key.updated",
        "byok_key.revoked",
        "api_key.created",
    ):
        assert expected in actions, actions
    assert actions[0] == "api_key.created"  # newest first
    stranger = await api.org()
    # Another organisation sees only its own history: the key it was created with.
    theirs = (await api.ok("GET", "/v1/audit-log", stranger))["data"]
    assert [(e["action"], e["actor_type"]) for e in theirs] == [("api_key.created", "system")]
