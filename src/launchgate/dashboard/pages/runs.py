"""One run: the verdict in the product's words, every case's score, the judge's details,
and what triggered it. A run still being scored reloads itself until it is final."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response

from launchgate.dashboard.web import CallerDep, PageRoute, render
from launchgate.deps import SessionDep
from launchgate.projects import service as projects
from launchgate.runs import service as runs
from launchgate.suites import service as suites

router = APIRouter(route_class=PageRoute)


@router.get("/runs/{run_id}")
async def show_run(
    run_id: str, request: Request, caller: CallerDep, session: SessionDep
) -> Response:
    run = await runs.get_run(session, caller.auth, run_id)
    suite = await suites.get_suite_by_id(session, caller.auth, run.suite_id)
    project = await projects.get_project_by_id(session, caller.auth, suite.project_id)
    template = "fragments/run_detail.html" if request.query_params.get("part") else "run.html"
    return render(
        request,
        template,
        {
            "caller": caller,
            "run": run,
            "suite": suite,
            "project": project,
            "final": run.status in runs.FINAL,
        },
    )
