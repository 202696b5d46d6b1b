"""Dry runs (issue 16): ``dry_run: true`` on ``POST /v1/run`` and ``POST /v1/batches``
estimates judge calls, input tokens and cost with the real prompt builder, and calls no
provider, stores nothing and counts no usage. Against the real app (both backends) and the
fake provider over real HTTP, which must see no request."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import func, select

from launchgate.billing.estimate import estimate_input_tokens
from launchgate.billing.prices import load_prices
from launchgate.db import unit_of_work
from launchgate.kit.time import month_key, utcnow
from launchgate.models import Batch, Run, UsageCounter
from launchgate.providers.schemas import DEFAULT_MAX_TOKENS, ChatRequest
from launchgate.runs import dry_run
from launchgate.scorers.builtin.llm_judge import build_prompt, verdict_cache_key
from launchgate.testing.fake_provider import FakeProviderServer
from tests.byok.conftest import fake_provider, papi, provider_app  # noqa: F401
from tests.factories import Api, Org, assert_error
from tests.judge.test_judge_runs import RUBRIC, judge_suite

OUTPUT = "Thanks for asking! Your refund is on its way. FAKE_SCORE=0.9"


@pytest.fixture(autouse=True)
def clean_fake(fake_provider: FakeProviderServer) -> Iterator[None]:  # noqa: F811
    fake_provider.reset()
    yield
    fake_provider.reset()


def provider_requests(fake: FakeProviderServer) -> int:
    return len(fake.recorded_requests())


async def stored(api: Api, org: Org) -> tuple[int, int, int]:
    """The organisation's runs, batches and this month's counted usage."""
    async with unit_of_work(api.runtime.sessions) as session:
        runs = await session.scalar(select(func.count()).where(Run.org_id == org.id))
        batches = await session.scalar(select(func.count()).where(Batch.org_id == org.id))
        usage = await session.scalar(
            select(UsageCounter.runs).where(
                UsageCounter.org_id == org.id, UsageCounter.period == month_key(utcnow())
            )
        )
    return int(runs or 0), int(batches or 0), int(usage or 0)


def expected_tokens(output: str, run_input: dict[str, Any], model: str, **config: Any) -> int:
    """The heuristic estimate of one judge request, built the way a real run builds it."""
    prompt = build_prompt({"rubric": RUBRIC, "_provider": "openai"}, output, run_input, None)
    request = ChatRequest(
        model=model,
        system=prompt.system,
        user=prompt.user,
        max_tokens=config.get("max_tokens"),
        json_schema=prompt.json_schema,
    )
    return estimate_input_tokens(request)


async def dry(api: Api, org: Org, path: str = "/v1/run", **body: Any) -> dict[str, Any]:
    answer: dict[str, Any] = await api.ok("POST", path, org, json={**body, "dry_run": True})
    return answer


async def test_a_dry_run_estimates_and_does_nothing(
    papi: Api,  # noqa: F811
    fake_provider: FakeProviderServer,  # noqa: F811
) -> None:
    org = await papi.org()
    # Adaptive sampling: min_samples 2 .. samples 5; plus a deterministic case (no estimate).
    suite, _ = await judge_suite(
        papi, org, fake_provider, "openai", cases=2, extra_cases=True,
        samples=5, min_samples=2, temperature=0.7, max_tokens=300,
    )  # fmt: skip
    before = await stored(papi, org)
    answer = await dry(papi, org, suite=suite["slug"], output=OUTPUT, input={"q": "refund?"})
    per_call = expected_tokens(OUTPUT, {"q": "refund?"}, "gpt-4o", max_tokens=300)
    assert answer["dry_run"] is True
    assert answer["suite"] == {"id": suite["id"], "slug": suite["slug"]}
    assert answer["items"] == 1
    assert answer["judge_calls"] == {"min": 4, "max": 10}
    assert answer["input_tokens"] == per_call * 10
    assert answer["output_tokens_max"] == 300 * 10
    assert [c["name"] for c in answer["by_case"]] == ["judged 0", "judged 1"]
    for case in answer["by_case"]:
        assert case["provider"] == "openai" and case["model"] == "gpt-4o"
        assert (case["calls_min"], case["calls_max"]) == (2, 5)
        assert case["input_tokens"] == per_call * 5 and case["input_token_ratio"] == 1.0
    # No provider call, nothing stored, no usage counted.
    assert provider_requests(fake_provider) == 0
    assert await stored(papi, org) == before
    # `async` changes nothing: still only the estimate.
    as_async: dict[str, Any] = {"async": True}  # a keyword Python cannot spell
    again = await dry(papi, org, suite=suite["slug"], output=OUTPUT, input={"q": "refund?"},
                      **as_async)  # fmt: skip
    assert again == answer
    assert provider_requests(fake_provider) == 0 and await stored(papi, org) == before


async def test_a_batch_dry_run_sums_its_items(
    papi: Api,  # noqa: F811
    fake_provider: FakeProviderServer,  # noqa: F811
) -> None:
    org = await papi.org()
    suite, _ = await judge_suite(papi, org, fake_provider, "openai", samples=5, temperature=0.5)
    items = [{"output": OUTPUT, "key": "a"}, {"output": "short", "input": {"x": 1}, "key": "b"}]
    before = await stored(papi, org)
    answer = await dry(papi, org, "/v1/batches", suite=suite["slug"], items=items)
    assert "data" not in answer and answer["dry_run"] is True and answer["items"] == 2
    # samples 5 without min_samples: the default minimum is 3 (docs/sampling.md).
    assert answer["judge_calls"] == {"min": 6, "max": 10}
    tokens = expected_tokens(OUTPUT, {}, "gpt-4o") + expected_tokens("short", {"x": 1}, "gpt-4o")
    assert answer["input_tokens"] == tokens * 5
    assert answer["output_tokens_max"] == DEFAULT_MAX_TOKENS * 10
    assert provider_requests(fake_provider) == 0
    assert await stored(papi, org) == before


async def test_a_dry_run_is_refused_exactly_like_a_real_run(
    papi: Api,  # noqa: F811
    fake_provider: FakeProviderServer,  # noqa: F811
) -> None:
    org = await papi.org()
    suite, _ = await judge_suite(papi, org, fake_provider, "openai")
    slug = suite["slug"]
    bad_bodies: list[tuple[str, dict[str, Any], int, str]] = [
        ("/v1/run", {"suite": slug, "output": "  "}, 400, "VALIDATION_ERROR"),
        ("/v1/run", {"suite": "no-such-suite", "output": "x"}, 404, "NOT_FOUND"),
        ("/v1/run", {"suite": slug, "output": "x", "surprise": 1}, 400, "VALIDATION_ERROR"),
        ("/v1/batches", {"suite": slug, "items": [{"output": "x", "key": "k"}] * 2}, 400,
         "VALIDATION_ERROR"),
        ("/v1/batches", {"suite": slug, "items": [{"output": "x"}],
                         "baseline": "bat_" + "0" * 24}, 404, "NOT_FOUND"),
    ]  # fmt: skip
    for path, body, status, code in bad_bodies:
        real = await papi.call("POST", path, org, json=body)
        estimate = await papi.call("POST", path, org, json={**body, "dry_run": True})
        assert_error(real, status, code)
        assert_error(estimate, status, code)
        assert estimate.json() == real.json(), body
    # The same authentication: no key, no estimate.
    anonymous = await papi.call("POST", "/v1/run", None, json={"suite": slug, "output": "x"})
    assert_error(anonymous, 401, "UNAUTHORIZED")
    # Another organisation's suite is not found, as for a real run.
    other = await papi.org()
    assert_error(
        await papi.call("POST", "/v1/run", other, json={"suite": slug, "output": "x",
                                                         "dry_run": True}),
        404, "NOT_FOUND",
    )  # fmt: skip
    assert provider_requests(fake_provider) == 0


async def test_a_dry_run_is_allowed_at_the_monthly_limit(
    papi: Api,  # noqa: F811
    fake_provider: FakeProviderServer,  # noqa: F811
) -> None:
    org = await papi.org("free")
    suite, _ = await judge_suite(papi, org, fake_provider, "openai")
    async with unit_of_work(papi.runtime.sessions) as session:
        await session.merge(UsageCounter(org_id=org.id, period=month_key(utcnow()), runs=500))
    body = {"suite": suite["slug"], "output": OUTPUT}
    assert_error(await papi.call("POST", "/v1/run", org, json=body), 402, "USAGE_LIMIT_EXCEEDED")
    answer = await dry(papi, org, **body)
    assert answer["judge_calls"] == {"min": 1, "max": 1}
    batch = await dry(papi, org, "/v1/batches", suite=suite["slug"], items=[{"output": "x"}])
    assert batch["items"] == 1
    assert (await stored(papi, org))[2] == 500


async def test_the_cost_range_comes_from_the_price_table(
    papi: Api,  # noqa: F811
    fake_provider: FakeProviderServer,  # noqa: F811
) -> None:
    """The minimum: the fewest calls and no output token; the maximum: every sample and
    every output token allowed, at the shipped price of the judged model."""
    org = await papi.org()
    suite, _ = await judge_suite(
        papi, org, fake_provider, "openai", model="gpt-4o-mini",
        samples=4, min_samples=2, temperature=0.7, max_tokens=200,
    )  # fmt: skip
    answer = await dry(papi, org, suite=suite["slug"], output=OUTPUT)
    per_call = expected_tokens(OUTPUT, {}, "gpt-4o-mini", max_tokens=200)
    table = load_prices(None)
    low = table.cost("openai", "gpt-4o-mini", per_call * 2, 0)
    high = table.cost("openai", "gpt-4o-mini", per_call * 4, 200 * 4)
    assert low is not None and high is not None and 0 < low < high
    assert answer["cost_usd"] == {"min": round(low, 6), "max": round(high, 6)}
    [case] = answer["by_case"]
    assert (case["cost_usd_min"], case["cost_usd_max"]) == (round(low, 6), round(high, 6))
    assert answer["unpriced_models"] == []


async def test_an_unknown_model_has_no_cost(
    papi: Api,  # noqa: F811
    fake_provider: FakeProviderServer,  # noqa: F811
) -> None:
    org = await papi.org()
    suite, _ = await judge_suite(papi, org, fake_provider, "openai", model="in-house-judge-7")
    answer = await dry(papi, org, suite=suite["slug"], output=OUTPUT)
    case = answer["by_case"][0]
    assert case["model"] == "in-house-judge-7"
    assert case["cost_usd_min"] is None and case["cost_usd_max"] is None
    assert answer["cost_usd"] is None
    assert answer["unpriced_models"] == ["openai/in-house-judge-7"]
    assert answer["input_tokens"] == expected_tokens(OUTPUT, {}, "in-house-judge-7")


async def test_a_cached_verdict_counts_no_call_at_the_least(
    papi: Api,  # noqa: F811
    fake_provider: FakeProviderServer,  # noqa: F811
) -> None:
    org = await papi.org()
    suite, _ = await judge_suite(
        papi, org, fake_provider, "openai", samples=4, temperature=0.7, cache_ttl_s=3600
    )
    first = await dry(papi, org, suite=suite["slug"], output=OUTPUT)
    assert first["judge_calls"] == {"min": 3, "max": 4}
    await papi.run(org, suite["slug"], OUTPUT)  # judged for real: the verdict is cached
    fake_provider.reset()
    cached = await dry(papi, org, suite=suite["slug"], output=OUTPUT)
    assert cached["judge_calls"] == {"min": 0, "max": 4}
    other = await dry(papi, org, suite=suite["slug"], output=OUTPUT + " (edited)")
    assert other["judge_calls"] == {"min": 3, "max": 4}
    assert provider_requests(fake_provider) == 0


@pytest.mark.parametrize(
    ("config", "threshold"),
    [
        ({"cache_ttl_s": 60}, 0.5),
        ({"cache_ttl_s": 60, "samples": 5, "min_samples": 2, "confidence": 0.9}, 0.7),
        ({"cache_ttl_s": 60, "temperature": 0.3, "samples": 3}, 0.25),
    ],
)
def test_the_dry_run_cache_key_is_the_judges(config: dict[str, Any], threshold: float) -> None:
    """A dry run builds the key from its own request and the case's threshold: it must land
    on the judge's key (written out here from the config), or cached verdicts would be
    counted wrongly."""
    full = {"rubric": RUBRIC, "_provider": "anthropic", **config}
    prompt = build_prompt(full, "an output", {"q": 1}, "expected")
    request = ChatRequest(
        model="claude-x",
        system=prompt.system,
        user=prompt.user,
        temperature=float(full.get("temperature", 0.0)),
        json_schema=prompt.json_schema,
    )
    case = {"threshold": threshold}
    samples = int(full.get("samples", 1))
    plan = None
    if samples != 1:
        low = int(full.get("min_samples", min(3, samples)))
        plan = (low, samples, float(full.get("confidence", 0.95)), threshold)
    judge = verdict_cache_key("anthropic", "claude-x", prompt, request.temperature, plan)
    assert dry_run._cache_key(full, case, request, prompt) == judge


async def test_the_correction_ratio_comes_from_past_judge_calls(
    papi: Api,  # noqa: F811
    fake_provider: FakeProviderServer,  # noqa: F811
) -> None:
    """The fake provider counts ceil(characters / 4) of the prompt it is sent; our heuristic
    counts UTF-8 bytes, message framing and the schema, so the two differ measurably. After
    real judged runs the estimate is the heuristic times the organisation's actual/estimated
    ratio for the model; another organisation's history does not move it."""
    org = await papi.org()
    suite, _ = await judge_suite(papi, org, fake_provider, "openai")
    before = await dry(papi, org, suite=suite["slug"], output=OUTPUT)
    assert before["by_case"][0]["input_token_ratio"] == 1.0
    actual = estimated = 0
    for text in (OUTPUT, "Non, merci — déjà réglé. FAKE_SCORE=0.8"):
        run = await papi.run(org, suite["slug"], text)
        usage = run["scores"][0]["usage"]
        assert usage["estimated_input_tokens"] == expected_tokens(text, {}, "gpt-4o")
        actual += usage["input_tokens"]
        estimated += usage["estimated_input_tokens"]
    ratio = round(actual / estimated, 4)
    assert ratio != 1.0
    after = await dry(papi, org, suite=suite["slug"], output=OUTPUT)
    assert after["by_case"][0]["input_token_ratio"] == ratio
    assert after["input_tokens"] == round(expected_tokens(OUTPUT, {}, "gpt-4o") * ratio)
    fresh = await papi.org()
    other, _ = await judge_suite(papi, fresh, fake_provider, "openai")
    unmoved = await dry(papi, fresh, suite=other["slug"], output=OUTPUT)
    assert unmoved["by_case"][0]["input_token_ratio"] == 1.0
