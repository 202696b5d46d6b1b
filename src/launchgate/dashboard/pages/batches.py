"""One batch (issue 14): the verdict in the product's words, progress while its items are
scored (the page reloads its part every second until the batch is final), the cases'
pass-rate bars beside the baseline's with the regressions first, and the items, paged,
each linking to its run. Everything comes from the batches service, as for the API."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from fastapi import APIRouter, Request, Response

from launchgate.batches import service as batches
from launchgate.dashboard import bars
from launchgate.dashboard.web import Caller, CallerDep, PageRoute, page_number, render
from launchgate.deps import SessionDep
from launchgate.errors import NotFound
from launchgate.projects import service as projects
from launchgate.suites import service as suites

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession

router = APIRouter(route_class=PageRoute)
ITEMS_PER_PAGE = 20


async def _baseline(session: AsyncSession, caller: Caller, baseline_id: str | None) -> Any:
    """The baseline batch, to name and link it; one deleted since (with its suite's
    history) leaves the comparison stored in this batch, so the page goes on without it."""
    if baseline_id is None:
        return None
    try:
        return (await batches.get_batch(session, caller.auth, baseline_id)).batch
    except NotFound:
        return None


@router.get("/batches/{batch_id}")
async def show_batch(
    batch_id: str, request: Request, caller: CallerDep, session: SessionDep
) -> Response:
    view = await batches.get_batch(session, caller.auth, batch_id)
    batch = view.batch
    suite = await suites.get_suite_by_id(session, caller.auth, batch.suite_id)
    project = await projects.get_project_by_id(session, caller.auth, suite.project_id)
    page = page_number(request)
    items, total = await batches.list_items(
        session, caller.auth, batch.id, (page - 1) * ITEMS_PER_PAGE, ITEMS_PER_PAGE
    )
    result = batch.result or {}
    comparison = result.get("comparison")
    template = "fragments/batch_detail.html" if request.query_params.get("part") else "batch.html"
    return render(
        request,
        template,
        {
            "caller": caller,
            "batch": batch,
            "counts": view.counts,
            "batch_cost": view.cost_usd,
            "suite": suite,
            "project": project,
            "final": batch.status != "running",
            "rows": bars.case_rows(result.get("cases"), comparison),
            "comparison": comparison,
            "detail": result.get("verdict_detail"),
            "baseline": await _baseline(session, caller, batch.baseline_id),
            "items": items,
            "items_total": total,
            "items_page": page,
            "items_offset": (page - 1) * ITEMS_PER_PAGE,
            "items_pages": max(1, -(-total // ITEMS_PER_PAGE)),
        },
    )
