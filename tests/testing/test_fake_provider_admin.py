"""Latency, the error schedule, the counters and the admin API, over real HTTP."""

from __future__ import annotations

import asyncio
import json
import time
from typing import Any

import httpx
import pytest

from launchgate.testing.fake_provider import (
    FakeProviderProcess,
    FakeProviderServer,
    key_fingerprint,
)
from tests.testing.conftest import (
    ANTHROPIC_HEADERS,
    ANTHROPIC_KEY,
    AZURE_KEY,
    AZURE_QUERY,
    GOOGLE_KEY,
    OPENAI_KEY,
    anthropic_message,
    gemini_request,
    openai_chat,
)


def call(provider: str, key: str | None = None) -> dict[str, Any]:
    """The keyword arguments of one valid chat call to `provider`."""
    if provider == "openai":
        return {
            "url": "/v1/chat/completions",
            "json": openai_chat(),
            "headers": {"Authorization": f"Bearer {key or OPENAI_KEY}"},
        }
    if provider == "anthropic":
        return {
            "url": "/v1/messages",
            "json": anthropic_message(),
            "headers": {**ANTHROPIC_HEADERS, "x-api-key": key or ANTHROPIC_KEY},
        }
    if provider == "google":
        return {
            "url": "/v1beta/models/gemini-2.5-flash:generateContent",
            "json": gemini_request(),
            "headers": {"x-goog-api-key": key or GOOGLE_KEY},
        }
    return {
        "url": "/openai/deployments/gpt-4o/chat/completions",
        "json": openai_chat(),
        "params": AZURE_QUERY,
        "headers": {"api-key": key or AZURE_KEY},
    }


async def post(
    client: httpx.AsyncClient, provider: str, key: str | None = None, **options: Any
) -> httpx.Response:
    return await client.post(**call(provider, key), **options)


async def test_rate_limit_schedule_then_success(
    fake: FakeProviderServer, client: httpx.AsyncClient
) -> None:
    fake.schedule("openai", {"kind": "rate_limit", "count": 2, "retry_after": 1})
    assert fake.counters()["scheduled_remaining"]["openai"] == 2
    for _ in range(2):
        response = await post(client, "openai")
        assert response.status_code == 429
        assert response.headers["retry-after"] == "1"
        assert response.json()["error"]["code"] == "rate_limit_exceeded"
    assert (await post(client, "openai")).status_code == 200
    counters = fake.counters()
    assert counters["scheduled_remaining"]["openai"] == 0
    assert counters["providers"]["openai"]["statuses"] == {"429": 2, "200": 1}


@pytest.mark.parametrize(
    ("provider", "kind", "status"),
    [
        ("openai", "server_error", 500),
        ("anthropic", "server_error", 500),
        ("google", "server_error", 500),
        ("azure_openai", "server_error", 500),
        ("anthropic", "overloaded", 529),
        ("google", "overloaded", 503),
        ("openai", "quota", 429),
        ("anthropic", "quota", 400),
        ("azure_openai", "rate_limit", 429),
    ],
)
async def test_scheduled_errors_per_provider(
    fake: FakeProviderServer, client: httpx.AsyncClient, provider: str, kind: str, status: int
) -> None:
    fake.schedule(provider, {"kind": kind})
    response = await post(client, provider)
    assert response.status_code == status
    assert "error" in response.json()
    assert (await post(client, provider)).status_code == 200


async def test_error_bodies_match_each_provider(
    fake: FakeProviderServer, client: httpx.AsyncClient
) -> None:
    fake.schedule("anthropic", {"kind": "overloaded"})
    overloaded = (await post(client, "anthropic")).json()
    assert overloaded["error"] == {"type": "overloaded_error", "message": "Overloaded"}
    fake.schedule("openai", {"kind": "quota"})
    quota = (await post(client, "openai")).json()["error"]
    assert quota["type"] == quota["code"] == "insufficient_quota"
    fake.schedule("google", {"kind": "rate_limit", "retry_after": 7})
    limited = await post(client, "google")
    assert "retry-after" not in limited.headers  # Gemini says it in the body instead
    error = limited.json()["error"]
    assert error["status"] == "RESOURCE_EXHAUSTED"
    assert {"@type": "type.googleapis.com/google.rpc.RetryInfo", "retryDelay": "7s"} in error[
        "details"
    ]
    fake.schedule("azure_openai", {"kind": "rate_limit", "retry_after": 2})
    azure = await post(client, "azure_openai")
    assert azure.headers["retry-after"] == "2"
    assert azure.json()["error"]["code"] == "429"


async def test_schedule_endpoint_filter_and_custom(
    fake: FakeProviderServer, client: httpx.AsyncClient
) -> None:
    fake.schedule(
        "openai",
        {
            "kind": "custom",
            "endpoint": "chat",
            "status": 418,
            "body": {"teapot": True},
            "headers": {"x-fake": "yes"},
        },
    )
    models = await client.get("/v1/models", headers={"Authorization": f"Bearer {OPENAI_KEY}"})
    assert models.status_code == 200
    response = await post(client, "openai")
    assert (response.status_code, response.json(), response.headers["x-fake"]) == (
        418,
        {"teapot": True},
        "yes",
    )


async def test_scheduled_auth_failure_and_garbage(
    fake: FakeProviderServer, client: httpx.AsyncClient
) -> None:
    fake.schedule("anthropic", {"kind": "auth"}, {"kind": "garbage"})
    assert (await post(client, "anthropic")).status_code == 401
    garbage = (await post(client, "anthropic")).json()
    assert garbage["content"][0]["type"] == "text"


async def test_timeout_hangs_past_the_client_timeout(
    fake: FakeProviderServer, client: httpx.AsyncClient
) -> None:
    fake.schedule("google", {"kind": "timeout", "seconds": 30})
    with pytest.raises(httpx.ReadTimeout):
        await post(client, "google", timeout=0.3)
    # The server notices the caller left and frees the slot.
    deadline = time.monotonic() + 5
    while fake.counters()["current_concurrent"] and time.monotonic() < deadline:
        await asyncio.sleep(0.05)
    assert fake.counters()["current_concurrent"] == 0
    assert (await post(client, "google")).status_code == 200


async def test_connection_drop(fake: FakeProviderServer, client: httpx.AsyncClient) -> None:
    fake.schedule("openai", {"kind": "drop"})
    with pytest.raises(httpx.RemoteProtocolError):
        await post(client, "openai")
    assert fake.counters()["providers"]["openai"]["statuses"] == {"dropped": 1}
    assert (await post(client, "openai")).status_code == 200


async def test_latency_is_a_lower_bound(
    fake: FakeProviderServer, client: httpx.AsyncClient
) -> None:
    fake.configure(latency_ms=10, providers={"anthropic": {"latency_ms": 250}})
    config = fake.admin("GET", "config")
    assert config["latency_ms"] == 10
    assert config["providers"]["anthropic"]["latency_ms"] == 250
    started = time.monotonic()
    assert (await post(client, "anthropic")).status_code == 200
    assert time.monotonic() - started >= 0.25


async def test_every_answer_waits_the_latency_refusals_and_schedules_too(
    fake: FakeProviderServer, client: httpx.AsyncClient
) -> None:
    """The latency counts from the request's arrival and the fake's own work falls inside
    it: a refused key, a scheduled 429 and a burst of calls are each answered no sooner."""
    fake.configure(latency_ms=200)
    fake.schedule("openai", {"kind": "rate_limit", "count": 1, "retry_after": 1})

    async def timed(key: str | None = None) -> tuple[int, float]:
        started = time.monotonic()
        response = await post(client, "openai", key)
        return response.status_code, time.monotonic() - started

    answers = [await timed(), await timed("not-a-key")]
    answers += await asyncio.gather(*(timed() for _ in range(10)))
    assert [status for status, _ in answers] == [429, 401] + [200] * 10
    assert all(seconds >= 0.2 for _, seconds in answers)


async def test_concurrency_counters_per_provider_and_key(
    fake: FakeProviderServer, client: httpx.AsyncClient
) -> None:
    fake.configure(providers={"openai": {"latency_ms": 500}})
    other_key = "sk-test-second-org"
    calls = [post(client, "openai") for _ in range(5)]
    calls += [post(client, "openai", other_key) for _ in range(3)]
    responses = await asyncio.gather(*calls)
    assert [r.status_code for r in responses] == [200] * 8
    counters = fake.counters()
    assert counters["max_concurrent"] == 8
    assert counters["current_concurrent"] == 0
    assert counters["providers"]["openai"]["max_concurrent"] == 8
    assert counters["providers"]["anthropic"]["max_concurrent"] == 0
    assert counters["keys"][key_fingerprint(OPENAI_KEY)]["max_concurrent"] == 5
    assert counters["keys"][key_fingerprint(other_key)]["max_concurrent"] == 3
    assert counters["keys"][key_fingerprint(other_key)]["provider"] == "openai"


async def test_valid_key_rules_are_configurable(
    fake: FakeProviderServer, client: httpx.AsyncClient
) -> None:
    fake.configure(providers={"openai": {"key_prefixes": [], "valid_keys": ["org-key-1"]}})
    assert (await post(client, "openai")).status_code == 401
    assert (await post(client, "openai", "org-key-1")).status_code == 200
    assert fake.admin("GET", "config")["providers"]["openai"]["valid_keys_count"] == 1


async def test_admin_never_shows_keys(fake: FakeProviderServer, client: httpx.AsyncClient) -> None:
    canary = "sk-test-canary-7f3c9a1e5b"
    fake.configure(providers={"openai": {"valid_keys": [canary]}})
    await post(client, "openai", canary)
    await client.get("/v1beta/models", params={"key": GOOGLE_KEY})
    recorded = fake.recorded_requests()
    assert recorded[0]["body"]["messages"][1]["content"] == "Rate this."
    assert recorded[0]["key_fingerprint"] == key_fingerprint(canary)
    assert "authorization" not in recorded[0]["headers"]
    assert "key" not in recorded[1]["query"]
    everything = json.dumps([recorded, fake.counters(), fake.admin("GET", "config")])
    assert canary not in everything and GOOGLE_KEY not in everything


async def test_configure_rejects_bad_json_and_reset_restores(
    fake: FakeProviderServer, client: httpx.AsyncClient
) -> None:
    bad_configs: list[dict[str, Any]] = [
        {"providers": {"mistral": {}}},
        {"schedule": {"openai": [{"kind": "boom"}]}},
        {"latency_ms": -1},
        {"policy": {"kind": "random"}},
    ]
    for bad in bad_configs:
        response = await client.post("/_admin/configure", json=bad)
        assert response.status_code == 400
        assert "error" in response.json()
    fake.configure(policy={"kind": "fixed", "score": 0.1})
    await post(client, "openai")
    fake.reset(config=False)
    assert fake.counters()["total_requests"] == 0
    assert fake.admin("GET", "config")["policy"]["kind"] == "fixed"
    fake.reset()
    assert fake.admin("GET", "config")["policy"]["kind"] == "from_prompt"


def test_module_runs_as_a_process() -> None:
    with FakeProviderProcess(extra_args=["--latency-ms", "5"]) as process:
        response = httpx.get(
            f"{process.openai_base_url}/models", headers={"Authorization": f"Bearer {OPENAI_KEY}"}
        )
        assert response.status_code == 200
        assert response.json()["object"] == "list"
        assert process.admin("GET", "config")["latency_ms"] == 5
        assert process.process is not None
        running = process.process
    assert running.returncode is not None


async def test_reset_during_a_call_keeps_gauges_sane(
    fake: FakeProviderServer, client: httpx.AsyncClient
) -> None:
    fake.configure(latency_ms=300)
    pending = asyncio.create_task(post(client, "openai"))
    while not fake.counters()["current_concurrent"]:
        await asyncio.sleep(0.01)
    fake.reset()
    assert (await pending).status_code == 200
    counters = fake.counters()
    assert counters["current_concurrent"] == 0
    assert counters["providers"]["openai"]["current_concurrent"] == 0
