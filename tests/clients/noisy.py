"""Inconclusive runs for the client tests (issue 13): the session's server judges through
the fake provider, and an organisation of its own holds suites of one sampled
``llm_judge`` case (``samples`` 10, temperature 0.7, case threshold 0.7) beside one
``contains`` case, at pass threshold 1.0.

The fake's noisy judge decides the verdicts. ``UNDECIDED_OUTPUT`` draws every judgement
from N(0.7, 0.3): ten of them leave an interval far wider than any distance to 0.7, so
the judge case is inconclusive and, with the other case passed, the run is too (pass rate
50% counted failed, 100% counted passed). ``DECIDED_OUTPUT`` answers 0.9 every time: three
judgements, an interval of zero width, decided. The fake is reseeded before every test,
so the draws — and the figures the tests print — are the same on every run.

Suites (project ``noisy``): ``undecided`` (``on_inconclusive`` left at ``inconclusive``),
``undecided-abort`` (``abort``), ``undecided-clear`` (``clear``) and ``undecided-lenient``
(pass threshold 0.5: cleared however the judge case goes).

The organisation is separate so that the main one keeps no provider key: its ``judged``
suite must still end in ``error``.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from launchgate.testing.fake_provider import FakeProviderServer
from tests.contract.server import LiveServer, start

SEED = 1313
UNDECIDED_OUTPUT = "Sorry about that! Your refund is on its way. FAKE_SCORE_NORMAL=0.7,0.3"
DECIDED_OUTPUT = "Sorry about that! Your refund is on its way. FAKE_SCORE=0.9"
JUDGE_CASE, PLAIN_CASE = "Kind tone", "Offers a refund"
SUITES: dict[str, dict[str, Any]] = {
    "undecided": {},
    "undecided-abort": {"on_inconclusive": "abort"},
    "undecided-clear": {"on_inconclusive": "clear"},
    "undecided-lenient": {"pass_threshold": 0.5},
}


def start_judging(data_dir: Path, fake: FakeProviderServer) -> LiveServer:
    """``launchgate serve`` as ``tests.contract.server.start`` makes it, with the
    providers' base URLs pointed at the fake (private URLs allowed for that)."""
    return start(
        data_dir,
        extra_env={
            "LAUNCHGATE_OPENAI_BASE_URL": fake.openai_base_url,
            "LAUNCHGATE_ANTHROPIC_BASE_URL": fake.anthropic_base_url,
            "LAUNCHGATE_GOOGLE_BASE_URL": fake.google_base_url,
            "LAUNCHGATE_ALLOW_PRIVATE_PROVIDER_URLS": "true",
        },
    )


@dataclass
class Noisy:
    """The judging organisation: its key, and the fake judge, reseeded."""

    url: str
    key: str
    fake: FakeProviderServer

    def api(self) -> httpx.Client:
        return httpx.Client(
            base_url=self.url, timeout=30, headers={"Authorization": f"Bearer {self.key}"}
        )

    def stored_run(self, run_id: str) -> dict[str, Any]:
        with self.api() as client:
            response = client.get(f"/v1/runs/{run_id}")
        response.raise_for_status()
        data: dict[str, Any] = response.json()["data"]
        return data

    def judge_calls(self) -> int:
        """Chat calls the fake answered since the last reset."""
        counters = self.fake.counters()["providers"]["openai"]["endpoints"]
        return int(counters.get("chat", 0))


def seed_noisy_org(url: str, key: str) -> None:
    """The organisation's provider key, scorers and the four suites."""
    with httpx.Client(
        base_url=url, timeout=30, headers={"Authorization": f"Bearer {key}"}
    ) as client:
        _ok(
            client.post(
                "/v1/byok-keys",
                json={"provider": "openai", "name": "fake", "key": "sk-test-noisy-judge"},
            )
        )
        _ok(client.post("/v1/projects", json={"name": "Noisy", "slug": "noisy"}))
        judge = _ok(
            client.post(
                "/v1/projects/noisy/scorers",
                json={
                    "name": "kind",
                    "type": "llm_judge",
                    "config": {
                        "rubric": "Is the answer kind?",
                        "_provider": "openai",
                        "samples": 10,
                        "temperature": 0.7,
                    },
                },
            )
        )
        plain = _ok(
            client.post(
                "/v1/projects/noisy/scorers",
                json={"name": "refund", "type": "contains", "config": {"values": ["refund"]}},
            )
        )
        for slug, settings in SUITES.items():
            suite = _ok(
                client.post(
                    "/v1/projects/noisy/suites",
                    json={"name": slug.replace("-", " ").title(), "slug": slug, **settings},
                )
            )
            for name, scorer, threshold in (
                (JUDGE_CASE, judge, 0.7),
                (PLAIN_CASE, plain, 1.0),
            ):
                _ok(
                    client.post(
                        f"/v1/suites/{suite['id']}/cases",
                        json={"name": name, "scorer_id": scorer["id"], "threshold": threshold},
                    )
                )


def _ok(response: httpx.Response) -> dict[str, Any]:
    assert response.is_success, response.text
    data: dict[str, Any] = response.json()["data"]
    return data
