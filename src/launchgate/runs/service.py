"""Runs, request side: resolve the suite, freeze it into a snapshot, then either score
now (deterministic suites) or store the run and wait for the worker (judge suites), and
answer. Also the reads of past runs.

The worker side — claim, score with the judge, complete — is runs/execution.py; this
module never imports it (nor anything that opens a BYOK key): it sends ``run.execute``
by name.
"""

from __future__ import annotations

import contextlib
import time
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy.ext.asyncio import AsyncSession

from launchgate.billing import service as billing
from launchgate.db import after_commit, unit_of_work
from launchgate.errors import Conflict, NotFound, ServiceUnavailable, ValidationFailed
from launchgate.kit.auth_context import AuthContext
from launchgate.kit.ids import is_run_id, new_run_id
from launchgate.kit.time import utcnow
from launchgate.models import Run
from launchgate.observability import metrics
from launchgate.orgs import service as orgs
from launchgate.runs import comparison, engine, repository, snapshot
from launchgate.runs import dry_run as dry_run_estimate
from launchgate.runs.admission import RETRY_AFTER_S
from launchgate.runs.cache import PreparedSuite
from launchgate.runs.schemas import RunRequest
from launchgate.scorers import service as scorers
from launchgate.suites import service as suites
from launchgate.suites.cases import service as suite_cases
from launchgate.worker import JobFailed

if TYPE_CHECKING:
    from launchgate.runtime import ApiRuntime
    from launchgate.worker import Worker


FINAL = repository.FINAL


class RunTimedOut(ServiceUnavailable):
    """A synchronous run outlived ``LAUNCHGATE_SYNC_RUN_TIMEOUT_S``; it goes on, async."""

    def __init__(self, run_id: str, timeout_s: float) -> None:
        super().__init__(
            f"Run {run_id} did not finish within {timeout_s:g} s; it goes on: poll "
            f"GET /v1/runs/{run_id}",
            {"run_id": run_id},
        )


class RunNotFinished(ServiceUnavailable):
    """The worker's job for a synchronous run failed before the run was final."""

    def __init__(self, run_id: str) -> None:
        super().__init__(
            f"Run {run_id} could not be finished now; it is retried: poll GET /v1/runs/{run_id}",
            {"run_id": run_id},
            {"Retry-After": str(RETRY_AFTER_S)},
        )


class EmptyOutput(ValidationFailed):
    """The output is empty (or only whitespace) and the caller did not allow it."""

    def __init__(self, output: str) -> None:
        what = "empty" if not output else "only whitespace"
        super().__init__(
            f"output is {what}: an empty output almost always means the pipeline that "
            "produced it broke; send allow_empty_output: true to score it anyway",
            [{"field": "output", "message": f"output is {what}", "type": "empty_output"}],
        )


def check_output(body: RunRequest) -> None:
    """Before any work: a run of nothing is refused unless asked for (issue 12)."""
    if not body.allow_empty_output and not body.output.strip():
        raise EmptyOutput(body.output)


async def _prepared_suite(
    session: AsyncSession, runtime: ApiRuntime, auth: AuthContext, body: RunRequest
) -> PreparedSuite:
    """Usage check, then the suite snapshot (see ``prepare``)."""
    check_output(body)
    return await prepare(session, runtime, auth, body.suite, body.project)


async def prepare(
    session: AsyncSession,
    runtime: ApiRuntime,
    auth: AuthContext,
    suite_slug: str,
    project: str | None,
    *,
    runs: int = 1,
) -> PreparedSuite:
    """Usage check for ``runs`` more runs, then the suite snapshot: from the cache while
    the organisation's config version stands, else read (suite, active cases, their
    scorers) and cached. Batches (issue 14) prepare once for all their items; a dry run
    (``runs=0``) makes no run, so the monthly limit does not refuse it."""
    # An API key's caller carries its organisation's facts and month's runs, read with the
    # key in one statement (api_keys.service.KeyCaller): no query of their own here.
    facts = await orgs.get_facts(session, auth.org_id, runtime.facts_cache, auth)
    if runs:
        await billing.check_can_run(session, auth.org_id, facts.plan, runs=runs, caller=auth)
    key = (auth.org_id, project, suite_slug)
    prepared = runtime.snapshots.get(key, facts.config_version)
    if prepared is not None:
        return prepared
    suite = await suites.resolve_for_run(session, auth, suite_slug, project)
    cases = await suite_cases.active_cases(session, suite)
    found = await scorers.scorers_by_id(session, auth.org_id, {c.scorer_id for c in cases})
    # A case whose scorer was deleted cannot be scored; leave it out as a deleted case.
    cases = [c for c in cases if c.scorer_id in found]
    if not cases:
        raise ValidationFailed(f"Suite '{suite.slug}' has no active cases to run")
    prepared = PreparedSuite(suite.id, suite.project_id, snapshot.take(suite, cases, found))
    runtime.snapshots.put(key, facts.config_version, prepared)
    return prepared


def _pending(auth: AuthContext, body: RunRequest, prepared: PreparedSuite) -> dict[str, Any]:
    return pending_values(auth, prepared, body.output, body.input, body.trigger, body.trigger_meta)


def pending_values(
    auth: AuthContext,
    prepared: PreparedSuite,
    output: str,
    run_input: dict[str, Any],
    trigger: str,
    trigger_meta: dict[str, Any],
    *,
    batch_id: str | None = None,
    item_key: str | None = None,
) -> dict[str, Any]:
    """The column values of a new, not yet scored run (alone, or an item of a batch)."""
    return {
        "id": new_run_id(),
        "org_id": auth.org_id,
        "project_id": prepared.project_id,
        "suite_id": prepared.suite_id,
        "api_key_id": auth.api_key_id,
        "batch_id": batch_id,
        "item_key": item_key,
        "status": "pending",
        "trigger": trigger,
        "trigger_meta": trigger_meta,
        "output": output,
        "input": run_input,
        "snapshot": prepared.snapshot,
        "billable": auth.billable,
        "total_cases": len(prepared.snapshot["cases"]),
        "passed_cases": 0,
        "failed_cases": 0,
        "error_cases": 0,
        "inconclusive_cases": 0,
        "verdict_detail": None,
        "scores": None,
        "pass_rate": None,
        "duration_ms": None,
        "created_at": utcnow(),
        "started_at": None,
        "completed_at": None,
        "lease_expires_at": None,
    }


async def accept_sync(
    session: AsyncSession, runtime: ApiRuntime, auth: AuthContext, body: RunRequest
) -> dict[str, Any]:
    """The reads of a synchronous run (usage, the suite's snapshot): the new run's values.
    Reads only; the caller ends its unit of work before ``finish_sync``, so the wait
    for the worker holds no database connection."""
    return _pending(auth, body, await _prepared_suite(session, runtime, auth, body))


async def dry_run(
    session: AsyncSession, runtime: ApiRuntime, auth: AuthContext, body: RunRequest
) -> dict[str, Any]:
    """``dry_run: true``: the run's estimate (runs/dry_run.py), validated like a real run.
    Reads only; no usage check, since nothing is counted."""
    check_output(body)
    prepared = await prepare(session, runtime, auth, body.suite, body.project, runs=0)
    return await dry_run_estimate.estimate(
        session, runtime.settings, auth, prepared, [(body.output, body.input)]
    )


async def finish_sync(runtime: ApiRuntime, values: dict[str, Any]) -> Run:
    """Score now, or on the worker for judge suites; the run is committed (by the
    group-commit writer, or by the worker) before this returns. Opens no session of its
    own except for short reads and writes."""
    if needs_worker(values):
        with runtime.admission.admit():
            return await _run_on_worker(runtime, values)
    return Run(**await score_now(runtime, values))


def needs_worker(values: dict[str, Any]) -> bool:
    """Whether ``finish_sync`` hands this run to the worker (a judge suite) rather than
    scoring it in the request (``score_now``)."""
    return engine.needs_judge(values["snapshot"])


async def score_now(runtime: ApiRuntime, values: dict[str, Any]) -> dict[str, Any]:
    """A deterministic run, scored in the request and committed by the group-commit
    writer before this returns: its values. The lean ``POST /v1/run`` answers from them
    directly; building the ``Run`` object ``finish_sync`` returns costs 0.05 ms."""
    values["started_at"] = utcnow()
    values.update(
        await engine.score_run(
            values["snapshot"],
            values["output"],
            values["input"],
            engine.EngineOptions.of(runtime.settings),
        )
    )
    await runtime.run_writer.write(values)
    metrics.run_scored(values, values["trigger"])
    return values


async def _run_on_worker(runtime: ApiRuntime, values: dict[str, Any]) -> Run:
    """Store the pending run (committed, so the worker finds it), have the worker execute
    it, and read back the finished run: the request waits, the key stays worker-side."""
    worker = runtime.queue
    await worker.check_available()
    if worker.in_process:
        # This process's worker takes the run at once: it is stored already held by it
        # (``running``, with the lease the job renews) and handed over as it is, so the
        # job neither claims it nor reads it back (5-9 ms of a judged run's start,
        # bench/RESULTS.md). Should the process die, the lease lapses and the run is
        # taken up again as any held run is.
        now = utcnow()
        values.update(
            status="running",
            started_at=now,
            lease_expires_at=now + timedelta(seconds=runtime.settings.run_lease_s),
        )
    # The group-commit writer stores it: a burst of runs is one transaction, not one
    # write each queued on the database's write lock.
    await runtime.run_writer.write(values)
    timeout_s = runtime.settings.sync_run_timeout_s
    if worker.in_process:
        try:
            done = await worker.call("run.execute", timeout_s, run_id=values["id"], held=values)
        except TimeoutError:
            raise RunTimedOut(values["id"], timeout_s) from None
        except JobFailed:
            done = None
        if isinstance(done, dict):  # completed by this call: its values, no read back
            return Run(**{**values, **done})
        final = await _read_final(runtime, values["id"])
        if final is None:
            raise RunNotFinished(values["id"])
        return final
    task = await worker.submit("run.execute", run_id=values["id"])
    deadline = time.monotonic() + timeout_s
    while True:
        # The job's result, or the run row: when the worker that took the job died, the
        # sweep has another worker finish the run, under another job.
        try:
            finished, done = await worker.result(
                task, min(2.0, max(0.0, deadline - time.monotonic()))
            )
        except JobFailed:
            finished, done = False, None
        if finished and isinstance(done, dict):
            return Run(**{**values, **done})
        run = await _read_final(runtime, values["id"])
        if run is not None:
            return run
        if time.monotonic() >= deadline:
            raise RunTimedOut(values["id"], timeout_s)


async def _read_final(runtime: ApiRuntime, run_id: str) -> Run | None:
    """The run if it is final now, else None."""
    async with unit_of_work(runtime.sessions) as own:
        run = await repository.get_any(own, run_id)
    return run if run is not None and run.status in repository.FINAL else None


async def run_async(
    session: AsyncSession, runtime: ApiRuntime, auth: AuthContext, body: RunRequest
) -> Run:
    prepared = await _prepared_suite(session, runtime, auth, body)
    worker = runtime.queue
    await worker.check_available()
    run = repository.add(session, Run(**_pending(auth, body, prepared)))
    await session.flush()
    after_commit(session, lambda: _send(worker, run.id))
    return run


async def _send(worker: Worker, run_id: str) -> None:
    """After the commit: the run is accepted. If the queue went down in between, the
    run stays pending and the workers' sweep sends it later; nothing is lost."""
    with contextlib.suppress(ServiceUnavailable):
        await worker.enqueue("run.execute", run_id=run_id)


async def release_leases(session: AsyncSession) -> int:
    """At the start of an embedded server, the only process on its database: every
    running run's lease is released, so the runs it resumes can be claimed at once."""
    return await repository.release_leases(session)


async def get_run(session: AsyncSession, auth: AuthContext, run_id: str) -> Run:
    run = await repository.get(session, auth.org_id, run_id) if is_run_id(run_id) else None
    if run is None:
        raise NotFound.of("Run", run_id)
    return run


async def compare_runs(
    session: AsyncSession, auth: AuthContext, run_id: str, baseline: str
) -> dict[str, Any]:
    """``GET /v1/runs/{id}/compare``: against a run id of the same suite, or ``auto`` —
    the latest final run of the suite made before it on the suite's baseline branch."""
    run = await get_run(session, auth, run_id)
    if run.status not in FINAL:
        raise Conflict(f"Run {run.id} is still {run.status}; compare it once it is final")
    if baseline == "auto":
        branch = run.snapshot["suite"].get("baseline_branch", "main")
        base = await repository.latest_on_branch(session, run.suite_id, branch, run.id)
        if base is None:
            raise NotFound(f"No earlier final run of this suite on the branch '{branch}'")
    else:
        base = await get_run(session, auth, baseline)
        if base.suite_id != run.suite_id:
            raise NotFound(f"Run '{baseline}' not found in this suite")
        if base.status not in FINAL:
            raise Conflict(f"Run {base.id} is still {base.status}; compare once it is final")
    return {
        "baseline_id": base.id,
        "current_id": run.id,
        "baseline_status": base.status,
        "current_status": run.status,
        "cases": comparison.compare_runs(run.scores or [], base.scores or []),
    }


async def list_runs(
    session: AsyncSession,
    auth: AuthContext,
    suite_id: Any,
    status: str | None,
    offset: int,
    limit: int,
) -> tuple[list[Run], int]:
    suite = await suites.get_suite_by_id(session, auth, suite_id)
    return await repository.list_page(session, suite.id, status, offset, limit)


async def open_runs(session: AsyncSession) -> tuple[list[str], list[str]]:
    """What a restarted embedded server has to finish: the open runs of their own, and
    the batches with open items (each resumed by one job that bounds its concurrency, not
    a thousand jobs at once)."""
    rows = await repository.open_run_ids(session)
    batches = sorted({batch_id for _, batch_id in rows if batch_id is not None})
    return [run_id for run_id, batch_id in rows if batch_id is None], batches
