from __future__ import annotations

import uuid

from sqlalchemy.ext.asyncio import AsyncSession

from launchgate.errors import Conflict, NotFound
from launchgate.kit.auth_context import AuthContext
from launchgate.kit.slugs import slugify
from launchgate.kit.unique import flush_or_conflict
from launchgate.models import Project
from launchgate.projects import repository
from launchgate.projects.schemas import ProjectCreate, ProjectUpdate


async def get_project(session: AsyncSession, auth: AuthContext, slug: str) -> Project:
    project = await repository.by_slug(session, auth.org_id, slug)
    if project is None:
        raise NotFound.of("Project", slug)
    return project


async def get_project_by_id(
    session: AsyncSession, auth: AuthContext, project_id: uuid.UUID
) -> Project:
    """For pages reached by an id (a run) that link back to their project by slug."""
    project = await repository.by_id(session, auth.org_id, project_id)
    if project is None:
        raise NotFound.of("Project", project_id)
    return project


async def list_projects(
    session: AsyncSession, auth: AuthContext, offset: int, limit: int
) -> tuple[list[Project], int]:
    return await repository.list_page(session, auth.org_id, offset, limit)


async def create_project(session: AsyncSession, auth: AuthContext, body: ProjectCreate) -> Project:
    slug = body.slug or slugify(body.name)
    taken = Conflict(f"Project slug '{slug}' is taken", details={"field": "slug"})
    if await repository.slug_taken(session, auth.org_id, slug):
        raise taken
    project = repository.add(
        session,
        Project(org_id=auth.org_id, name=body.name, slug=slug, description=body.description),
    )
    await flush_or_conflict(session, taken)
    return project


async def update_project(
    session: AsyncSession, auth: AuthContext, slug: str, body: ProjectUpdate
) -> Project:
    project = await get_project(session, auth, slug)
    changes = body.model_dump(exclude_unset=True)
    if changes.get("slug") not in (None, project.slug) and await repository.slug_taken(
        session, auth.org_id, changes["slug"]
    ):
        raise Conflict(f"Project slug '{changes['slug']}' is taken", details={"field": "slug"})
    for field in ("name", "slug"):
        if changes.get(field) is not None:
            setattr(project, field, changes[field])
    if "description" in changes:
        project.description = changes["description"]
    await flush_or_conflict(
        session, Conflict(f"Project slug '{project.slug}' is taken", details={"field": "slug"})
    )
    return project


async def delete_project(session: AsyncSession, auth: AuthContext, slug: str) -> None:
    """Deletes the project with its suites, scorers, cases and runs (ON DELETE CASCADE)."""
    project = await get_project(session, auth, slug)
    await repository.delete(session, project)
