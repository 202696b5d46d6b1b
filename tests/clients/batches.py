"""Batches for the client tests (issue 14): a fresh suite per test on the session's server,
so an ``auto`` baseline never finds another test's batch, and datasets whose per-case
outcomes are known in advance (as ``tests/batches/test_batches_api.py``'s ``_keyed``).

A suite of ``contains`` cases, one per word (``Says alpha``, ``Says beta``); item ``i`` of
``keyed({"alpha": 48, "beta": 46})`` says each word whose count exceeds ``i``, so the case
``Says alpha`` passes on exactly 48 of 50 items.
"""

from __future__ import annotations

import json
import uuid
from pathlib import Path
from typing import Any

from tests.clients.live import Gate, _ok

WORDS = ("alpha", "beta")
BASE = {"alpha": 48, "beta": 48}
# alpha drops from 48/50 to 30/50 (a regression, p ≈ 7.6e-6), beta to 46/50 (noise).
WORSE = {"alpha": 30, "beta": 46}


def new_suite(gate: Gate, words: tuple[str, ...] = WORDS, **settings: Any) -> dict[str, Any]:
    """A suite of project ``support`` with one ``contains`` case per word; its JSON."""
    slug = f"batch-{uuid.uuid4().hex[:10]}"
    with gate.api() as client:
        suite = _ok(
            client.post(
                "/v1/projects/support/suites",
                json={"name": slug.title(), "slug": slug, **settings},
            )
        )
        for word in words:
            scorer = _ok(
                client.post(
                    "/v1/projects/support/scorers",
                    json={
                        "name": f"{slug}-{word}",
                        "type": "contains",
                        "config": {"values": [word]},
                    },
                )
            )
            _ok(
                client.post(
                    f"/v1/suites/{suite['id']}/cases",
                    json={"name": f"Says {word}", "scorer_id": scorer["id"], "threshold": 1.0},
                )
            )
    return suite


def keyed(passing: dict[str, int], n: int = 50) -> list[dict[str, Any]]:
    """n items keyed row-0…; item i says each word whose count exceeds i."""
    return [
        {"key": f"row-{i}", "output": " ".join(w for w, k in passing.items() if i < k) or "-"}
        for i in range(n)
    ]


def write_jsonl(path: Path, items: list[dict[str, Any]]) -> Path:
    path.write_text("".join(json.dumps(item) + "\n" for item in items), encoding="utf-8")
    return path


def store_main_batch(gate: Gate, slug: str, passing: dict[str, int] = BASE) -> dict[str, Any]:
    """The base branch's batch, as a push to main would store it; its JSON."""
    with gate.api() as client:
        batch = _ok(
            client.post(
                "/v1/batches",
                json={
                    "suite": slug,
                    "items": keyed(passing),
                    "trigger_meta": {"branch": "main"},
                    "min_cleared": 0.0,
                },
                timeout=120,
            )
        )
    assert batch["status"] == "cleared", batch
    return batch
