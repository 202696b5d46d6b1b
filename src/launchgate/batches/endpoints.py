from __future__ import annotations

from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Query
from fastapi.responses import JSONResponse

from launchgate.batches import dry_run, service
from launchgate.batches.schemas import BatchItemOut, BatchOut, BatchRequest, Comparison
from launchgate.deps import CurrentAuth, RuntimeDep, SessionDep, end_unit
from launchgate.kit.pagination import Envelope, Page, Paging
from launchgate.runs.endpoints import summary
from launchgate.runs.schemas import DryRunEstimate

router = APIRouter(tags=["batches"])


def _out(view: service.BatchView) -> BatchOut:
    batch = view.batch
    result = batch.result or {}
    return BatchOut.model_validate(
        {
            "id": batch.id,
            "suite_id": batch.suite_id,
            "project_id": batch.project_id,
            "status": batch.status,
            "passed": batch.status == "cleared",
            "pass_rate": batch.pass_rate,
            "min_cleared": batch.min_cleared,
            "fail_on_regression": batch.fail_on_regression,
            "items": view.counts,
            "cost_usd": view.cost_usd,
            "cases": result.get("cases"),
            "baseline": batch.baseline_requested,
            "baseline_id": batch.baseline_id,
            "comparison": result.get("comparison"),
            "verdict_detail": result.get("verdict_detail"),
            "trigger": batch.trigger,
            "trigger_meta": batch.trigger_meta,
            "created_at": batch.created_at,
            "completed_at": batch.completed_at,
        }
    )


@router.post(
    "/batches",
    response_model=Envelope[BatchOut] | DryRunEstimate,
    responses={202: {"model": Envelope[BatchOut], "description": "Accepted for async scoring"}},
)
async def create_batch(
    body: BatchRequest, auth: CurrentAuth, session: SessionDep, runtime: RuntimeDep
) -> Any:
    if body.dry_run:  # the estimate only, not wrapped (like the run's): nothing stored
        estimate = DryRunEstimate.model_validate(
            await dry_run.estimate(session, runtime, auth, body)
        )
        return JSONResponse(estimate.model_dump(mode="json"))
    accepted = await service.accept(session, runtime, auth, body)
    # The batch and its items are committed (and, async, sent to the worker) before any
    # waiting: the request holds no connection while its items are scored.
    await end_unit(session)
    out = Envelope(data=_out(await service.finish(runtime, accepted)))
    if body.async_:
        return JSONResponse(out.model_dump(mode="json"), status_code=202)
    return out


@router.get("/batches/{batch_id}", response_model=Envelope[BatchOut])
async def get_batch(batch_id: str, auth: CurrentAuth, session: SessionDep) -> Envelope[BatchOut]:
    return Envelope(data=_out(await service.get_batch(session, auth, batch_id)))


@router.get("/batches/{batch_id}/items", response_model=Page[BatchItemOut])
async def list_items(
    batch_id: str, auth: CurrentAuth, session: SessionDep, paging: Paging
) -> Page[BatchItemOut]:
    runs, total = await service.list_items(session, auth, batch_id, paging.offset, paging.page_size)
    items = [BatchItemOut.model_validate(summary(r)) for r in runs]
    return Page.of(items, total, paging)


@router.get("/suites/{suite_id}/batches", response_model=Page[BatchOut])
async def list_batches(
    suite_id: UUID, auth: CurrentAuth, session: SessionDep, paging: Paging
) -> Page[BatchOut]:
    batches, total = await service.list_batches(
        session, auth, suite_id, paging.offset, paging.page_size
    )
    return Page.of([_out(view) for view in batches], total, paging)


@router.get("/batches/{batch_id}/compare", response_model=Envelope[Comparison])
async def compare_batch(
    batch_id: str,
    auth: CurrentAuth,
    session: SessionDep,
    baseline: Annotated[
        str,
        Query(
            pattern=r"^(auto|bat_[0-9a-z]{24})$",
            description='A batch id of the same suite, or "auto": the latest completed batch '
            "on the suite's baseline branch (trigger_meta.branch)",
        ),
    ] = "auto",
) -> Envelope[Comparison]:
    return Envelope(
        data=Comparison.model_validate(await service.comparison(session, auth, batch_id, baseline))
    )
