"""The test-key scope (docs/api.md, "Test keys"): an ``lg_test_`` key runs suites and reads,
and edits eval definitions, but cannot manage credentials — API keys and BYOK keys.

Before the scope, a test key could mint a live key and swap the provider key every judge
run uses; each refused route below answered 201/200/204 to a test key.
"""

from __future__ import annotations

import secrets
from typing import Any

import pytest

from tests.factories import Api, Org, assert_error

REFUSED = [
    ("POST", "/v1/api-keys", {"name": "minted", "mode": "live"}),
    ("POST", "/v1/api-keys", {"name": "minted", "mode": "test"}),
    ("DELETE", "/v1/api-keys/{api_key_id}", None),
    ("POST", "/v1/byok-keys", {"provider": "openai", "name": "swap", "key": "sk-swapped12345"}),
    ("PATCH", "/v1/byok-keys/{byok_id}", {"is_default": True}),
    ("PATCH", "/v1/byok-keys/{byok_id}", {"name": "renamed"}),
    ("DELETE", "/v1/byok-keys/{byok_id}", None),
    ("POST", "/v1/byok-keys/{byok_id}/test", None),
]


async def _org_with_credentials(api: Api) -> tuple[Org, Org, dict[str, str]]:
    """``(live, test)`` callers of one organisation, an API key and a BYOK key to aim at."""
    live = await api.org()
    test = Org(live.id, await api.test_key(live))
    api_key = await api.ok("POST", "/v1/api-keys", live, 201, json={"name": "target"})
    byok = await api.ok(
        "POST",
        "/v1/byok-keys",
        live,
        201,
        json={
            "provider": "openai",
            "name": "target",
            "key": "sk-" + secrets.token_hex(16),
        },
    )
    return live, test, {"api_key_id": api_key["data"]["id"], "byok_id": byok["data"]["id"]}


async def _credentials(api: Api, org: Org) -> list[dict[str, Any]]:
    """Every credential of the organisation, less ``last_used_at`` (a request touches it)."""
    api_keys = (await api.ok("GET", "/v1/api-keys?pageSize=100", org))["data"]
    byok = (await api.ok("GET", "/v1/byok-keys?pageSize=100", org))["data"]
    return [{k: v for k, v in key.items() if k != "last_used_at"} for key in api_keys + byok]


@pytest.mark.parametrize("method,path,body", REFUSED, ids=[f"{m} {p}" for m, p, _ in REFUSED])
async def test_a_test_key_cannot_manage_credentials(
    api: Api, method: str, path: str, body: dict[str, Any] | None
) -> None:
    live, test, ids = await _org_with_credentials(api)
    before = await _credentials(api, live)
    kwargs = {"json": body} if body is not None else {}
    response = await api.call(method, path.format(**ids), test, **kwargs)
    error = assert_error(response, 403, "FORBIDDEN")
    assert "test key" in error["message"] and "lg_live_" in error["message"]
    assert await _credentials(api, live) == before  # nothing changed


@pytest.mark.parametrize("method,path,body", REFUSED, ids=[f"{m} {p}" for m, p, _ in REFUSED])
async def test_a_test_key_of_another_organisation_learns_nothing(
    api: Api, method: str, path: str, body: dict[str, Any] | None
) -> None:
    """The scope is checked before the lookup: another organisation's ids get the same 403
    as any id, so it tells nothing about them (and the owner's keys stay as they were)."""
    owner, _, ids = await _org_with_credentials(api)
    stranger = await api.org()
    stranger_test = Org(stranger.id, await api.test_key(stranger))
    before = await _credentials(api, owner)
    kwargs = {"json": body} if body is not None else {}
    assert_error(
        await api.call(method, path.format(**ids), stranger_test, **kwargs), 403, "FORBIDDEN"
    )
    assert await _credentials(api, owner) == before


async def test_a_test_key_reads_runs_and_edits_eval_definitions(api: Api) -> None:
    _, test, ids = await _org_with_credentials(api)
    # Reading, credentials included (metadata only).
    await api.ok("GET", "/v1/api-keys", test)
    await api.ok("GET", "/v1/byok-keys", test)
    await api.ok("GET", f"/v1/byok-keys/{ids['byok_id']}", test)
    await api.ok("GET", "/v1/billing/usage", test)
    # Eval definitions: create, edit, run, read the run, delete.
    project, suite = await api.gated_suite(test, values=("hello",))
    await api.ok("PATCH", f"/v1/projects/{project['slug']}", test, json={"description": "ci"})
    result = await api.run(test, suite["slug"], "hello")
    assert result["status"] == "cleared"
    await api.ok("GET", f"/v1/runs/{result['id']}", test)
    accepted = await api.run(test, suite["slug"], "hello", status=202, **{"async": True})
    assert accepted["status"] == "pending"
    await api.ok("DELETE", f"/v1/projects/{project['slug']}", test, 204)


async def test_live_keys_still_manage_credentials(api: Api) -> None:
    live, _, ids = await _org_with_credentials(api)
    await api.ok("PATCH", f"/v1/byok-keys/{ids['byok_id']}", live, json={"name": "renamed"})
    await api.ok("DELETE", f"/v1/byok-keys/{ids['byok_id']}", live, 204)
    await api.ok("DELETE", f"/v1/api-keys/{ids['api_key_id']}", live, 204)
