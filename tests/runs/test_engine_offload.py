"""Scoring that would hold the event loop goes to a thread (runs/engine.py,
``INLINE_WORK``): a long output times many cases."""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from launchgate.runs import engine
from launchgate.runs.engine import EngineOptions, execute
from launchgate.scorers.builtin import validate_config
from tests.threads import MAIN, calls_by_thread

OPTIONS = EngineOptions(regex_timeout_s=0.2)


def _contains(name: str) -> dict[str, Any]:
    return {
        "id": str(uuid.uuid4()),
        "name": name,
        "input": {},
        "expected": None,
        "threshold": 0.5,
        "weight": 1.0,
        "position": 0,
        "scorer": {
            "id": str(uuid.uuid4()),
            "name": f"{name} scorer",
            "type": "contains",
            "config": validate_config("contains", {"values": ["needle"]}),
            "dual_sided": False,
            "precision_threshold": None,
            "recall_threshold": None,
        },
    }


def _snapshot(cases: list[dict[str, Any]]) -> dict[str, Any]:
    suite = {"id": str(uuid.uuid4()), "name": "s", "slug": "s", "pass_threshold": 1.0}
    return {"suite": suite, "cases": cases}


async def test_a_long_output_times_many_cases_is_scored_off_the_event_loop(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    threads = calls_by_thread(monkeypatch, engine, "_score_now")
    cases = [_contains(f"c{i}") for i in range(4)]
    scores, _ = await execute(_snapshot(cases), "a needle " * 10, {}, OPTIONS)
    assert threads == [MAIN] * 4  # a few µs of work: inline
    threads.clear()
    long = "hay " * (engine.INLINE_WORK // 16) + "needle"
    assert len(long) * len(cases) > engine.INLINE_WORK
    scores, result = await execute(_snapshot(cases), long, {}, OPTIONS)
    assert len(threads) == 4 and MAIN not in threads
    assert [s["status"] for s in scores] == ["passed"] * 4 and result.status == "cleared"
