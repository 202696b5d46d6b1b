"""Fail-open for batches (issue 14), against the scripted server: an outage after the batch
was accepted is a skip that keeps the batch's id and says so, loudly; the batch is sent
once (always asynchronously), polled soon at first, and ``wait`` gives up with the last
batch seen."""

from __future__ import annotations

import json
import logging
from typing import Any

import pytest

from launchgate.sdk import LaunchGate, UnreachableError, WaitTimeout
from tests.sdk.scripted_server import error_answer, scripted_server

BATCH_ID = "bat_0000000000000000000000ab"
DOWN = error_answer(503, "UNAVAILABLE", "down for maintenance")


def _batch(status: str = "running", done: int = 0) -> Any:
    body = {
        "id": BATCH_ID,
        "suite_id": "5b1c0e4e-0000-4000-8000-000000000001",
        "project_id": "5b1c0e4e-0000-4000-8000-000000000002",
        "status": status,
        "passed": status == "cleared",
        "pass_rate": None if status == "running" else 1.0,
        "min_cleared": 1.0,
        "fail_on_regression": False,
        "items": {"total": 2, "done": done, "cleared": done, "aborted": 0},
        "cases": None,
        "baseline": None,
        "baseline_id": None,
        "comparison": None,
        "verdict_detail": None,
        "trigger": "sdk",
        "trigger_meta": {},
    }
    return (202 if status == "running" else 200, {}, {"data": body})


@pytest.fixture(autouse=True)
def _no_fail_open_setting(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("LAUNCHGATE_FAIL_OPEN", raising=False)


def test_an_outage_while_polling_skips_the_batch_and_keeps_its_id(
    caplog: pytest.LogCaptureFixture,
) -> None:
    with (
        scripted_server(_batch(), DOWN) as (url, script),
        caplog.at_level(logging.WARNING, logger="launchgate.sdk"),
        LaunchGate("lg_live_x", url, backoff=0.001) as gate,
    ):
        batch = gate.batch("refund-replies", [{"output": "a"}, {"output": "b", "key": "k"}])
    assert (batch.status, batch.passed, batch.id) == ("skipped", True, BATCH_ID)
    assert batch.message and f"The batch {BATCH_ID} of suite 'refund-replies' was skipped" in (
        batch.message
    )
    assert "HTTP 503" in batch.message and url in batch.message
    warnings = [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING]
    assert warnings == [batch.message]
    [post] = [r for r in script.requests if r[0] == "POST"]  # sent once
    sent = json.loads(post[3])
    assert sent["async"] is True and sent["items"] == [
        {"output": "a"},
        {"output": "b", "key": "k"},
    ]
    assert [r[1] for r in script.requests[1:]] == [f"/v1/batches/{BATCH_ID}"] * 4


def test_with_fail_open_off_the_outage_raises() -> None:
    with (
        scripted_server(_batch(), DOWN) as (url, _),
        LaunchGate("lg_live_x", url, backoff=0.001, fail_open=False) as gate,
        pytest.raises(UnreachableError),
    ):
        gate.batch("refund-replies", [{"output": "a"}])


def test_polling_follows_progress_until_final() -> None:
    seen: list[int] = []
    with (
        scripted_server(_batch(), _batch(done=1), _batch("cleared", 2)) as (url, script),
        LaunchGate("lg_live_x", url, backoff=0.001) as gate,
    ):
        batch = gate.batch(
            "s", [{"output": "a"}, {"output": "b"}], on_progress=lambda b: seen.append(b.items.done)
        )
    assert (batch.status, batch.items.done, seen) == ("cleared", 2, [1, 2])
    assert len(script.requests) == 3


def test_wait_gives_up_with_the_last_batch_seen() -> None:
    with (
        scripted_server(_batch()) as (url, _),
        LaunchGate("lg_live_x", url, backoff=0.001) as gate,
        pytest.raises(WaitTimeout, match=r"still running after 0.3 s \(0/2 items done\)") as info,
    ):
        gate.wait_for_batch(BATCH_ID, interval=0.1, timeout=0.3)
    assert info.value.run.id == BATCH_ID
