"""The noisy judge: ``FAKE_SCORE_NORMAL=mean,sd`` draws every score from a clipped normal.

Over real HTTP in each provider's wire format. The fake's random source is seeded, so every
statistic below is computed from the same draws on every run.
"""

from __future__ import annotations

import json
import statistics
from collections.abc import Awaitable, Callable

import httpx
import pytest

from launchgate.testing.fake_provider import FakeProviderProcess, FakeProviderServer
from tests.testing.conftest import (
    ANTHROPIC_HEADERS,
    AZURE_KEY,
    AZURE_QUERY,
    GOOGLE_KEY,
    OPENAI_KEY,
    anthropic_message,
    gemini_request,
    openai_chat,
)

Judge = Callable[[httpx.AsyncClient, str], Awaitable[float]]
CALLS = 400


async def openai_score(client: httpx.AsyncClient, content: str) -> float:
    response = await client.post(
        "/v1/chat/completions",
        headers={"Authorization": f"Bearer {OPENAI_KEY}"},
        json=openai_chat(content),
    )
    assert response.status_code == 200
    return float(json.loads(response.json()["choices"][0]["message"]["content"])["score"])


async def azure_score(client: httpx.AsyncClient, content: str) -> float:
    body = openai_chat(content)
    del body["model"]
    response = await client.post(
        "/openai/deployments/judge-4o/chat/completions",
        headers={"api-key": AZURE_KEY},
        params=AZURE_QUERY,
        json=body,
    )
    assert response.status_code == 200
    return float(json.loads(response.json()["choices"][0]["message"]["content"])["score"])


async def anthropic_score(client: httpx.AsyncClient, content: str) -> float:
    response = await client.post(
        "/v1/messages", headers=ANTHROPIC_HEADERS, json=anthropic_message(content)
    )
    assert response.status_code == 200
    [block] = response.json()["content"]
    assert block["type"] == "tool_use"
    return float(block["input"]["score"])


async def google_score(client: httpx.AsyncClient, content: str) -> float:
    response = await client.post(
        "/v1beta/models/gemini-2.5-pro:generateContent",
        headers={"x-goog-api-key": GOOGLE_KEY},
        json=gemini_request(content),
    )
    assert response.status_code == 200
    part = response.json()["candidates"][0]["content"]["parts"][0]
    return float(json.loads(part["text"])["score"])


JUDGES: dict[str, Judge] = {
    "openai": openai_score,
    "azure_openai": azure_score,
    "anthropic": anthropic_score,
    "google": google_score,
}
WIRES = pytest.mark.parametrize("judge", list(JUDGES.values()), ids=list(JUDGES))


async def scores(client: httpx.AsyncClient, judge: Judge, content: str, n: int) -> list[float]:
    return [await judge(client, content) for _ in range(n)]


@WIRES
async def test_sample_mean_and_sd_match_the_marker(
    fake: FakeProviderServer, client: httpx.AsyncClient, judge: Judge
) -> None:
    fake.configure(seed=1301)
    drawn = await scores(client, judge, "The output. FAKE_SCORE_NORMAL=0.6,0.1", CALLS)
    assert all(0.0 <= s <= 1.0 for s in drawn)
    # Four standard errors: 0.1 / sqrt(400) = 0.005 for the mean, ~0.0035 for the sd.
    assert statistics.fmean(drawn) == pytest.approx(0.6, abs=0.02)
    assert statistics.stdev(drawn) == pytest.approx(0.1, abs=0.015)
    assert len(set(drawn)) == CALLS  # every call is a fresh draw


@WIRES
@pytest.mark.parametrize(("mean", "bound"), [(0.02, 0.0), (0.98, 1.0)])
async def test_scores_are_clipped_at_the_bounds(
    fake: FakeProviderServer, client: httpx.AsyncClient, judge: Judge, mean: float, bound: float
) -> None:
    fake.configure(seed=1302)
    drawn = await scores(client, judge, f"FAKE_SCORE_NORMAL = {mean}, 0.1", CALLS)
    assert all(0.0 <= s <= 1.0 for s in drawn)
    at_bound = sum(s == bound for s in drawn) / CALLS
    # P(X beyond the bound) for X ~ N(mean, 0.1): 0.42 for both settings.
    normal = statistics.NormalDist(mean, 0.1)
    expected = normal.cdf(0.0) if bound == 0.0 else 1 - normal.cdf(1.0)
    assert expected == pytest.approx(0.42, abs=0.01)
    assert at_bound == pytest.approx(expected, abs=0.08)
    inside = [s for s in drawn if s != bound]
    assert inside and all(0.0 < s < 1.0 for s in inside)


async def test_same_seed_same_sequence_and_reset_restarts_it(
    fake: FakeProviderServer, client: httpx.AsyncClient
) -> None:
    marker = "FAKE_SCORE_NORMAL=0.5,0.2"
    fake.configure(seed=7)
    first = await scores(client, openai_score, marker, 20)
    fake.configure(seed=7)
    assert await scores(client, openai_score, marker, 20) == first
    fake.reset(config=False)  # keeps seed 7 and restarts its sequence
    assert fake.admin("GET", "config")["seed"] == 7
    assert await scores(client, openai_score, marker, 20) == first
    # The sequence is shared by the providers, in call order.
    fake.configure(seed=7)
    mixed = [await JUDGES[name](client, marker) for name in ("google", "anthropic") * 10]
    assert mixed == first
    fake.configure(seed=8)
    other = await scores(client, openai_score, marker, 20)
    assert other != first
    assert len(set(first)) == 20


async def test_only_the_winning_noisy_marker_draws(
    fake: FakeProviderServer, client: httpx.AsyncClient
) -> None:
    noisy = "FAKE_SCORE_NORMAL=0.5,0.2"
    fake.configure(seed=21)
    plain = await scores(client, openai_score, noisy, 6)
    fake.configure(seed=21)
    seen = []
    for _ in range(6):
        seen.append(await openai_score(client, noisy))
        # An exact marker after the noisy one wins and consumes no draw.
        assert await openai_score(client, f"{noisy} then FAKE_SCORE=0.9") == 0.9
        assert await openai_score(client, "no marker at all") == 1.0
    assert seen == plain
    fake.configure(seed=21)
    assert await openai_score(client, f"FAKE_SCORE=0.9 then {noisy}") == plain[0]


async def test_malformed_noisy_markers_are_ignored_like_other_malformed_markers(
    client: httpx.AsyncClient,
) -> None:
    # Today a marker whose value does not parse is ignored: the default score, or an
    # earlier well-formed marker. The noisy marker's bad values behave the same way.
    assert await openai_score(client, "FAKE_SCORE=high") == 1.0
    assert await openai_score(client, "FAKE_SCORE=0.3 FAKE_SCORE=high") == 0.3
    for bad in ("0.7,-0.1", "high,0.1", "0.7,wide", "0.7", "0.7;0.1", ",0.1"):
        assert await openai_score(client, f"FAKE_SCORE_NORMAL={bad}") == 1.0, bad
        assert await openai_score(client, f"FAKE_SCORE=0.3 FAKE_SCORE_NORMAL={bad}") == 0.3, bad
    # A zero deviation is well formed: always the mean, clipped.
    assert await openai_score(client, "FAKE_SCORE_NORMAL=0.42,0") == 0.42
    assert await openai_score(client, "FAKE_SCORE_NORMAL=1.4,0.0") == 1.0
    assert await openai_score(client, "FAKE_SCORE_NORMAL=-0.5,0") == 0.0


async def test_existing_markers_and_policies_are_unchanged(
    fake: FakeProviderServer, client: httpx.AsyncClient
) -> None:
    assert await openai_score(client, "FAKE_SCORE=1.5") == 1.5  # never clipped
    assert await openai_score(client, "FAKE_SCORE=0.2 FAKE_SCORE = 0.65") == 0.65
    garbage = await client.post(
        "/v1/chat/completions",
        headers={"Authorization": f"Bearer {OPENAI_KEY}"},
        json=openai_chat("FAKE_SCORE_NORMAL=0.5,0.1 FAKE_SCORE=garbage"),
    )
    with pytest.raises(ValueError):
        json.loads(garbage.json()["choices"][0]["message"]["content"])
    fake.configure(policy={"kind": "fixed", "score": 0.4})
    assert await openai_score(client, "FAKE_SCORE_NORMAL=0.1,0.1") == 0.4
    fake.configure(policy={"kind": "from_prompt", "marker": "GRADE", "score": 0.5})
    assert await openai_score(client, "FAKE_SCORE_NORMAL=0.1,0") == 0.5
    assert await openai_score(client, "GRADE_NORMAL=0.1,0") == 0.1


async def test_seed_configuration_is_checked(
    fake: FakeProviderServer, client: httpx.AsyncClient
) -> None:
    for bad in ("7", 1.5, True, [7]):
        response = await client.post("/_admin/configure", json={"seed": bad})
        assert response.status_code == 400, bad
        assert "seed" in response.json()["error"]
    assert fake.configure(seed=3)["seed"] == 3
    assert fake.configure(seed=None)["seed"] is None
    fake.configure(seed=3)
    fake.reset()  # a configuration reset restores the start-up seed (none here)
    assert fake.admin("GET", "config")["seed"] is None


async def test_constructor_and_command_line_seed() -> None:
    marker = "FAKE_SCORE_NORMAL=0.5,0.2"

    async def five(base_url: str) -> list[float]:
        async with httpx.AsyncClient(base_url=base_url, timeout=10) as http:
            return await scores(http, openai_score, marker, 5)

    with FakeProviderServer(seed=99) as server:
        in_thread = await five(server.base_url)
        server.configure(seed=1)
        server.reset()  # back to the constructor's seed
        assert server.admin("GET", "config")["seed"] == 99
        assert await five(server.base_url) == in_thread
    with FakeProviderProcess(extra_args=["--seed", "99"]) as process:
        assert await five(process.base_url) == in_thread
