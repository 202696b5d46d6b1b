"""Batches, request side (issue 14; docs/batches.md): many outputs gated against one suite
in one call. Each item is a run with ``batch_id``; runs are scored by the same engine and
judge limiter as single runs. A batch completes when its last item is final: whoever reads
it then (the waiting request, a poll, a list, a later batch looking for its baseline) adds
its items up and stores the verdict, once — so no worker needs to know about batches and
a batch whose items a dead worker left is completed by the sweep like any run.

Like runs/service.py, never imports the worker side: it sends jobs by name.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from dataclasses import dataclass, field
from datetime import timedelta
from typing import TYPE_CHECKING, Any

import structlog
from sqlalchemy.ext.asyncio import AsyncSession

from launchgate.batches import repository
from launchgate.batches.comparison import compare
from launchgate.batches.schemas import BatchRequest
from launchgate.batches.verdict import CaseInfo, Item, batch_outcome, case_figures
from launchgate.billing.costs import rounded
from launchgate.db import after_commit, unit_of_work
from launchgate.errors import Conflict, NotFound, ServiceUnavailable, ValidationFailed
from launchgate.kit.auth_context import AuthContext
from launchgate.kit.ids import is_batch_id, new_batch_id, new_run_id
from launchgate.kit.time import utcnow
from launchgate.models import Batch
from launchgate.observability import metrics
from launchgate.runs import engine
from launchgate.runs import service as runs
from launchgate.runs.cache import PreparedSuite
from launchgate.suites import service as suites
from launchgate.worker import JobFailed

if TYPE_CHECKING:
    from launchgate.runtime import ApiRuntime
    from launchgate.worker import Worker

POLL_S = 0.25
# How long a batch scored in the request may lack items before it is taken for lost.
# Far beyond any request: LAUNCHGATE_SYNC_RUN_TIMEOUT_S is 600 s by default.
INLINE_GRACE = timedelta(hours=2)
# A deterministic batch scored in the request gives the event loop back this often: its
# items score without a single wait of their own (a 1,000-item batch takes about 0.5 s in
# all, bench/RESULTS.md "Batch throughput", and LAUNCHGATE_MAX_BATCH_ITEMS goes to 10,000),
# and other requests are answered between them.
YIELD_EVERY_S = 0.002

log = structlog.get_logger(__name__)


class BatchTimedOut(ServiceUnavailable):
    def __init__(self, batch_id: str, timeout_s: float) -> None:
        super().__init__(
            f"Batch {batch_id} did not finish within {timeout_s:g} s; it goes on: poll "
            f"GET /v1/batches/{batch_id}",
            {"batch_id": batch_id},
        )


class BatchNotStored(ServiceUnavailable):
    """Scoring in the request failed to store every item (the database refused a write)."""

    def __init__(self, batch_id: str) -> None:
        super().__init__(
            f"Batch {batch_id} could not be stored completely and ended in error; send it "
            "again (GET /v1/batches/{id} shows the items that were stored)",
            {"batch_id": batch_id},
        )


@dataclass(frozen=True, slots=True)
class BatchView:
    """A batch and its item counts (progress while running, the tally after)."""

    batch: Batch
    counts: dict[str, int]
    cost_usd: float | None = None


@dataclass
class Accepted:
    """A batch accepted by ``accept``: what ``finish`` does after the request's unit of
    work is committed. ``inline`` holds the runs to score in the request (a synchronous,
    deterministic batch); otherwise the runs are stored pending and the worker has them."""

    batch: Batch
    snapshot: dict[str, Any]
    sync: bool
    queued: list[str] = field(default_factory=list)
    inline: list[dict[str, Any]] = field(default_factory=list)


def _check_items(body: BatchRequest, limit: int) -> None:
    """Before any work: over the limit, a duplicated key, an empty output — each a 400
    naming the item, and nothing stored."""
    if len(body.items) > limit:
        raise ValidationFailed(
            f"items holds {len(body.items)} items; at most {limit} are allowed in one batch "
            "(LAUNCHGATE_MAX_BATCH_ITEMS)",
            [{"field": "items", "message": f"at most {limit} items", "type": "too_long"}],
        )
    first: dict[str, int] = {}
    for index, item in enumerate(body.items):
        if item.key is not None:
            if item.key in first:
                raise ValidationFailed(
                    f"items[{index}].key {item.key!r} repeats items[{first[item.key]}].key: "
                    "keys name inputs and must be unique within a batch",
                    [
                        {
                            "field": f"items.{index}.key",
                            "message": "duplicate key",
                            "type": "duplicate",
                        }
                    ],
                )
            first[item.key] = index
        if not body.allow_empty_output and not item.output.strip():
            raise ValidationFailed(
                f"items[{index}].output is empty: an empty output almost always means the "
                "pipeline that produced it broke; send allow_empty_output: true to score it",
                [{"field": f"items.{index}.output", "message": "empty", "type": "empty_output"}],
            )


async def accept(
    session: AsyncSession, runtime: ApiRuntime, auth: AuthContext, body: BatchRequest
) -> Accepted:
    """Check, resolve the suite and the baseline, and store the batch (with its items as
    pending runs unless they are scored in the request). Nothing is scored here."""
    _check_items(body, runtime.settings.max_batch_items)
    prepared = await runs.prepare(
        session, runtime, auth, body.suite, body.project, runs=len(body.items)
    )
    suite = prepared.snapshot["suite"]
    batch_id = new_batch_id()
    baseline_id = await _resolve_baseline(session, auth, prepared, body.baseline, None)
    inline = not body.async_ and not engine.needs_judge(prepared.snapshot)
    if not inline:
        await runtime.queue.check_available()
    batch = repository.add(
        session,
        Batch(
            id=batch_id,
            org_id=auth.org_id,
            project_id=prepared.project_id,
            suite_id=prepared.suite_id,
            api_key_id=auth.api_key_id,
            status="running",
            trigger=body.trigger,
            trigger_meta=body.trigger_meta,
            total_items=len(body.items),
            min_cleared=(
                body.min_cleared
                if body.min_cleared is not None
                else suite.get("batch_threshold", 1.0)
            ),
            fail_on_regression=(
                body.fail_on_regression
                if body.fail_on_regression is not None
                else suite.get("fail_on_regression", False)
            ),
            baseline_requested=body.baseline,
            baseline_id=baseline_id,
            billable=auth.billable,
            created_at=utcnow(),
        ),
    )
    rows = _item_rows(auth, prepared, body, batch_id)
    accepted = Accepted(batch, prepared.snapshot, sync=not body.async_)
    await session.flush()
    if inline:
        accepted.inline = rows
        return accepted
    await repository.add_runs(session, rows)
    accepted.queued = [row["id"] for row in rows]
    if body.async_:
        after_commit(session, lambda: _send(runtime.queue, batch_id, accepted.queued))
    return accepted


def _item_rows(
    auth: AuthContext, prepared: PreparedSuite, body: BatchRequest, batch_id: str
) -> list[dict[str, Any]]:
    """The items' pending runs. Their ids are made together and handed out sorted, so the
    id order (in which items are listed) is the order the caller sent them in."""
    ids = sorted(new_run_id() for _ in body.items)
    rows = []
    for run_id, item in zip(ids, body.items, strict=True):
        values = runs.pending_values(
            auth,
            prepared,
            item.output,
            item.input,
            body.trigger,
            body.trigger_meta,
            batch_id=batch_id,
            item_key=item.key,
        )
        values["id"] = run_id
        rows.append(values)
    return rows


async def _send(worker: Worker, batch_id: str, run_ids: list[str]) -> None:
    """After the commit. Embedded: one job scores the batch's items a bounded number at a
    time. Scaled out: one job per item, so the workers share them. A queue that went down
    in between leaves the runs pending; the sweep sends them later."""
    with contextlib.suppress(ServiceUnavailable):
        if worker.in_process:
            await worker.enqueue("batch.execute", batch_id=batch_id)
        else:
            for run_id in run_ids:
                await worker.enqueue("run.execute", run_id=run_id)


async def finish(runtime: ApiRuntime, accepted: Accepted) -> BatchView:
    """After the commit: score inline, or wait for the worker (synchronous), or nothing
    (asynchronous); then the batch as it stands, completed when its items are."""
    batch_id = accepted.batch.id
    if accepted.inline:
        try:
            await _score_inline(runtime, accepted)
        except Exception as exc:  # the type only: a database error's text quotes values
            log.error("batch could not be scored", batch_id=batch_id, error=type(exc).__name__)
            async with unit_of_work(runtime.sessions) as session:
                await _end_in_error(session, batch_id)
            raise BatchNotStored(batch_id) from None
    elif accepted.sync:
        await _wait(runtime, accepted)
    async with unit_of_work(runtime.sessions) as session:
        batch = await repository.get(session, accepted.batch.org_id, batch_id)
        assert batch is not None
        await refresh(session, batch)
        if accepted.sync and batch.status == "running":
            raise BatchTimedOut(batch_id, runtime.settings.sync_run_timeout_s)
        return await _view(session, batch)


async def _view(session: AsyncSession, batch: Batch) -> BatchView:
    return BatchView(batch, await item_counts(session, batch), await cost(session, batch))


async def cost(session: AsyncSession, batch: Batch) -> float | None:
    """The batch's ``cost_usd``: the sum of its items' runs (docs/cost.md), stored with the
    verdict once complete; while running, of the items final so far. None when an item's
    cost is (a judged model without a price)."""
    if batch.result is not None and "cost_usd" in batch.result:
        stored: float | None = batch.result["cost_usd"]
        return stored
    total, unpriced, _ = await repository.items_cost(session, batch.id)
    return None if unpriced else rounded(total)


async def _score_inline(runtime: ApiRuntime, accepted: Accepted) -> None:
    """A deterministic batch, scored in the request: the items one after another through
    the engine, then every completed run handed to the group-commit writer at once (it
    counts the usage), so they go up to its ``max_batch`` to a transaction.

    Not all scored at once: scoring is CPU-bound on this one event loop, so that gains
    nothing, and it put every item's threaded cases (regex) into the thread pool together,
    whose threads then took the GIL from the loop for so long that a json_schema pattern's
    wall-clock deadline (LAUNCHGATE_REGEX_TIMEOUT_MS) passed while the loop waited: a
    trivial pattern "timed out" and a batch that should clear ended in error (about one
    1,000-item batch in eight on a busy 2-core machine; bench/batch_throughput.py)."""
    options = engine.EngineOptions.of(runtime.settings)
    scored: list[dict[str, Any]] = []
    yielded = time.perf_counter()
    try:
        for values in accepted.inline:
            values["started_at"] = utcnow()
            values.update(
                await engine.score_run(
                    values["snapshot"], values["output"], values["input"], options
                )
            )
            scored.append(values)
            if time.perf_counter() - yielded > YIELD_EVERY_S:
                await asyncio.sleep(0)
                yielded = time.perf_counter()
    finally:
        # What was scored is written, and every write settles before a failure is
        # reported, so the batch's error records the items that were stored.
        outcomes = await asyncio.gather(
            *(runtime.run_writer.write(values) for values in scored), return_exceptions=True
        )
    for outcome in outcomes:
        if isinstance(outcome, BaseException):
            raise outcome
    for values in scored:
        metrics.run_scored(values, values["trigger"])


async def _wait(runtime: ApiRuntime, accepted: Accepted) -> None:
    worker = runtime.queue
    timeout_s = runtime.settings.sync_run_timeout_s
    batch_id = accepted.batch.id
    if worker.in_process:
        # Shielded: a request that gives up leaves the job to finish the batch.
        with contextlib.suppress(TimeoutError, JobFailed):
            await worker.call("batch.execute", timeout_s, batch_id=batch_id)
        return
    await _send(worker, batch_id, accepted.queued)
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        async with unit_of_work(runtime.sessions) as session:
            counts = await repository.status_counts(session, batch_id)
        if sum(counts.get(s, 0) for s in repository.FINAL_RUN) >= accepted.batch.total_items:
            return
        await asyncio.sleep(POLL_S)


async def _end_in_error(session: AsyncSession, batch_id: str) -> None:
    """A batch whose items could not all be stored (the scoring request failed, or the
    process stopped while scoring in the request): final, ``error``, never running for ever.
    The items that were stored stay readable; the batch has no figures."""
    found = await repository.status_counts(session, batch_id)
    counts = {s: found.get(s, 0) for s in repository.FINAL_RUN}
    await repository.complete(
        session,
        batch_id,
        {
            "status": "error",
            "completed_at": utcnow(),
            "result": {"counts": counts, "cases": None, "comparison": None, "verdict_detail": None},
        },
    )


async def refresh(session: AsyncSession, batch: Batch) -> None:
    """Complete the batch if its items are all final (and it is not yet): the verdict,
    the per-case figures and, with a baseline, the comparison."""
    if batch.status != "running":
        return
    counts = await repository.status_counts(session, batch.id)
    done = sum(counts.get(s, 0) for s in repository.FINAL_RUN)
    if done < batch.total_items:
        stored = sum(counts.values())
        # Items scored in the request are stored only once scored: a batch that still
        # lacks some long after any request could have waited for them lost them.
        if stored < batch.total_items and utcnow() - batch.created_at > INLINE_GRACE:
            await _end_in_error(session, batch.id)
            await session.refresh(batch)
        return
    cases, items = await _items(session, batch.id)
    comparison = None
    if batch.baseline_id is not None:
        comparison = await _compare(session, batch.id, cases, items, batch.baseline_id)
    snapshot = await repository.item_snapshot(session, batch.id) or {}
    outcome = batch_outcome(
        [item.status for item in items],
        batch.min_cleared,
        snapshot.get("suite", {}).get("on_inconclusive", "inconclusive"),
        regressed_cases=comparison["regressed_cases"] if comparison else 0,
        fail_on_regression=batch.fail_on_regression,
    )
    values = {
        "status": outcome.status,
        "pass_rate": outcome.pass_rate,
        "completed_at": utcnow(),
        "result": {
            "cost_usd": await cost(session, batch),
            "counts": outcome.counts,
            # O(cases × items), up to 10,000 items: in a thread, as the comparison.
            "cases": await asyncio.to_thread(case_figures, cases, items),
            "comparison": comparison,
            "verdict_detail": outcome.verdict_detail,
        },
    }
    if await repository.complete(session, batch.id, values):
        for name, value in values.items():
            setattr(batch, name, value)
    else:
        await session.refresh(batch)


async def _items(session: AsyncSession, batch_id: str) -> tuple[list[CaseInfo], list[Item]]:
    snapshot = await repository.item_snapshot(session, batch_id) or {"cases": []}
    cases = [CaseInfo(c["id"], c["name"], c["threshold"]) for c in snapshot["cases"]]
    rows = await repository.finished_items(session, batch_id)
    return cases, [Item.of_run(status, key, scores) for status, key, scores in rows]


async def _compare(
    session: AsyncSession,
    batch_id: str,
    cases: list[CaseInfo],
    items: list[Item],
    baseline_id: str,
) -> dict[str, Any]:
    baseline_cases, baseline_items = await _items(session, baseline_id)
    # Exact tests for every case, on up to 10,000 items (LAUNCHGATE_MAX_BATCH_ITEMS): up to
    # about 40 ms of CPU a case at the limit, so in a thread, where the event loop keeps
    # serving meanwhile.
    result = await asyncio.to_thread(compare, cases, items, baseline_cases, baseline_items)
    return {"baseline_id": baseline_id, "current_id": batch_id, **result}


async def _resolve_baseline(
    session: AsyncSession,
    auth: AuthContext,
    prepared: PreparedSuite,
    requested: str | None,
    current: Batch | None,
) -> str | None:
    """A batch id of the same suite (404 otherwise), or for "auto" the latest completed
    batch of the suite whose ``trigger_meta.branch`` is the suite's baseline branch (made
    before ``current``, when comparing an existing batch); None when there is none."""
    if requested is None:
        return None
    if requested != "auto":
        found = await repository.get(session, auth.org_id, requested)
        if found is None or found.suite_id != prepared.suite_id:
            raise NotFound(f"Batch '{requested}' not found in this suite")
        if current is not None and found.id == current.id:
            raise ValidationFailed("A batch cannot be its own baseline")
        return found.id
    branch = prepared.snapshot["suite"].get("baseline_branch", "main")
    before = current.created_at if current is not None else None
    for candidate in await repository.recent(session, prepared.suite_id, before):
        if current is not None and candidate.id == current.id:
            continue
        if (candidate.trigger_meta or {}).get("branch") != branch:
            continue
        await refresh(session, candidate)
        if candidate.status in ("cleared", "aborted", "inconclusive"):
            return candidate.id
    return None


async def _get(session: AsyncSession, auth: AuthContext, batch_id: str) -> Batch:
    batch = await repository.get(session, auth.org_id, batch_id) if is_batch_id(batch_id) else None
    if batch is None:
        raise NotFound.of("Batch", batch_id)
    await refresh(session, batch)
    return batch


async def get_batch(session: AsyncSession, auth: AuthContext, batch_id: str) -> BatchView:
    batch = await _get(session, auth, batch_id)
    return await _view(session, batch)


async def item_counts(session: AsyncSession, batch: Batch) -> dict[str, int]:
    """Progress while running (and the final tally after): items per final status."""
    if batch.result is not None:
        counts = dict(batch.result["counts"])
    else:
        found = await repository.status_counts(session, batch.id)
        counts = {s: found.get(s, 0) for s in repository.FINAL_RUN}
    counts["done"] = sum(counts.get(s, 0) for s in repository.FINAL_RUN)
    counts["total"] = batch.total_items
    return counts


async def list_batches(
    session: AsyncSession, auth: AuthContext, suite_id: Any, offset: int, limit: int
) -> tuple[list[BatchView], int]:
    suite = await suites.get_suite_by_id(session, auth, suite_id)
    batches, total = await repository.list_page(session, suite.id, offset, limit)
    views = []
    for batch in batches:
        await refresh(session, batch)
        views.append(await _view(session, batch))
    return views, total


async def list_items(
    session: AsyncSession, auth: AuthContext, batch_id: str, offset: int, limit: int
) -> tuple[list[Any], int]:
    batch = await _get(session, auth, batch_id)
    return await repository.items_page(session, batch.id, offset, limit)


async def comparison(
    session: AsyncSession, auth: AuthContext, batch_id: str, baseline: str
) -> dict[str, Any]:
    """``GET /v1/batches/{id}/compare``: against any completed batch of the same suite."""
    batch = await _get(session, auth, batch_id)
    if batch.status == "running":
        raise Conflict(f"Batch {batch.id} is still running; compare it once it is complete")
    snapshot = await repository.item_snapshot(session, batch.id) or {"suite": {}}
    prepared = PreparedSuite(batch.suite_id, batch.project_id, snapshot)
    baseline_id = await _resolve_baseline(session, auth, prepared, baseline, batch)
    if baseline_id is None:
        raise NotFound(
            f"No completed batch of this suite on the baseline branch "
            f"'{snapshot['suite'].get('baseline_branch', 'main')}' to compare with"
        )
    base = await repository.get(session, auth.org_id, baseline_id)
    if base is None or base.status == "running":
        raise Conflict(f"Batch {baseline_id} is still running; compare once it is complete")
    cases, items = await _items(session, batch.id)
    return await _compare(session, batch.id, cases, items, baseline_id)
