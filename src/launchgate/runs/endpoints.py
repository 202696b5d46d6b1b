from __future__ import annotations

from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Query
from fastapi.responses import JSONResponse

from launchgate.deps import CurrentAuth, RuntimeDep, SessionDep, end_unit
from launchgate.kit.pagination import Envelope, Page, Paging
from launchgate.models import Run
from launchgate.runs import service
from launchgate.runs.schemas import (
    DryRunEstimate,
    RunAccepted,
    RunComparison,
    RunOut,
    RunRequest,
    RunResult,
    RunStatus,
    RunSummary,
)

router = APIRouter(tags=["runs"])


def _failures(scores: list[dict[str, Any]] | None) -> list[dict[str, Any]]:
    return [s for s in scores or [] if s["status"] != "passed"]


def _result(run: Run) -> dict[str, Any]:
    return {
        "id": run.id,
        "status": run.status,
        "passed": run.status == "cleared",
        "total_cases": run.total_cases,
        "passed_cases": run.passed_cases,
        "failed_cases": run.failed_cases,
        "error_cases": run.error_cases,
        "inconclusive_cases": run.inconclusive_cases,
        "verdict_detail": run.verdict_detail,
        "pass_rate": run.pass_rate,
        "duration_ms": run.duration_ms,
        "cost_usd": run.cost_usd,
        "scores": run.scores or [],
        "failures": _failures(run.scores),
    }


def summary(run: Run) -> dict[str, Any]:
    """A run as lists show it (``RunSummary``): also the items of a batch."""
    return {
        **_result(run),
        "suite_id": run.suite_id,
        "batch_id": run.batch_id,
        "key": run.item_key,
        "trigger": run.trigger,
        "trigger_meta": run.trigger_meta,
        "created_at": run.created_at,
        "completed_at": run.completed_at,
    }


def _tokens(scores: list[dict[str, Any]] | None) -> dict[str, int]:
    judged = [s["judge"] for s in scores or [] if s.get("judge")]
    return {
        "input_tokens": sum(j.get("input_tokens", 0) for j in judged),
        "output_tokens": sum(j.get("output_tokens", 0) for j in judged),
    }


def _detail(run: Run) -> RunOut:
    return RunOut.model_validate(
        {
            **_result(run),
            "suite_id": run.suite_id,
            "project_id": run.project_id,
            "batch_id": run.batch_id,
            "key": run.item_key,
            "suite": run.snapshot["suite"],
            "output": run.output,
            "input": run.input,
            "trigger": run.trigger,
            "trigger_meta": run.trigger_meta,
            "snapshot": run.snapshot,
            "judge_tokens": _tokens(run.scores),
            "created_at": run.created_at,
            "started_at": run.started_at,
            "completed_at": run.completed_at,
        }
    )


@router.post(
    "/run",
    response_model=RunResult | DryRunEstimate,
    responses={202: {"model": RunAccepted, "description": "Accepted for async scoring"}},
)
async def create_run(
    body: RunRequest, auth: CurrentAuth, session: SessionDep, runtime: RuntimeDep
) -> Any:
    if body.dry_run:  # the estimate only: nothing queued or stored, whatever `async` says
        estimate = DryRunEstimate.model_validate(
            await service.dry_run(session, runtime, auth, body)
        )
        return JSONResponse(estimate.model_dump(mode="json"))
    if body.async_:
        run = await service.run_async(session, runtime, auth, body)
        accepted = RunAccepted(
            id=run.id, status="pending", message=f"Run queued; poll GET /v1/runs/{run.id}"
        )
        return JSONResponse(accepted.model_dump(), status_code=202)
    values = await service.accept_sync(session, runtime, auth, body)
    # The reads are done: the request's connection goes back to the pool before the run
    # is scored, which for a judge suite means waiting seconds on the worker.
    await end_unit(session)
    return _result(await service.finish_sync(runtime, values))


@router.get("/runs/{run_id}", response_model=Envelope[RunOut])
async def get_run(run_id: str, auth: CurrentAuth, session: SessionDep) -> Envelope[RunOut]:
    return Envelope(data=_detail(await service.get_run(session, auth, run_id)))


@router.get("/suites/{suite_id}/runs", response_model=Page[RunSummary])
async def list_runs(
    suite_id: UUID,
    auth: CurrentAuth,
    session: SessionDep,
    paging: Paging,
    status: Annotated[RunStatus | None, Query()] = None,
) -> Page[RunSummary]:
    runs, total = await service.list_runs(
        session, auth, suite_id, status, paging.offset, paging.page_size
    )
    return Page.of([RunSummary.model_validate(summary(r)) for r in runs], total, paging)


@router.get("/runs/{run_id}/compare", response_model=Envelope[RunComparison])
async def compare_run(
    run_id: str,
    auth: CurrentAuth,
    session: SessionDep,
    baseline: Annotated[
        str,
        Query(
            min_length=1,
            max_length=28,
            description='A run id of the same suite, or "auto": the latest earlier final run '
            "on the suite's baseline branch (trigger_meta.branch)",
        ),
    ] = "auto",
) -> Envelope[RunComparison]:
    return Envelope(
        data=RunComparison.model_validate(
            await service.compare_runs(session, auth, run_id, baseline)
        )
    )
