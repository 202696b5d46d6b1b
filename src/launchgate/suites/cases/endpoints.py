from __future__ import annotations

from uuid import UUID

from fastapi import APIRouter, Response

from launchgate.deps import CurrentAuth, SessionDep
from launchgate.kit.pagination import Envelope, Page, Paging
from launchgate.suites.cases import service
from launchgate.suites.cases.schemas import CaseCreate, CaseOut, CaseReorder, CaseUpdate

router = APIRouter(tags=["cases"])


@router.get("/suites/{suite_id}/cases", response_model=Page[CaseOut])
async def list_cases(
    suite_id: UUID, auth: CurrentAuth, session: SessionDep, paging: Paging
) -> Page[CaseOut]:
    items, total = await service.list_cases(
        session, auth, suite_id, paging.offset, paging.page_size
    )
    return Page.of([CaseOut.model_validate(c) for c in items], total, paging)


@router.post("/suites/{suite_id}/cases", response_model=Envelope[CaseOut], status_code=201)
async def create_case(
    suite_id: UUID, body: CaseCreate, auth: CurrentAuth, session: SessionDep
) -> Envelope[CaseOut]:
    case = await service.create_case(session, auth, suite_id, body)
    return Envelope(data=CaseOut.model_validate(case))


@router.post("/suites/{suite_id}/cases/reorder", response_model=Envelope[list[CaseOut]])
async def reorder_cases(
    suite_id: UUID, body: CaseReorder, auth: CurrentAuth, session: SessionDep
) -> Envelope[list[CaseOut]]:
    cases = await service.reorder_cases(session, auth, suite_id, body)
    return Envelope(data=[CaseOut.model_validate(c) for c in cases])


@router.get("/cases/{case_id}", response_model=Envelope[CaseOut])
async def get_case(case_id: UUID, auth: CurrentAuth, session: SessionDep) -> Envelope[CaseOut]:
    return Envelope(data=CaseOut.model_validate(await service.get_case(session, auth, case_id)))


@router.patch("/cases/{case_id}", response_model=Envelope[CaseOut])
async def update_case(
    case_id: UUID, body: CaseUpdate, auth: CurrentAuth, session: SessionDep
) -> Envelope[CaseOut]:
    case = await service.update_case(session, auth, case_id, body)
    return Envelope(data=CaseOut.model_validate(case))


@router.delete("/cases/{case_id}", status_code=204, response_class=Response)
async def delete_case(case_id: UUID, auth: CurrentAuth, session: SessionDep) -> Response:
    await service.delete_case(session, auth, case_id)
    return Response(status_code=204)
