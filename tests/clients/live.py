"""A real ``launchgate serve`` for the client tests (started by ``tests.contract.server``)
with suites whose verdicts are known in advance.

Project ``support``:
- ``refund-replies`` (2 cases): CLEARED_OUTPUT clears it, ABORTED_OUTPUT aborts it (1/2).
- ``support-answers`` (5 cases): FIXED_OUTPUT passes 2 of 5 — SPEC §11's ``40% (2/5)``.
- ``judged``: an ``llm_judge`` case and no provider key, so every run ends in ``error``.
- ``tone-check``, a slug that project ``other`` has too: ``project`` must pick one.
"""

from __future__ import annotations

import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from tests.contract.server import BIN, LiveServer, server_env

CLEARED_OUTPUT = "Sorry about that! Your refund is on its way."
ABORTED_OUTPUT = "For a refund, write to billing@example.com."
FIXED_OUTPUT = "Sorry! For a refund, write to billing@example.com."
EMAIL = r"[a-z0-9._%+-]+@[a-z0-9.-]+\.[a-z]{2,}"
SCORERS: dict[str, tuple[str, dict[str, Any]]] = {
    "refund": ("contains", {"values": ["refund"], "case_sensitive": False}),
    "sorry": ("contains", {"values": ["sorry"], "case_sensitive": False}),
    "order": ("regex", {"pattern": r"order #\d+", "flags": "i"}),
    "timeline": ("regex", {"pattern": r"\d+ (business )?days"}),
    "no_email": ("regex", {"pattern": EMAIL, "flags": "i", "should_match": False}),
    "judge": ("llm_judge", {"rubric": "Is the answer kind?", "_provider": "openai"}),
}
CASE_NAMES = {
    "refund": "Offers a refund",
    "sorry": "Apologises",
    "order": "Names the order",
    "timeline": "Gives a timeline",
    "no_email": "Keeps addresses private",
    "judge": "Kind tone",
}
SUITES = {
    "refund-replies": ["refund", "no_email"],
    "support-answers": ["refund", "sorry", "order", "timeline", "no_email"],
    "judged": ["judge", "refund"],
    "tone-check": ["refund"],
}


@dataclass
class Gate:
    """The server, its API key, and a way to read what it stored."""

    server: LiveServer
    data_dir: Path

    @property
    def url(self) -> str:
        return self.server.url

    @property
    def key(self) -> str:
        return self.server.api_key

    def api(self, key: str | None = None) -> httpx.Client:
        return httpx.Client(
            base_url=self.url, timeout=30, headers={"Authorization": f"Bearer {key or self.key}"}
        )

    def stored_run(self, run_id: str) -> dict[str, Any]:
        with self.api() as client:
            response = client.get(f"/v1/runs/{run_id}")
        response.raise_for_status()
        data: dict[str, Any] = response.json()["data"]
        return data

    def new_org(self, name: str, plan: str) -> str:
        """Another organisation on this server; its API key."""
        done = subprocess.run(
            [str(BIN), "orgs", "create", name, "--plan", plan, "--json"],
            env=server_env(self.data_dir),
            capture_output=True,
            text=True,
            timeout=120,
            check=True,
        )
        import json

        key: str = json.loads(done.stdout)["api_key"]
        return key


def seed_suites(gate: Gate) -> None:
    with gate.api() as client:
        for project in ("support", "other"):
            _ok(client.post("/v1/projects", json={"name": project.title(), "slug": project}))
        ids = {
            name: _ok(
                client.post(
                    "/v1/projects/support/scorers",
                    json={"name": name, "type": kind, "config": config},
                )
            )["id"]
            for name, (kind, config) in SCORERS.items()
        }
        for slug, scorers in SUITES.items():
            suite = _ok(
                client.post(
                    "/v1/projects/support/suites",
                    json={"name": slug.replace("-", " ").title(), "slug": slug},
                )
            )
            for scorer in scorers:
                _ok(
                    client.post(
                        f"/v1/suites/{suite['id']}/cases",
                        json={
                            "name": CASE_NAMES[scorer],
                            "scorer_id": ids[scorer],
                            "threshold": 1.0,
                        },
                    )
                )
        other = _ok(
            client.post(
                "/v1/projects/other/scorers",
                json={"name": "sorry", "type": "contains", "config": SCORERS["sorry"][1]},
            )
        )
        suite = _ok(
            client.post(
                "/v1/projects/other/suites", json={"name": "Tone check", "slug": "tone-check"}
            )
        )
        _ok(
            client.post(
                f"/v1/suites/{suite['id']}/cases",
                json={"name": "Apologises", "scorer_id": other["id"], "threshold": 1.0},
            )
        )


def paid_out_org(gate: Gate) -> str:
    """A free-plan organisation that has used its 500 runs this month; its key. Made
    through the API like any customer (500 runs take about a second)."""
    key = gate.new_org("Broke", "free")
    with gate.api(key) as client:
        _ok(client.post("/v1/projects", json={"name": "Broke", "slug": "broke"}))
        scorer = _ok(
            client.post(
                "/v1/projects/broke/scorers",
                json={"name": "refund", "type": "contains", "config": SCORERS["refund"][1]},
            )
        )
        suite = _ok(
            client.post(
                "/v1/projects/broke/suites",
                json={"name": "Refund replies", "slug": "refund-replies"},
            )
        )
        _ok(
            client.post(
                f"/v1/suites/{suite['id']}/cases",
                json={"name": "Offers a refund", "scorer_id": scorer["id"]},
            )
        )
        for _ in range(500):
            client.post(
                "/v1/run", json={"suite": "refund-replies", "output": "refund"}
            ).raise_for_status()
        assert client.get("/v1/billing/usage").json()["current_usage"] == 500
    return key


def _ok(response: httpx.Response) -> dict[str, Any]:
    assert response.is_success, response.text
    data: dict[str, Any] = response.json()["data"]
    return data
