"""Judge cost end to end (issue 16): each judged case's ``usage`` and ``cost_usd`` from the
fake provider's reported tokens and the shipped price table, runs and batches summing them,
``GET /v1/billing/usage``'s judge spend, and the monthly budget stopping judge calls, on
SQLite and PostgreSQL through the real API and the in-process worker."""

from __future__ import annotations

import json
import math
from collections.abc import AsyncIterator, Iterator
from decimal import ROUND_HALF_UP, Decimal
from importlib import resources
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from launchgate.app import create_app
from launchgate.db import unit_of_work
from launchgate.kit.time import utcnow
from launchgate.testing.fake_provider import FakeProviderServer
from launchgate.users import service as users
from tests.byok.conftest import provider_settings
from tests.conftest import started
from tests.factories import Api, Org, assert_error, unique
from tests.judge.test_judge_runs import judge_suite

SHIPPED = json.loads(
    resources.files("launchgate.billing").joinpath("prices.json").read_text("utf-8")
)["models"]
DEFAULT_MODEL = {
    "openai": "gpt-4o",
    "anthropic": "claude-sonnet-4-20250514",
    "google": "gemini-2.5-pro",
}


@pytest.fixture(autouse=True)
def clean_fake(fake_provider: FakeProviderServer) -> Iterator[None]:
    fake_provider.reset()
    yield
    fake_provider.reset()


def expected_cost(
    prices: dict[str, Any], provider: str, model: str, usage: dict[str, Any]
) -> float:
    """The price table's arithmetic, written out: uncached input, cached input at its own
    price, output; per million tokens."""
    price = {name: Decimal(str(value)) for name, value in prices[provider][model].items()}
    cached = usage["cached_input_tokens"]
    usd = (
        (usage["input_tokens"] - cached) * price["input"]
        + cached * price.get("cached_input", price["input"])
        + usage["output_tokens"] * price["output"]
    ) / 1_000_000
    return float(usd.quantize(Decimal("0.000001"), rounding=ROUND_HALF_UP))


def chats(fake: FakeProviderServer) -> list[dict[str, Any]]:
    return [r for r in fake.recorded_requests() if r["endpoint"] == "chat"]


@pytest.mark.parametrize("provider", list(DEFAULT_MODEL))
async def test_a_judged_case_costs_its_reported_tokens_at_the_table_price(
    papi: Api, fake_provider: FakeProviderServer, provider: str
) -> None:
    org = await papi.org()
    suite, _ = await judge_suite(papi, org, fake_provider, provider, extra_cases=True)
    # FAKE_CACHED: the fake reports 40 of the prompt's tokens as read from its cache.
    result = await papi.run(org, suite["slug"], "thanks FAKE_SCORE=0.9 FAKE_CACHED=40")
    judged = next(s for s in result["scores"] if s["scorer_type"] == "llm_judge")
    plain = next(s for s in result["scores"] if s["scorer_type"] != "llm_judge")
    usage = judged["usage"]
    model = DEFAULT_MODEL[provider]
    assert usage["provider"] == provider and usage["model"] == model and usage["calls"] == 1
    assert usage["cached_input_tokens"] == 40
    assert usage["input_tokens"] == judged["judge"]["input_tokens"] > 40
    assert usage["output_tokens"] == judged["judge"]["output_tokens"] > 0
    assert usage["estimated_input_tokens"] > 0
    price = SHIPPED[provider][model]
    assert price["cached_input"] < price["input"]  # so the cached part shows in the sum
    assert judged["cost_usd"] == expected_cost(SHIPPED, provider, model, usage) > 0
    assert plain["cost_usd"] is None and plain["usage"] is None  # deterministic: no cost
    assert result["cost_usd"] == judged["cost_usd"]
    stored = (await papi.ok("GET", f"/v1/runs/{result['id']}", org))["data"]
    assert stored["cost_usd"] == result["cost_usd"]
    assert stored["scores"][0]["usage"] == usage or stored["scores"][1]["usage"] == usage


async def test_the_openai_tokens_are_the_fakes_own_count(
    papi: Api, fake_provider: FakeProviderServer
) -> None:
    """The tokens priced are the ones the provider reported: recounted here from the
    request the fake received, with the fake's documented rule."""
    org = await papi.org()
    suite, _ = await judge_suite(papi, org, fake_provider, "openai")
    result = await papi.run(org, suite["slug"], "fine FAKE_SCORE=0.8")
    body = chats(fake_provider)[-1]["body"]
    prompt = "\n".join(m["content"] for m in body["messages"])
    reported = math.ceil(len(prompt) / 4) + 3 * len(body["messages"]) + 3
    usage = result["scores"][0]["usage"]
    assert usage["input_tokens"] == reported and usage["cached_input_tokens"] == 0
    assert result["cost_usd"] == expected_cost(SHIPPED, "openai", "gpt-4o", usage)


async def test_an_unpriced_model_costs_null_never_a_guess(
    papi: Api, fake_provider: FakeProviderServer
) -> None:
    org = await papi.org()
    suite, _ = await judge_suite(
        papi, org, fake_provider, "openai", cases=2, model="gpt-no-such-price"
    )
    result = await papi.run(org, suite["slug"], "ok FAKE_SCORE=0.9")
    assert [s["cost_usd"] for s in result["scores"]] == [None, None]
    assert all(s["usage"]["calls"] == 1 for s in result["scores"])
    assert result["cost_usd"] is None
    spend = (await papi.ok("GET", "/v1/billing/usage", org))["judge_spend"]
    (row,) = spend["by_model"]
    assert row["model"] == "gpt-no-such-price" and row["calls"] == 2 and row["cost_usd"] is None
    assert spend["month_usd"] == 0.0  # what is known; the row says what is not


async def test_sampling_calls_are_summed_and_a_cached_verdict_costs_nothing(
    papi: Api, fake_provider: FakeProviderServer
) -> None:
    org = await papi.org()
    suite, _ = await judge_suite(
        papi,
        org,
        fake_provider,
        "openai",
        samples=3,
        min_samples=3,
        cache_ttl_s=600,
        threshold=0.5,
    )
    first = await papi.run(org, suite["slug"], "same output FAKE_SCORE=0.9")
    usage = first["scores"][0]["usage"]
    assert usage["calls"] == 3 == len(chats(fake_provider))
    assert first["cost_usd"] == expected_cost(SHIPPED, "openai", "gpt-4o", usage)
    again = await papi.run(org, suite["slug"], "same output FAKE_SCORE=0.9")
    assert again["scores"][0]["judge"].get("cached") is True
    assert again["scores"][0]["usage"]["calls"] == 0
    assert again["scores"][0]["cost_usd"] == 0.0 and again["cost_usd"] == 0.0
    assert len(chats(fake_provider)) == 3


async def test_a_batch_costs_the_sum_of_its_items(
    papi: Api, fake_provider: FakeProviderServer
) -> None:
    org = await papi.org()
    suite, _ = await judge_suite(papi, org, fake_provider, "anthropic")
    items = [{"output": f"answer {n} FAKE_SCORE=0.9"} for n in range(3)]
    batch = (
        await papi.ok("POST", "/v1/batches", org, json={"suite": suite["slug"], "items": items})
    )["data"]
    runs = (await papi.ok("GET", f"/v1/batches/{batch['id']}/items", org))["data"]
    assert len(runs) == 3 and all(run["cost_usd"] > 0 for run in runs)
    assert batch["cost_usd"] == round(sum(run["cost_usd"] for run in runs), 6)
    again = (await papi.ok("GET", f"/v1/batches/{batch['id']}", org))["data"]
    assert again["cost_usd"] == batch["cost_usd"]


async def test_usage_shows_the_months_spend_by_model_and_day(
    papi: Api, fake_provider: FakeProviderServer
) -> None:
    org = await papi.org()
    empty = (await papi.ok("GET", "/v1/billing/usage", org))["judge_spend"]
    assert empty == {
        "month_usd": 0.0,
        "budget_usd": None,
        "budget_used": None,
        "warning": None,
        "by_model": [],
        "by_day": [],
    }
    openai, _ = await judge_suite(papi, org, fake_provider, "openai", cases=2)
    google, _ = await judge_suite(papi, org, fake_provider, "google")
    runs = [
        await papi.run(org, openai["slug"], "a FAKE_SCORE=0.9"),
        await papi.run(org, openai["slug"], "b FAKE_SCORE=0.9"),
        await papi.run(org, google["slug"], "c FAKE_SCORE=0.9"),
    ]
    spend = (await papi.ok("GET", "/v1/billing/usage", org))["judge_spend"]
    by_model = {(m["provider"], m["model"]): m for m in spend["by_model"]}
    assert set(by_model) == {("google", "gemini-2.5-pro"), ("openai", "gpt-4o")}
    cases = [s for run in runs for s in run["scores"]]
    for (provider, _), row in by_model.items():
        mine = [s for s in cases if s["usage"]["provider"] == provider]
        assert row["calls"] == len(mine)
        assert row["input_tokens"] == sum(s["usage"]["input_tokens"] for s in mine)
        assert row["output_tokens"] == sum(s["usage"]["output_tokens"] for s in mine)
        assert row["cost_usd"] == pytest.approx(sum(s["cost_usd"] for s in mine), abs=1e-6)
    total = sum(run["cost_usd"] for run in runs)
    assert spend["month_usd"] == pytest.approx(total, abs=1e-6)
    assert spend["by_day"] == [
        {"date": utcnow().date().isoformat(), "cost_usd": spend["month_usd"], "calls": 5}
    ]


async def test_a_spent_budget_stops_judge_calls(
    papi: Api, fake_provider: FakeProviderServer
) -> None:
    org = await papi.org()
    suite, _ = await judge_suite(papi, org, fake_provider, "openai", extra_cases=True)
    patched = await papi.ok(
        "PATCH", "/v1/organization", org, json={"judge_budget_usd_monthly": 0.01}
    )
    assert patched["data"]["judge_budget_usd_monthly"] == 0.01
    # ~4,500 input tokens of gpt-4o: about $0.011, more than the whole budget in one call.
    long_output = "thanks " + "word " * 3600 + "FAKE_SCORE=0.9"
    first = await papi.run(org, suite["slug"], long_output)
    assert first["status"] == "cleared" and first["cost_usd"] >= 0.01
    sent = len(chats(fake_provider))
    assert sent == 1
    refused = await papi.run(org, suite["slug"], "thanks FAKE_SCORE=0.9")
    judged = next(s for s in refused["scores"] if s["scorer_type"] == "llm_judge")
    assert refused["status"] == "error" and judged["status"] == "error"
    assert judged["error"]["code"] == "JUDGE_BUDGET_EXCEEDED"
    assert judged["reason"] == judged["error"]["message"] and "$0.01" in judged["reason"]
    assert judged["usage"]["calls"] == 0 and judged["cost_usd"] == 0.0
    plain = next(s for s in refused["scores"] if s["scorer_type"] != "llm_judge")
    assert plain["status"] == "passed"  # only judge calls stop
    assert len(chats(fake_provider)) == sent  # the provider saw no further request
    stored = (await papi.ok("GET", f"/v1/runs/{refused['id']}", org))["data"]
    assert stored["scores"][0]["error"]["code"] == "JUDGE_BUDGET_EXCEEDED" or (
        stored["scores"][1]["error"]["code"] == "JUDGE_BUDGET_EXCEEDED"
    )
    spend = (await papi.ok("GET", "/v1/billing/usage", org))["judge_spend"]
    assert spend["budget_usd"] == 0.01 and spend["budget_used"] >= 1
    assert "JUDGE_BUDGET_EXCEEDED" in spend["warning"]
    # A higher budget lets the judge call again.
    await papi.ok("PATCH", "/v1/organization", org, json={"judge_budget_usd_monthly": 5})
    allowed = await papi.run(org, suite["slug"], "thanks FAKE_SCORE=0.9")
    assert allowed["status"] == "cleared" and len(chats(fake_provider)) == sent + 1


async def test_usage_warns_from_80_percent_of_the_budget(
    papi: Api, fake_provider: FakeProviderServer
) -> None:
    org = await papi.org()
    suite, _ = await judge_suite(papi, org, fake_provider, "openai")
    run = await papi.run(org, suite["slug"], "ok FAKE_SCORE=0.9")
    cost = run["cost_usd"]
    await papi.ok("PATCH", "/v1/organization", org, json={"judge_budget_usd_monthly": cost / 0.9})
    spend = (await papi.ok("GET", "/v1/billing/usage", org))["judge_spend"]
    assert spend["budget_used"] == pytest.approx(0.9, abs=1e-3)
    assert spend["warning"] is not None and "90%" in spend["warning"]
    await papi.ok("PATCH", "/v1/organization", org, json={"judge_budget_usd_monthly": cost / 0.7})
    spend = (await papi.ok("GET", "/v1/billing/usage", org))["judge_spend"]
    assert spend["warning"] is None


# --- the operator's price file --------------------------------------------------------

OVERRIDE: dict[str, Any] = {
    "as_of": "2026-11-30",
    "currency": "USD",
    "unit": "per 1M tokens",
    "models": {
        "openai": {"gpt-4o": {"input": 100.0, "output": 300.0}},
        "google": {"gemini-house-model": {"input": 1.0, "output": 2.0, "cached_input": 0.5}},
    },
}


@pytest.fixture(scope="module")
async def priced_app(
    database_url: str,
    tmp_path_factory: pytest.TempPathFactory,
    fake_provider: FakeProviderServer,
) -> AsyncIterator[FastAPI]:
    directory = tmp_path_factory.mktemp("prices")
    path = Path(directory) / "prices.json"
    path.write_text(json.dumps(OVERRIDE))
    settings = provider_settings(database_url, directory, fake_provider, prices_file=path)
    async for running in started(create_app(settings)):
        yield running


@pytest.fixture
async def priced(priced_app: FastAPI) -> AsyncIterator[Api]:
    transport = httpx.ASGITransport(app=priced_app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        yield Api(client, priced_app.state.runtime)


async def test_an_operators_price_file_replaces_its_models_and_keeps_the_rest(
    priced: Api, fake_provider: FakeProviderServer
) -> None:
    org = await priced.org()
    replaced, _ = await judge_suite(priced, org, fake_provider, "openai")
    added, _ = await judge_suite(priced, org, fake_provider, "google", model="gemini-house-model")
    kept, _ = await judge_suite(priced, org, fake_provider, "anthropic")
    merged = {provider: dict(models) for provider, models in SHIPPED.items()}
    for provider, models in OVERRIDE["models"].items():
        merged[provider].update(models)
    for suite, provider, model in (
        (replaced, "openai", "gpt-4o"),
        (added, "google", "gemini-house-model"),
        (kept, "anthropic", "claude-sonnet-4-20250514"),
    ):
        result = await priced.run(org, suite["slug"], "ok FAKE_SCORE=0.9 FAKE_CACHED=10")
        usage = result["scores"][0]["usage"]
        assert result["cost_usd"] == expected_cost(merged, provider, model, usage), provider
    # The file's gpt-4o has no cached price: its cached tokens are billed as input.
    assert expected_cost(merged, "openai", "gpt-4o", usage | {"cached_input_tokens": 0}) > 0


async def test_organization_settings_are_read_and_patched_strictly(api: Api) -> None:
    org = await api.org("pro")
    found = (await api.ok("GET", "/v1/organization", org))["data"]
    assert set(found) == {"id", "name", "slug", "plan", "judge_budget_usd_monthly"}
    assert found["id"] == str(org.id) and found["plan"] == "pro"
    assert found["slug"] == found["name"].lower() and found["judge_budget_usd_monthly"] is None
    for bad in (0, -1, 1_000_000.01, "5", True, [1]):
        response = await api.call(
            "PATCH", "/v1/organization", org, json={"judge_budget_usd_monthly": bad}
        )
        assert_error(response, 400, "VALIDATION_ERROR")
    # What JSON itself cannot say but Python's parser reads: never a budget, never a 500.
    for raw in ("NaN", "Infinity", "-Infinity", "1e309", "9" * 5000):
        response = await api.call(
            "PATCH",
            "/v1/organization",
            org,
            content='{"judge_budget_usd_monthly": ' + raw + "}",
            headers={"Content-Type": "application/json"},
        )
        assert response.status_code in (400, 413), (raw, response.text)
    assert (await api.ok("GET", "/v1/organization", org))["data"][
        "judge_budget_usd_monthly"
    ] is None
    response = await api.call("PATCH", "/v1/organization", org, json={"name": "renamed"})
    assert_error(response, 400, "VALIDATION_ERROR")
    top = await api.ok(
        "PATCH", "/v1/organization", org, json={"judge_budget_usd_monthly": 1_000_000}
    )
    assert top["data"]["judge_budget_usd_monthly"] == 1_000_000
    cleared = await api.ok(
        "PATCH", "/v1/organization", org, json={"judge_budget_usd_monthly": None}
    )
    assert cleared["data"]["judge_budget_usd_monthly"] is None
    events = (await api.ok("GET", "/v1/audit-log", org))["data"]
    changes = [e for e in events if e["action"] == "organization.judge_budget_changed"]
    assert [e["details"]["judge_budget_usd_monthly"] for e in changes] == [
        {"from": 1_000_000.0, "to": None},
        {"from": None, "to": 1_000_000.0},
    ]
    assert all(e["actor_type"] == "api_key" for e in changes)


async def _login(api: Api, org: Org, role: str) -> dict[str, str]:
    email = f"{unique(role)}@example.com"
    async with unit_of_work(api.runtime.sessions) as session:
        await users.create_user(session, org.id, email, "correct horse battery", role)
    login = await api.client.post(
        "/v1/auth/login", json={"email": email, "password": "correct horse battery"}
    )
    assert login.status_code == 200, login.text
    body = login.json()
    token = (body.get("data") or body)["access_token"]
    return {"Authorization": f"Bearer {token}"}


async def test_signed_in_owners_may_change_the_budget_and_members_may_not(api: Api) -> None:
    org = await api.org()
    member = await _login(api, org, "member")
    owner = await _login(api, org, "owner")
    read = await api.client.get("/v1/organization", headers=member)
    assert read.status_code == 200 and read.json()["data"]["id"] == str(org.id)
    refused = await api.client.patch(
        "/v1/organization", headers=member, json={"judge_budget_usd_monthly": 3}
    )
    assert_error(refused, 403, "FORBIDDEN")
    patched = await api.client.patch(
        "/v1/organization", headers=owner, json={"judge_budget_usd_monthly": 3}
    )
    assert patched.status_code == 200, patched.text
    assert patched.json()["data"]["judge_budget_usd_monthly"] == 3
    events = (await api.ok("GET", "/v1/audit-log", org))["data"]
    (event,) = [e for e in events if e["action"] == "organization.judge_budget_changed"]
    assert event["actor_type"] == "user"
