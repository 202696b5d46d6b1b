"""Projects: the list, one project's suites and scorers, the forms that create them, and a
scorer's own page, where it is edited and the API's warnings about its config are shown."""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING, Any

from fastapi import APIRouter, Request, Response

from launchgate.byok import service as byok
from launchgate.dashboard import forms, scorer_form, suite_form
from launchgate.dashboard.forms import REFUSALS, FormErrors
from launchgate.dashboard.web import Caller, CallerDep, PageRoute, redirect, render
from launchgate.db import rollback
from launchgate.deps import SessionDep
from launchgate.errors import NotFound
from launchgate.projects import service as projects
from launchgate.projects.schemas import ProjectCreate
from launchgate.scorers import service as scorers
from launchgate.scorers.schemas import ScorerOut
from launchgate.suites import from_template
from launchgate.suites import service as suites
from launchgate.suites.schemas import SuiteCreate, SuiteFromTemplate
from launchgate.suites.templates import TEMPLATES

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession

    from launchgate.models import Project, Scorer

router = APIRouter(route_class=PageRoute)
MAX_LISTED = 100


def _optional(form: Any, *names: str) -> dict[str, str]:
    """Fields left empty are omitted, as a JSON body would omit them."""
    return {name: value for name in names if (value := forms.optional_text(form, name))}


@router.get("/projects")
async def list_projects(request: Request, caller: CallerDep, session: SessionDep) -> Response:
    return await _projects_page(request, caller, session)


async def _projects_page(
    request: Request, caller: Caller, session: AsyncSession, **extra: Any
) -> Response:
    items, total = await projects.list_projects(session, caller.auth, 0, MAX_LISTED)
    status = 400 if extra.get("errors") else 200
    return render(
        request,
        "projects.html",
        {"caller": caller, "projects": items, "total": total, **extra},
        status=status,
    )


@router.post("/projects")
async def create_project(request: Request, caller: CallerDep, session: SessionDep) -> Response:
    form = await request.form()
    try:
        body = ProjectCreate.model_validate(
            {"name": forms.text(form, "name"), **_optional(form, "slug", "description")}
        )
        project = await projects.create_project(session, caller.auth, body)
    except REFUSALS as exc:
        await rollback(session)  # nothing of a refused form is kept
        return await _projects_page(
            request, caller, session, errors=FormErrors.of(exc), form=forms.values(form)
        )
    return redirect(request, f"/projects/{project.slug}")


async def _project_page(
    request: Request, caller: Caller, session: AsyncSession, slug: str, **extra: Any
) -> Response:
    project = await projects.get_project(session, caller.auth, slug)
    suite_views, _ = await suites.list_suites(session, caller.auth, slug, 0, MAX_LISTED)
    scorer_list, _ = await scorers.list_scorers(session, caller.auth, slug, 0, MAX_LISTED)
    failed = any(key.endswith("_errors") and value for key, value in extra.items())
    context = {
        "caller": caller,
        "project": project,
        "suites": suite_views,
        "scorers": scorer_list,
        "scorer_warnings": {s.id: _warnings(s) for s in scorer_list},
        "templates": TEMPLATES,
        "on_inconclusive_choices": suite_form.ON_INCONCLUSIVE.items(),
        "on_inconclusive_help": suite_form.ON_INCONCLUSIVE_HELP,
        "scorer_types": scorer_form.TYPES,
        "scorer_kind": extra.pop("scorer_kind", "exact_match"),
        **await _scorer_field_context(session, caller),
        **extra,
    }
    return render(request, "project.html", context, status=400 if failed else 200)


async def _scorer_field_context(session: AsyncSession, caller: Caller) -> dict[str, Any]:
    keys, _ = await byok.list_keys(session, caller.auth, None, 0, MAX_LISTED)
    live = [k for k in keys if k.status != "revoked"]
    return {"fields": scorer_form.FIELDS, "providers": scorer_form.PROVIDERS, "byok_keys": live}


@router.get("/projects/{slug}")
async def show_project(
    slug: str, request: Request, caller: CallerDep, session: SessionDep
) -> Response:
    return await _project_page(request, caller, session, slug)


@router.get("/projects/{slug}/scorer-fields")
async def scorer_fields(
    slug: str, request: Request, caller: CallerDep, session: SessionDep
) -> Response:
    """The config fields of the chosen type: the scorer form adapts without a reload."""
    await projects.get_project(session, caller.auth, slug)
    kind = scorer_form.scorer_type(request.query_params)
    context = {"scorer_kind": kind, **await _scorer_field_context(session, caller)}
    return render(request, "fragments/scorer_fields.html", context)


@router.post("/projects/{slug}/scorers")
async def create_scorer(
    slug: str, request: Request, caller: CallerDep, session: SessionDep
) -> Response:
    form = await request.form()
    try:
        body = scorer_form.scorer_create(form)
        await scorers.create_scorer(session, caller.auth, slug, body)
    except REFUSALS as exc:
        await rollback(session)  # nothing of a refused form is kept
        return await _project_page(
            request,
            caller,
            session,
            slug,
            scorer_errors=FormErrors.of(exc),
            scorer_form=forms.values(form),
            scorer_kind=scorer_form.scorer_type(form),
        )
    return redirect(request, f"/projects/{slug}?notice=scorer-created#scorers")


@router.post("/projects/{slug}/suites")
async def create_suite(
    slug: str, request: Request, caller: CallerDep, session: SessionDep
) -> Response:
    form = await request.form()
    try:
        threshold = forms.number(form, "pass_threshold")
        body = SuiteCreate.model_validate(
            {
                "name": forms.text(form, "name"),
                **_optional(form, "slug", "description", "on_inconclusive"),
                **({"pass_threshold": threshold} if threshold is not None else {}),
            }
        )
        view = await suites.create_suite(session, caller.auth, slug, body)
    except REFUSALS as exc:
        await rollback(session)  # nothing of a refused form is kept
        return await _project_page(
            request,
            caller,
            session,
            slug,
            suite_errors=FormErrors.of(exc),
            suite_form=forms.values(form),
        )
    return redirect(request, f"/projects/{slug}/suites/{view.suite.slug}")


@router.post("/projects/{slug}/suites/from-template")
async def create_suite_from_template(
    slug: str, request: Request, caller: CallerDep, session: SessionDep
) -> Response:
    form = await request.form()
    try:
        body = SuiteFromTemplate.model_validate(
            {
                "template_slug": forms.text(form, "template_slug"),
                **_optional(form, "name", "slug"),
            }
        )
        view = await from_template.create_from_template(session, caller.auth, slug, body)
    except REFUSALS as exc:
        await rollback(session)  # nothing of a refused form is kept
        return await _project_page(
            request,
            caller,
            session,
            slug,
            template_errors=FormErrors.of(exc),
            template_form=forms.values(form),
        )
    return redirect(request, f"/projects/{slug}/suites/{view.suite.slug}")


def _warnings(scorer: Scorer) -> list[str]:
    """The ``warnings`` the API answers with for this scorer (``ScorerOut``), word for word."""
    return ScorerOut.model_validate(scorer).warnings


async def _scorer_in(
    session: AsyncSession, caller: Caller, slug: str, scorer_id: str
) -> tuple[Project, Scorer]:
    """A scorer of this project, by an id from the URL; anything else is a 404."""
    project = await projects.get_project(session, caller.auth, slug)
    try:
        parsed = uuid.UUID(scorer_id)
    except ValueError:
        raise NotFound.of("Scorer", scorer_id) from None
    scorer = await scorers.get_scorer(session, caller.auth, parsed)
    if scorer.project_id != project.id:
        raise NotFound.of("Scorer", scorer_id)
    return project, scorer


async def _scorer_page(
    request: Request,
    caller: Caller,
    session: AsyncSession,
    slug: str,
    scorer_id: str,
    **extra: Any,
) -> Response:
    project, scorer = await _scorer_in(session, caller, slug, scorer_id)
    shown = scorer_form.values_of(
        scorer.type,
        scorer.name,
        scorer.config,
        scorer.dual_sided,
        (scorer.precision_threshold, scorer.recall_threshold),
    )
    context = {
        "caller": caller,
        "project": project,
        "scorer": scorer,
        "warnings": _warnings(scorer),
        "scorer_kind": scorer.type,
        "scorer_types": scorer_form.TYPES,
        "scorer_form": shown,
        **await _scorer_field_context(session, caller),
        **extra,
    }
    status = 400 if extra.get("scorer_errors") else 200
    return render(request, "scorer.html", context, status=status)


@router.get("/projects/{slug}/scorers/{scorer_id}")
async def show_scorer(
    slug: str, scorer_id: str, request: Request, caller: CallerDep, session: SessionDep
) -> Response:
    return await _scorer_page(request, caller, session, slug, scorer_id)


@router.post("/projects/{slug}/scorers/{scorer_id}")
async def save_scorer(
    slug: str, scorer_id: str, request: Request, caller: CallerDep, session: SessionDep
) -> Response:
    """``PATCH /v1/scorers/{id}`` from the form; the type of a scorer never changes."""
    form = await request.form()
    _, scorer = await _scorer_in(session, caller, slug, scorer_id)
    try:
        body = scorer_form.scorer_update(form, scorer.type, dict(scorer.config))
        await scorers.update_scorer(session, caller.auth, scorer.id, body)
    except REFUSALS as exc:
        await rollback(session)  # nothing of a refused form is kept
        return await _scorer_page(
            request,
            caller,
            session,
            slug,
            scorer_id,
            scorer_errors=FormErrors.of(exc),
            scorer_form=forms.values(form),
        )
    return redirect(request, f"/projects/{slug}/scorers/{scorer_id}?notice=scorer-saved")
