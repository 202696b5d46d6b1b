from __future__ import annotations

from fastapi import APIRouter, Response

from launchgate.deps import CurrentAuth, SessionDep
from launchgate.kit.pagination import Envelope, Page, Paging
from launchgate.projects import service
from launchgate.projects.schemas import ProjectCreate, ProjectOut, ProjectUpdate

router = APIRouter(prefix="/projects", tags=["projects"])


@router.get("", response_model=Page[ProjectOut])
async def list_projects(auth: CurrentAuth, session: SessionDep, paging: Paging) -> Page[ProjectOut]:
    items, total = await service.list_projects(session, auth, paging.offset, paging.page_size)
    return Page.of([ProjectOut.model_validate(p) for p in items], total, paging)


@router.post("", response_model=Envelope[ProjectOut], status_code=201)
async def create_project(
    body: ProjectCreate, auth: CurrentAuth, session: SessionDep
) -> Envelope[ProjectOut]:
    project = await service.create_project(session, auth, body)
    return Envelope(data=ProjectOut.model_validate(project))


@router.get("/{slug}", response_model=Envelope[ProjectOut])
async def get_project(slug: str, auth: CurrentAuth, session: SessionDep) -> Envelope[ProjectOut]:
    return Envelope(data=ProjectOut.model_validate(await service.get_project(session, auth, slug)))


@router.patch("/{slug}", response_model=Envelope[ProjectOut])
async def update_project(
    slug: str, body: ProjectUpdate, auth: CurrentAuth, session: SessionDep
) -> Envelope[ProjectOut]:
    project = await service.update_project(session, auth, slug, body)
    return Envelope(data=ProjectOut.model_validate(project))


@router.delete("/{slug}", status_code=204, response_class=Response)
async def delete_project(slug: str, auth: CurrentAuth, session: SessionDep) -> Response:
    await service.delete_project(session, auth, slug)
    return Response(status_code=204)
