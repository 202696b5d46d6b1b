from __future__ import annotations

import uuid
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from launchgate.errors import Conflict, NotFound, ValidationFailed
from launchgate.kit.auth_context import AuthContext
from launchgate.kit.slugs import slugify
from launchgate.kit.unique import flush_or_conflict
from launchgate.models import Project, Suite
from launchgate.projects import service as projects
from launchgate.suites import repository
from launchgate.suites.schemas import SuiteCreate, SuiteUpdate


@dataclass(frozen=True)
class SuiteView:
    suite: Suite
    case_count: int
    active_case_count: int


async def _view(session: AsyncSession, suite: Suite) -> SuiteView:
    total, active = (await repository.case_counts(session, [suite.id])).get(suite.id, (0, 0))
    return SuiteView(suite, total, active)


async def _in_project(
    session: AsyncSession, auth: AuthContext, project_slug: str, suite_slug: str
) -> tuple[Project, Suite]:
    project = await projects.get_project(session, auth, project_slug)
    suite = await repository.by_slug(session, auth.org_id, project.id, suite_slug)
    if suite is None:
        raise NotFound.of("Suite", suite_slug)
    return project, suite


async def get_suite(
    session: AsyncSession, auth: AuthContext, project_slug: str, suite_slug: str
) -> SuiteView:
    _, suite = await _in_project(session, auth, project_slug, suite_slug)
    return await _view(session, suite)


async def get_suite_by_id(session: AsyncSession, auth: AuthContext, suite_id: uuid.UUID) -> Suite:
    suite = await repository.by_id(session, auth.org_id, suite_id)
    if suite is None:
        raise NotFound.of("Suite", suite_id)
    return suite


async def resolve_for_run(
    session: AsyncSession, auth: AuthContext, slug: str, project_slug: str | None
) -> Suite:
    """SPEC §5.1: a suite slug is looked up across the organisation's projects."""
    found = await repository.find_by_slug(session, auth.org_id, slug, project_slug)
    if not found:
        where = f" in project '{project_slug}'" if project_slug else ""
        raise NotFound(f"Suite '{slug}' not found{where}")
    if len(found) > 1:
        names = [p for _, p in found]
        raise ValidationFailed(
            f"Suite '{slug}' exists in several projects ({', '.join(names)}); "
            "say which with 'project'",
            details={"field": "project", "projects": names},
        )
    return found[0][0]


async def list_suites(
    session: AsyncSession, auth: AuthContext, project_slug: str, offset: int, limit: int
) -> tuple[list[SuiteView], int]:
    project = await projects.get_project(session, auth, project_slug)
    suites, total = await repository.list_page(session, auth.org_id, project.id, offset, limit)
    counts = await repository.case_counts(session, [s.id for s in suites])
    return [SuiteView(s, *counts.get(s.id, (0, 0))) for s in suites], total


async def create_suite(
    session: AsyncSession, auth: AuthContext, project_slug: str, body: SuiteCreate
) -> SuiteView:
    project = await projects.get_project(session, auth, project_slug)
    suite = await add_suite(session, project, body)
    return SuiteView(suite, 0, 0)


async def add_suite(session: AsyncSession, project: Project, body: SuiteCreate) -> Suite:
    slug = body.slug or slugify(body.name)
    taken = Conflict(f"Suite slug '{slug}' is taken in this project", details={"field": "slug"})
    if await repository.by_slug(session, project.org_id, project.id, slug) is not None:
        raise taken
    suite = repository.add(
        session,
        Suite(
            org_id=project.org_id,
            project_id=project.id,
            name=body.name,
            slug=slug,
            description=body.description,
            pass_threshold=body.pass_threshold,
            on_inconclusive=body.on_inconclusive,
            batch_threshold=body.batch_threshold,
            baseline_branch=body.baseline_branch,
            fail_on_regression=body.fail_on_regression,
        ),
    )
    await flush_or_conflict(session, taken)
    return suite


async def update_suite(
    session: AsyncSession,
    auth: AuthContext,
    project_slug: str,
    suite_slug: str,
    body: SuiteUpdate,
) -> SuiteView:
    project, suite = await _in_project(session, auth, project_slug, suite_slug)
    changes = body.model_dump(exclude_unset=True)
    new_slug = changes.get("slug")
    if new_slug not in (None, suite.slug) and await repository.by_slug(
        session, auth.org_id, project.id, new_slug
    ):
        raise Conflict(
            f"Suite slug '{new_slug}' is taken in this project", details={"field": "slug"}
        )
    for field in (
        "name",
        "slug",
        "pass_threshold",
        "on_inconclusive",
        "batch_threshold",
        "baseline_branch",
        "fail_on_regression",
    ):
        if changes.get(field) is not None:
            setattr(suite, field, changes[field])
    if "description" in changes:
        suite.description = changes["description"]
    await flush_or_conflict(
        session,
        Conflict(f"Suite slug '{suite.slug}' is taken in this project", details={"field": "slug"}),
    )
    return await _view(session, suite)


async def delete_suite(
    session: AsyncSession, auth: AuthContext, project_slug: str, suite_slug: str
) -> None:
    """Deletes the suite with its cases and runs."""
    _, suite = await _in_project(session, auth, project_slug, suite_slug)
    await repository.delete(session, suite)
