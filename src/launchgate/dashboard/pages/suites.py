"""A suite: its settings, its cases (add, edit, delete, reorder, switch on and off), a run
by hand whose verdict appears in place, the runs list and the pass-rate trend."""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING, Any

from fastapi import APIRouter, Request, Response

from launchgate.batches import service as batches
from launchgate.dashboard import case_form, chart, forms, suite_form
from launchgate.dashboard.forms import REFUSALS, FormErrors
from launchgate.dashboard.web import Caller, CallerDep, PageRoute, page_number, redirect, render
from launchgate.db import rollback
from launchgate.deps import RuntimeDep, SessionDep, end_unit
from launchgate.errors import NotFound, UsageLimitExceeded
from launchgate.projects import service as projects
from launchgate.runs import service as runs
from launchgate.runs.schemas import RunRequest
from launchgate.scorers import service as scorers
from launchgate.suites import service as suites
from launchgate.suites.cases import service as cases
from launchgate.suites.cases.schemas import CaseReorder, CaseUpdate
from launchgate.suites.service import SuiteView

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession

    from launchgate.models import Case, Project

router = APIRouter(route_class=PageRoute)
MAX_CASES = 10_000
RUNS_PER_PAGE = 20
BATCHES_PER_PAGE = 10
TREND_RUNS = 30
BASE = "/projects/{slug}/suites/{suite_slug}"


async def _suite(
    session: AsyncSession, caller: Caller, slug: str, suite_slug: str
) -> tuple[Project, SuiteView]:
    project = await projects.get_project(session, caller.auth, slug)
    return project, await suites.get_suite(session, caller.auth, slug, suite_slug)


async def _case_in(session: AsyncSession, caller: Caller, view: SuiteView, case_id: str) -> Case:
    """A case of this suite, by an id from the URL; anything else is a 404."""
    try:
        parsed = uuid.UUID(case_id)
    except ValueError:
        raise NotFound.of("Case", case_id) from None
    case = await cases.get_case(session, caller.auth, parsed)
    if case.suite_id != view.suite.id:
        raise NotFound.of("Case", case_id)
    return case


async def _cases_context(
    session: AsyncSession, caller: Caller, project: Project, view: SuiteView
) -> dict[str, Any]:
    items, _ = await cases.list_cases(session, caller.auth, view.suite.id, 0, MAX_CASES)
    scorer_list, _ = await scorers.list_scorers(session, caller.auth, project.slug, 0, 100)
    return {
        "project": project,
        "suite": view.suite,
        "cases": items,
        "scorers": scorer_list,
        "scorer_names": {s.id: f"{s.name} ({s.type})" for s in scorer_list},
        "expected_kinds": case_form.EXPECTED_KINDS,
    }


async def _runs_context(
    session: AsyncSession, caller: Caller, view: SuiteView, page: int
) -> dict[str, Any]:
    listed, total = await runs.list_runs(
        session, caller.auth, view.suite.id, None, (page - 1) * RUNS_PER_PAGE, RUNS_PER_PAGE
    )
    recent, _ = await runs.list_runs(session, caller.auth, view.suite.id, None, 0, TREND_RUNS)
    points = chart.points_of([(r.id, r.status, r.pass_rate, r.created_at) for r in recent])
    return {
        "runs": listed,
        "runs_total": total,
        "runs_page": page,
        "runs_pages": max(1, -(-total // RUNS_PER_PAGE)),
        "trend": chart.trend_svg(points, view.suite.pass_threshold),
        "trend_count": len(points),
    }


async def _batches_context(
    session: AsyncSession, caller: Caller, view: SuiteView, page: int
) -> dict[str, Any]:
    """The suite's batches, newest first, paged apart from the runs (``batch_page``)."""
    listed, total = await batches.list_batches(
        session, caller.auth, view.suite.id, (page - 1) * BATCHES_PER_PAGE, BATCHES_PER_PAGE
    )
    return {
        "batches": listed,
        "batches_page": page,
        "batches_pages": max(1, -(-total // BATCHES_PER_PAGE)),
    }


async def _suite_page(
    request: Request,
    caller: Caller,
    session: AsyncSession,
    slug: str,
    suite_slug: str,
    **extra: Any,
) -> Response:
    project, view = await _suite(session, caller, slug, suite_slug)
    context = {
        "caller": caller,
        "view": view,
        "settings_form": suite_form.values_of(view.suite),
        "on_inconclusive_choices": suite_form.ON_INCONCLUSIVE.items(),
        "on_inconclusive_help": suite_form.ON_INCONCLUSIVE_HELP,
        **await _cases_context(session, caller, project, view),
        **await _runs_context(session, caller, view, page_number(request)),
        **await _batches_context(session, caller, view, page_number(request, "batch_page")),
        **extra,
    }
    failed = extra.get("errors") or extra.get("settings_errors")
    return render(request, "suite.html", context, status=400 if failed else 200)


@router.get(BASE)
async def show_suite(
    slug: str, suite_slug: str, request: Request, caller: CallerDep, session: SessionDep
) -> Response:
    return await _suite_page(request, caller, session, slug, suite_slug)


@router.get(BASE + "/runs-panel")
async def runs_panel(
    slug: str, suite_slug: str, request: Request, caller: CallerDep, session: SessionDep
) -> Response:
    """Reloaded in place after a run by hand (its own request: it sees the committed run)."""
    project, view = await _suite(session, caller, slug, suite_slug)
    context = {
        "project": project,
        "suite": view.suite,
        **await _runs_context(session, caller, view, page_number(request)),
    }
    return render(request, "fragments/runs_panel.html", context)


@router.post(BASE + "/settings")
async def save_settings(
    slug: str, suite_slug: str, request: Request, caller: CallerDep, session: SessionDep
) -> Response:
    """``PATCH`` of the suite's name, pass threshold, description, ``on_inconclusive`` and
    batch settings."""
    form = await request.form()
    try:
        body = suite_form.suite_update(form)
        await suites.update_suite(session, caller.auth, slug, suite_slug, body)
    except REFUSALS as exc:
        await rollback(session)  # nothing of a refused form is kept
        return await _suite_page(
            request,
            caller,
            session,
            slug,
            suite_slug,
            settings_errors=FormErrors.of(exc),
            settings_form=forms.values(form),
        )
    url = BASE.format(slug=slug, suite_slug=suite_slug)
    return redirect(request, url + "?notice=suite-saved#settings")


@router.post(BASE + "/cases")
async def add_case(
    slug: str, suite_slug: str, request: Request, caller: CallerDep, session: SessionDep
) -> Response:
    form = await request.form()
    _, view = await _suite(session, caller, slug, suite_slug)
    try:
        await cases.create_case(session, caller.auth, view.suite.id, case_form.case_create(form))
    except REFUSALS as exc:
        await rollback(session)  # nothing of a refused form is kept
        return await _suite_page(
            request,
            caller,
            session,
            slug,
            suite_slug,
            errors=FormErrors.of(exc),
            form=forms.values(form),
        )
    return redirect(request, BASE.format(slug=slug, suite_slug=suite_slug) + "#cases")


@router.get(BASE + "/cases/{case_id}/edit")
async def edit_case_form(
    slug: str,
    suite_slug: str,
    case_id: str,
    request: Request,
    caller: CallerDep,
    session: SessionDep,
) -> Response:
    project, view = await _suite(session, caller, slug, suite_slug)
    case = await _case_in(session, caller, view, case_id)
    context = {
        "caller": caller,
        "case": case,
        "form": case_form.values_of(case),
        **await _cases_context(session, caller, project, view),
    }
    return render(request, "case_edit.html", context)


@router.post(BASE + "/cases/{case_id}")
async def save_case(
    slug: str,
    suite_slug: str,
    case_id: str,
    request: Request,
    caller: CallerDep,
    session: SessionDep,
) -> Response:
    form = await request.form()
    project, view = await _suite(session, caller, slug, suite_slug)
    case = await _case_in(session, caller, view, case_id)
    try:
        await cases.update_case(session, caller.auth, case.id, case_form.case_update(form))
    except REFUSALS as exc:
        await rollback(session)
        project, view = await _suite(session, caller, slug, suite_slug)
        case = await _case_in(session, caller, view, case_id)
        context = {
            "caller": caller,
            "case": case,
            "form": forms.values(form),
            "errors": FormErrors.of(exc),
            **await _cases_context(session, caller, project, view),
        }
        return render(request, "case_edit.html", context, status=400)
    return redirect(request, BASE.format(slug=slug, suite_slug=suite_slug) + "#cases")


async def _cases_fragment(
    request: Request,
    caller: Caller,
    session: AsyncSession,
    slug: str,
    suite_slug: str,
    error: FormErrors | None = None,
) -> Response:
    project, view = await _suite(session, caller, slug, suite_slug)
    context = {"case_error": error, **await _cases_context(session, caller, project, view)}
    return render(request, "fragments/cases.html", context, status=400 if error else 200)


@router.post(BASE + "/cases/{case_id}/active")
async def toggle_case(
    slug: str,
    suite_slug: str,
    case_id: str,
    request: Request,
    caller: CallerDep,
    session: SessionDep,
) -> Response:
    _, view = await _suite(session, caller, slug, suite_slug)
    case = await _case_in(session, caller, view, case_id)
    try:
        await cases.update_case(
            session, caller.auth, case.id, CaseUpdate(is_active=not case.is_active)
        )
    except REFUSALS as exc:
        await rollback(session)
        return await _cases_fragment(request, caller, session, slug, suite_slug, FormErrors.of(exc))
    return await _cases_fragment(request, caller, session, slug, suite_slug)


@router.post(BASE + "/cases/{case_id}/move")
async def move_case(
    slug: str,
    suite_slug: str,
    case_id: str,
    request: Request,
    caller: CallerDep,
    session: SessionDep,
) -> Response:
    """Up or down by one: the new order of every case goes to the reorder service, which
    checks it like ``POST /v1/suites/{id}/cases/reorder``."""
    form = await request.form()
    _, view = await _suite(session, caller, slug, suite_slug)
    case = await _case_in(session, caller, view, case_id)
    ordered, _ = await cases.list_cases(session, caller.auth, view.suite.id, 0, MAX_CASES)
    ids = [c.id for c in ordered]
    at = ids.index(case.id)
    to = at - 1 if forms.text(form, "direction") == "up" else at + 1
    if 0 <= to < len(ids):
        ids[at], ids[to] = ids[to], ids[at]
        await cases.reorder_cases(session, caller.auth, view.suite.id, CaseReorder(case_ids=ids))
    return await _cases_fragment(request, caller, session, slug, suite_slug)


@router.post(BASE + "/cases/{case_id}/delete")
async def delete_case(
    slug: str,
    suite_slug: str,
    case_id: str,
    request: Request,
    caller: CallerDep,
    session: SessionDep,
) -> Response:
    _, view = await _suite(session, caller, slug, suite_slug)
    case = await _case_in(session, caller, view, case_id)
    await cases.delete_case(session, caller.auth, case.id)
    await session.flush()  # so the list below no longer holds it
    return await _cases_fragment(request, caller, session, slug, suite_slug)


@router.post(BASE + "/run")
async def run_by_hand(
    slug: str,
    suite_slug: str,
    request: Request,
    caller: CallerDep,
    session: SessionDep,
    runtime: RuntimeDep,
) -> Response:
    """``POST /v1/run`` with trigger ``dashboard``; the verdict is rendered in place and
    the runs panel is told to reload."""
    form = await request.form()
    project, view = await _suite(session, caller, slug, suite_slug)
    try:
        body = RunRequest.model_validate(
            {
                "suite": view.suite.slug,
                "project": project.slug,
                "output": forms.text(form, "output"),
                "input": forms.json_text(form, "input", default={}),
                "trigger": "dashboard",
                "trigger_meta": {"user": caller.email},
                "allow_empty_output": forms.checkbox(form, "allow_empty_output"),
            }
        )
        values = await runs.accept_sync(session, runtime, caller.auth, body)
        await end_unit(session)  # no connection held while the run is scored (deps.py)
        run = await runs.finish_sync(runtime, values)
    except (*REFUSALS, UsageLimitExceeded) as exc:
        await rollback(session)
        return render(
            request, "fragments/run_result.html", {"errors": FormErrors.of(exc)}, status=400
        )
    return render(
        request,
        "fragments/run_result.html",
        {"run": run, "project": project},
        headers={"HX-Trigger": "runs-changed"},
    )
