"""The SDK's batches against a real server (issue 14): ``batch`` sync and async with
``wait``, typed figures and comparison, a regression against the ``auto`` baseline,
``fail_on_regression``, ``get_batch``, items as dicts or ``BatchItem``, bad input; and
fail-open, as loud for a batch as for a run."""

from __future__ import annotations

import asyncio
import logging

import pytest
from scipy import stats

from launchgate import AsyncLaunchGate, LaunchGate
from launchgate.sdk import (
    BatchCase,
    BatchItem,
    BatchResult,
    NotFoundError,
    UnreachableError,
    ValidationError,
)
from tests.clients.batches import BASE, WORSE, keyed, new_suite, store_main_batch
from tests.clients.live import Gate
from tests.sdk.scripted_server import closed_port


def _wilson(k: int, n: int) -> tuple[float, float]:
    ci = stats.binomtest(k, n).proportion_ci(confidence_level=0.95, method="wilson")
    return (round(ci.low, 4), round(ci.high, 4))


def test_a_batch_waits_for_its_verdict_with_typed_case_figures(gate: Gate) -> None:
    suite = new_suite(gate)
    with LaunchGate(gate.key, gate.url) as client:
        batch = client.batch(suite["slug"], keyed(BASE), min_cleared=0.9)
    assert isinstance(batch, BatchResult) and batch.id and batch.id.startswith("bat_")
    assert (batch.status, batch.passed, batch.pass_rate, batch.min_cleared) == (
        "cleared",
        True,
        0.96,
        0.9,
    )
    assert (batch.items.total, batch.items.done, batch.items.cleared) == (50, 50, 48)
    assert batch.cases is not None
    alpha, beta = batch.cases
    assert isinstance(alpha, BatchCase) and alpha.case == "Says alpha"
    assert (alpha.passed, alpha.items, alpha.pass_rate) == (48, 50, 0.96)
    assert alpha.interval == _wilson(48, 50) and beta.interval == _wilson(48, 50)
    assert batch.comparison is None and batch.regressions == () and batch.trigger == "sdk"


def test_a_regression_against_the_auto_baseline(gate: Gate) -> None:
    suite = new_suite(gate)
    base = store_main_batch(gate, suite["slug"])
    items = [BatchItem(i["output"], {"row": n}, i["key"]) for n, i in enumerate(keyed(WORSE))]
    with LaunchGate(gate.key, gate.url) as client:
        batch = client.batch(
            suite["slug"],
            items,
            baseline="auto",
            trigger_meta={"branch": "feature"},
            min_cleared=0.5,
        )
        stored = client.get_batch(batch.id or "")
    assert (batch.status, batch.baseline, batch.baseline_id) == ("cleared", "auto", base["id"])
    comparison = batch.comparison
    assert comparison is not None and comparison.regressed_cases == 1
    alpha, beta = comparison.cases
    assert (alpha.case, alpha.classification, alpha.test, alpha.pairs) == (
        "Says alpha",
        "regressed",
        "mcnemar",
        50,
    )
    assert alpha.regressed and alpha.difference == -0.36
    assert alpha.baseline is not None and alpha.baseline.pass_rate == 0.96
    assert alpha.current is not None and (alpha.current.passed, alpha.current.items) == (30, 50)
    # 18 discordant pairs, all lost: McNemar's exact test is a binomial test on them.
    assert alpha.p_value == pytest.approx(stats.binomtest(0, 18, 0.5).pvalue)
    assert beta.classification == "unchanged" and batch.regressions == (alpha,)
    assert stored == batch and stored.trigger_meta == {"branch": "feature"}
    assert stored.raw["items"]["total"] == 50


def test_fail_on_regression_aborts_a_batch_that_clears(gate: Gate) -> None:
    suite = new_suite(gate)
    store_main_batch(gate, suite["slug"])
    with LaunchGate(gate.key, gate.url) as client:
        batch = client.batch(
            suite["slug"], keyed(WORSE), baseline="auto", min_cleared=0.5, fail_on_regression=True
        )
    assert (batch.status, batch.passed, batch.pass_rate) == ("aborted", False, 0.6)
    assert batch.verdict_detail is not None and batch.verdict_detail.aborted_by_regression


def test_async_then_wait_from_the_batch_itself(gate: Gate) -> None:
    suite = new_suite(gate)
    with LaunchGate(gate.key, gate.url) as client:
        queued = client.batch(suite["slug"], keyed(BASE), async_=True)
        assert queued.items.total == 50 and queued.id
        done = queued.wait(interval=0.2, timeout=60)
        again = client.wait_for_batch(queued.id, interval=0.2)
    assert done.done and done.status == "aborted"  # the suite's batch_threshold is 1.0
    assert (done.pass_rate, done.min_cleared, again.id) == (0.96, 1.0, queued.id)


def test_the_async_client_batches_and_waits(gate: Gate) -> None:
    suite = new_suite(gate)
    store_main_batch(gate, suite["slug"])

    async def main() -> tuple[BatchResult, BatchResult, BatchResult]:
        async with AsyncLaunchGate(gate.key, gate.url) as client:
            done = await client.batch(suite["slug"], keyed(WORSE), baseline="auto")
            queued = await client.batch(suite["slug"], keyed(WORSE), async_=True)
            waited = await queued.wait_async(interval=0.2)
            fetched = await client.wait_for_batch(queued.id or "", interval=0.2)
        return done, waited, fetched

    done, waited, fetched = asyncio.run(main())
    assert done.status == "aborted" and [c.case for c in done.regressions] == ["Says alpha"]
    assert waited.done and waited.comparison is None and fetched.id == waited.id
    assert waited.items.cleared == 30


def test_bad_items_are_refused(gate: Gate) -> None:
    suite = new_suite(gate)
    with LaunchGate(gate.key, gate.url) as client:
        with pytest.raises(ValidationError, match=r"item 2 \(key 'b'\): output is empty"):
            client.batch(suite["slug"], [{"output": "x", "key": "a"}, {"output": "", "key": "b"}])
        with pytest.raises(ValidationError, match="row-1"):
            client.batch(suite["slug"], [{"output": "x", "key": "row-1"}] * 2)
        with pytest.raises(ValidationError):
            client.batch(suite["slug"], [])
        with pytest.raises(NotFoundError):
            client.batch(suite["slug"], [{"output": "x"}], baseline="bat_" + "0" * 24)
        with pytest.raises(TypeError, match="not \\['text'\\]"):
            client.batch(suite["slug"], [{"text": "x"}])


def test_an_unreachable_api_skips_the_batch_loudly(caplog: pytest.LogCaptureFixture) -> None:
    url = closed_port()
    with (
        caplog.at_level(logging.WARNING, logger="launchgate.sdk"),
        LaunchGate("lg_live_x", url, backoff=0.001, fail_open=True) as client,
    ):
        batch = client.batch("refund-replies", [{"output": "x"}])
    assert (batch.status, batch.passed, batch.id) == ("skipped", True, None)
    assert batch.message and url in batch.message and "connection refused" in batch.message
    assert "batch of suite 'refund-replies' was skipped and counts as passed" in batch.message
    assert [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING] == [
        batch.message
    ]
    with pytest.raises(UnreachableError):
        LaunchGate("lg_live_x", url, backoff=0.001, fail_open=False).batch("s", [{"output": "x"}])
