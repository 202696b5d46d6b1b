from __future__ import annotations

from fastapi import APIRouter, Response

from launchgate.deps import CurrentAuth, SessionDep
from launchgate.kit.pagination import Envelope, Page, Paging
from launchgate.suites import from_template, service
from launchgate.suites.schemas import SuiteCreate, SuiteFromTemplate, SuiteOut, SuiteUpdate
from launchgate.suites.service import SuiteView

router = APIRouter(prefix="/projects/{slug}/suites", tags=["suites"])


def _out(view: SuiteView) -> SuiteOut:
    out = SuiteOut.model_validate(view.suite)
    out.case_count, out.active_case_count = view.case_count, view.active_case_count
    return out


@router.get("", response_model=Page[SuiteOut])
async def list_suites(
    slug: str, auth: CurrentAuth, session: SessionDep, paging: Paging
) -> Page[SuiteOut]:
    views, total = await service.list_suites(session, auth, slug, paging.offset, paging.page_size)
    return Page.of([_out(v) for v in views], total, paging)


@router.post("", response_model=Envelope[SuiteOut], status_code=201)
async def create_suite(
    slug: str, body: SuiteCreate, auth: CurrentAuth, session: SessionDep
) -> Envelope[SuiteOut]:
    return Envelope(data=_out(await service.create_suite(session, auth, slug, body)))


@router.post("/from-template", response_model=Envelope[SuiteOut], status_code=201)
async def create_suite_from_template(
    slug: str, body: SuiteFromTemplate, auth: CurrentAuth, session: SessionDep
) -> Envelope[SuiteOut]:
    return Envelope(data=_out(await from_template.create_from_template(session, auth, slug, body)))


@router.get("/{suite_slug}", response_model=Envelope[SuiteOut])
async def get_suite(
    slug: str, suite_slug: str, auth: CurrentAuth, session: SessionDep
) -> Envelope[SuiteOut]:
    return Envelope(data=_out(await service.get_suite(session, auth, slug, suite_slug)))


@router.patch("/{suite_slug}", response_model=Envelope[SuiteOut])
async def update_suite(
    slug: str, suite_slug: str, body: SuiteUpdate, auth: CurrentAuth, session: SessionDep
) -> Envelope[SuiteOut]:
    view = await service.update_suite(session, auth, slug, suite_slug, body)
    return Envelope(data=_out(view))


@router.delete("/{suite_slug}", status_code=204, response_class=Response)
async def delete_suite(
    slug: str, suite_slug: str, auth: CurrentAuth, session: SessionDep
) -> Response:
    await service.delete_suite(session, auth, slug, suite_slug)
    return Response(status_code=204)
