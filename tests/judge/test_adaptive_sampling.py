"""Adaptive judge sampling end to end (issue 13): the number of judge calls, the
``inconclusive`` case and run statuses, ``on_inconclusive`` and the cache, against the
fake provider over real HTTP with its seeded noisy judge."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from launchgate.testing.fake_provider import FakeProviderServer, key_fingerprint
from tests.factories import Api, Org
from tests.judge.test_judge_runs import judge_suite

# samples 10 with the defaults: min_samples 3, confidence 0.95.
ADAPTIVE: dict[str, Any] = {"samples": 10, "temperature": 0.7}


@pytest.fixture(autouse=True)
def clean_fake(fake_provider: FakeProviderServer) -> Iterator[None]:
    fake_provider.reset()
    fake_provider.configure(seed=1313)
    yield
    fake_provider.reset()


def chats(fake: FakeProviderServer, provider: str = "openai") -> int:
    return int(fake.counters()["providers"][provider]["endpoints"].get("chat", 0))


async def test_a_case_far_from_the_threshold_stops_after_min_samples(
    papi: Api, fake_provider: FakeProviderServer
) -> None:
    org = await papi.org()
    suite, _ = await judge_suite(papi, org, fake_provider, "openai", threshold=0.5, **ADAPTIVE)
    result = await papi.run(org, suite["slug"], "FAKE_SCORE_NORMAL=0.95,0.02")
    case = result["scores"][0]
    assert case["status"] == "passed" and result["status"] == "cleared"
    sampling = case["sampling"]
    assert len(sampling["samples"]) == 3 and sampling["stopped"] == "decided"
    assert sampling["confidence"] == 0.95
    lo, hi = sampling["interval"]
    assert 0.5 <= lo <= sampling["mean"] <= hi <= 1.0
    assert case["score"] == sampling["mean"] == round(sum(sampling["samples"]) / 3, 4)
    assert chats(fake_provider) == 3 and case["judge"]["attempts"] == 3


async def test_a_case_near_the_threshold_uses_every_sample_and_is_inconclusive(
    papi: Api, fake_provider: FakeProviderServer
) -> None:
    org = await papi.org()
    suite, _ = await judge_suite(papi, org, fake_provider, "openai", threshold=0.7, **ADAPTIVE)
    result = await papi.run(org, suite["slug"], "FAKE_SCORE_NORMAL=0.7,0.3")
    case = result["scores"][0]
    assert case["status"] == "inconclusive" and case["passed"] is False
    assert len(case["sampling"]["samples"]) == 10 and case["sampling"]["stopped"] == "max_samples"
    lo, hi = case["sampling"]["interval"]
    assert lo < 0.7 <= hi
    assert chats(fake_provider) == 10
    assert result["status"] == "inconclusive" and result["passed"] is False
    assert result["inconclusive_cases"] == 1
    assert result["passed_cases"] == 0 and result["failed_cases"] == 0
    assert result["failures"] == [case]
    # pass_threshold 1.0: with the case passed the run clears, with it failed it aborts.
    assert result["verdict_detail"] == {
        "status": "inconclusive",
        "on_inconclusive": "inconclusive",
        "pass_rate_low": 0.0,
        "pass_rate_high": 1.0,
        "inconclusive_cases": 1,
    }
    stored = await papi.ok("GET", f"/v1/runs/{result['id']}", org)
    assert stored["data"]["status"] == "inconclusive"
    assert stored["data"]["scores"][0]["sampling"] == case["sampling"]


async def test_samples_one_keeps_the_single_judgement(
    papi: Api, fake_provider: FakeProviderServer
) -> None:
    org = await papi.org()
    suite, _ = await judge_suite(papi, org, fake_provider, "openai", threshold=0.7)
    result = await papi.run(org, suite["slug"], "FAKE_SCORE=0.7")
    case = result["scores"][0]
    assert case["status"] == "passed" and chats(fake_provider) == 1
    assert case["sampling"] == {
        "samples": [0.7],
        "mean": 0.7,
        "interval": [0.0, 1.0],
        "confidence": 0.95,
        "stopped": "max_samples",
    }
    assert result["inconclusive_cases"] == 0 and result["verdict_detail"] is None


async def test_the_fake_sees_exactly_the_calls_recorded_and_never_more_than_twenty(
    papi: Api, fake_provider: FakeProviderServer
) -> None:
    # Every call waits long enough that the first look's 3 × 30 calls queue at the limiter.
    fake_provider.configure(latency_ms=500)
    org = await papi.org()
    suite, key = await judge_suite(
        papi, org, fake_provider, "openai", cases=30, threshold=0.7, samples=5, temperature=0.7
    )
    result = await papi.run(org, suite["slug"], "FAKE_SCORE_NORMAL=0.72,0.15")
    assert result["total_cases"] == 30
    recorded = sum(len(case["sampling"]["samples"]) for case in result["scores"])
    assert all(3 <= len(case["sampling"]["samples"]) <= 5 for case in result["scores"])
    assert chats(fake_provider) == recorded
    assert fake_provider.counters()["keys"][key_fingerprint(key)]["max_concurrent"] == 20


async def _inconclusive_suite(
    papi: Api, org: Org, fake: FakeProviderServer, **suite_patch: Any
) -> dict[str, Any]:
    suite, _ = await judge_suite(papi, org, fake, "openai", threshold=0.7, **ADAPTIVE)
    if suite_patch:
        project = (await papi.ok("GET", "/v1/projects", org))["data"][0]["slug"]
        await papi.ok(
            "PATCH", f"/v1/projects/{project}/suites/{suite['slug']}", org, json=suite_patch
        )
    return suite


@pytest.mark.parametrize(("setting", "status"), [("abort", "aborted"), ("clear", "cleared")])
async def test_on_inconclusive_maps_the_status_and_keeps_the_raw_outcome(
    papi: Api, fake_provider: FakeProviderServer, setting: str, status: str
) -> None:
    org = await papi.org()
    suite = await _inconclusive_suite(papi, org, fake_provider, on_inconclusive=setting)
    result = await papi.run(org, suite["slug"], "FAKE_SCORE_NORMAL=0.7,0.3")
    assert result["scores"][0]["status"] == "inconclusive"
    assert result["status"] == status and result["passed"] is (status == "cleared")
    assert result["verdict_detail"]["status"] == "inconclusive"
    assert result["verdict_detail"]["on_inconclusive"] == setting


async def test_inconclusive_runs_are_listed_by_status_and_count_as_usage(
    papi: Api, fake_provider: FakeProviderServer
) -> None:
    org = await papi.org()
    suite = await _inconclusive_suite(papi, org, fake_provider)
    before = (await papi.ok("GET", "/v1/billing/usage", org))["current_usage"]
    run = await papi.run(org, suite["slug"], "FAKE_SCORE_NORMAL=0.7,0.3")
    decided = await papi.run(org, suite["slug"], "FAKE_SCORE=0.9")
    assert (run["status"], decided["status"]) == ("inconclusive", "cleared")
    listed = await papi.ok("GET", f"/v1/suites/{suite['id']}/runs?status=inconclusive", org)
    assert [r["id"] for r in listed["data"]] == [run["id"]]
    assert listed["data"][0]["inconclusive_cases"] == 1
    assert (await papi.ok("GET", "/v1/billing/usage", org))["current_usage"] == before + 2


async def test_a_cached_sampled_verdict_decides_again_without_a_call(
    papi: Api, fake_provider: FakeProviderServer
) -> None:
    org = await papi.org()
    suite, _ = await judge_suite(
        papi, org, fake_provider, "openai", threshold=0.7, cache_ttl_s=3600, **ADAPTIVE
    )
    first = await papi.run(org, suite["slug"], "FAKE_SCORE_NORMAL=0.7,0.3")
    spent = chats(fake_provider)
    assert spent == 10
    again = await papi.run(org, suite["slug"], "FAKE_SCORE_NORMAL=0.7,0.3")
    assert chats(fake_provider) == spent and again["scores"][0]["judge"]["cached"] is True
    assert again["scores"][0]["sampling"] == first["scores"][0]["sampling"]
    assert again["status"] == first["status"] == "inconclusive"
    assert "sample_scores" not in again["scores"][0]["judge"]


async def test_an_error_in_one_judgement_ends_the_case_in_error(
    papi: Api, fake_provider: FakeProviderServer
) -> None:
    org = await papi.org()
    suite, _ = await judge_suite(papi, org, fake_provider, "openai", **ADAPTIVE)
    result = await papi.run(org, suite["slug"], "FAKE_SCORE=garbage")
    assert result["status"] == "error" and result["scores"][0]["status"] == "error"
    assert result["scores"][0].get("sampling") is None


@pytest.mark.parametrize(
    ("config", "warned"),
    [
        ({"samples": 5}, True),
        ({"samples": 5, "temperature": 0.7}, False),
        ({"samples": 1}, False),
    ],
)
async def test_scorers_warn_when_sampling_at_temperature_zero(
    papi: Api, config: dict[str, Any], warned: bool
) -> None:
    org = await papi.org()
    project = await papi.project(org)
    body = {"rubric": "r", "_provider": "openai", **config}
    scorer = await papi.scorer(org, project["slug"], type="llm_judge", config=body)
    assert bool(scorer["warnings"]) is warned
    if warned:
        assert scorer["warnings"][0].startswith("samples > 1 with temperature 0")
    shown = await papi.ok("GET", f"/v1/scorers/{scorer['id']}", org)
    assert shown["data"]["warnings"] == scorer["warnings"]


@pytest.mark.parametrize(
    ("config", "path", "words"),
    [
        ({"samples": 21}, "config.samples", "between 1 and 20"),
        ({"samples": 5, "min_samples": 6}, "config.min_samples", "between 1 and 5"),
        ({"samples": 5, "min_samples": 0}, "config.min_samples", "between 1 and 5"),
        ({"samples": 5, "confidence": 0.3}, "config.confidence", "0.5"),
        ({"samples": 5, "confidence": 1}, "config.confidence", "0.999"),
    ],
)
async def test_sampling_settings_out_of_range_are_refused(
    papi: Api, config: dict[str, Any], path: str, words: str
) -> None:
    org = await papi.org()
    project = await papi.project(org)
    body = {"name": "judge", "type": "llm_judge", "config": {"rubric": "r", "_provider": "openai"}}
    body["config"].update(config)  # type: ignore[attr-defined]
    refused = await papi.ok("POST", f"/v1/projects/{project['slug']}/scorers", org, 400, json=body)
    assert words in refused["error"]["message"]
    assert path in str(refused["error"].get("details"))
