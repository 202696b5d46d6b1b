"""POST /v1/byok-keys/{id}/test against the fake provider server, over real HTTP."""

from __future__ import annotations

import secrets
from typing import Any

import pytest

from launchgate.testing.fake_provider import FakeProviderServer, free_port
from tests.factories import Api, Org

VALID_PREFIX = {
    "openai": "sk-test-",
    "anthropic": "sk-ant-test-",
    "google": "AIza-test-",
    "azure_openai": "azure-test-",
}


def secret_for(provider: str, valid: bool = True) -> str:
    return (VALID_PREFIX[provider] if valid else "sk-wrong-") + secrets.token_hex(16)


async def add_key(
    api: Api, org: Org, provider: str, key: str, config: dict[str, str] | None = None
) -> dict[str, Any]:
    body: dict[str, Any] = {"provider": provider, "name": f"{provider} key", "key": key}
    if config is not None:
        body["config"] = config
    return (await api.ok("POST", "/v1/byok-keys", org, 201, json=body))["data"]


def azure(fake: FakeProviderServer) -> dict[str, str]:
    return {"endpoint": fake.azure_endpoint}


@pytest.mark.parametrize("provider", list(VALID_PREFIX))
async def test_a_valid_key_is_valid(
    papi: Api, fake_provider: FakeProviderServer, provider: str
) -> None:
    org = await papi.org()
    config = azure(fake_provider) if provider == "azure_openai" else None
    key = await add_key(papi, org, provider, secret_for(provider), config)
    result = (await papi.ok("POST", f"/v1/byok-keys/{key['id']}/test", org))["data"]
    assert result["valid"] is True and result["provider"] == provider
    assert result["latency_ms"] is not None and result["latency_ms"] >= 0
    after = (await papi.ok("GET", f"/v1/byok-keys/{key['id']}", org))["data"]
    assert after["status"] == "active" and after["last_tested_at"] is not None


@pytest.mark.parametrize("provider", list(VALID_PREFIX))
async def test_a_wrong_key_is_invalid_with_the_providers_message(
    papi: Api, fake_provider: FakeProviderServer, provider: str
) -> None:
    org = await papi.org()
    secret = secret_for(provider, valid=False)
    config = azure(fake_provider) if provider == "azure_openai" else None
    key = await add_key(papi, org, provider, secret, config)
    response = await papi.call("POST", f"/v1/byok-keys/{key['id']}/test", org)
    assert response.status_code == 200
    result = response.json()["data"]
    assert result["valid"] is False and "rejected" in result["message"]
    assert secret[8:] not in response.text
    after = (await papi.ok("GET", f"/v1/byok-keys/{key['id']}", org))["data"]
    assert after["status"] == "invalid"


async def test_an_unreachable_provider_is_a_clear_answer_not_a_500(papi: Api) -> None:
    org = await papi.org()
    dead = f"http://127.0.0.1:{free_port()}/v1"
    key = await add_key(papi, org, "openai", secret_for("openai"), {"base_url": dead})
    response = await papi.call("POST", f"/v1/byok-keys/{key['id']}/test", org)
    assert response.status_code == 200, response.text
    result = response.json()["data"]
    assert result["valid"] is False and result["message"].startswith("Could not verify")
    after = (await papi.ok("GET", f"/v1/byok-keys/{key['id']}", org))["data"]
    assert after["status"] == "active"  # an outage says nothing about the key


async def test_an_openai_key_uses_its_own_base_url(
    papi: Api, fake_provider: FakeProviderServer
) -> None:
    org = await papi.org()
    key = await add_key(
        papi,
        org,
        "openai",
        secret_for("openai"),
        {"base_url": fake_provider.openai_base_url, "organization": "org-1"},
    )
    result = (await papi.ok("POST", f"/v1/byok-keys/{key['id']}/test", org))["data"]
    assert result["valid"] is True


async def test_the_test_is_recorded_in_the_audit_log(papi: Api) -> None:
    org = await papi.org()
    key = await add_key(papi, org, "anthropic", secret_for("anthropic"))
    await papi.ok("POST", f"/v1/byok-keys/{key['id']}/test", org)
    events = (await papi.ok("GET", "/v1/audit-log", org))["data"]
    tested = [e for e in events if e["action"] == "byok_key.tested"]
    assert len(tested) == 1 and tested[0]["details"]["valid"] is True
    assert tested[0]["actor_type"] == "api_key"
