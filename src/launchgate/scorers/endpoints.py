from __future__ import annotations

from uuid import UUID

from fastapi import APIRouter, Response

from launchgate.deps import CurrentAuth, SessionDep
from launchgate.kit.pagination import Envelope, Page, Paging
from launchgate.scorers import service
from launchgate.scorers.schemas import ScorerCreate, ScorerOut, ScorerUpdate

router = APIRouter(tags=["scorers"])


@router.get("/projects/{slug}/scorers", response_model=Page[ScorerOut])
async def list_scorers(
    slug: str, auth: CurrentAuth, session: SessionDep, paging: Paging
) -> Page[ScorerOut]:
    items, total = await service.list_scorers(session, auth, slug, paging.offset, paging.page_size)
    return Page.of([ScorerOut.model_validate(s) for s in items], total, paging)


@router.post("/projects/{slug}/scorers", response_model=Envelope[ScorerOut], status_code=201)
async def create_scorer(
    slug: str, body: ScorerCreate, auth: CurrentAuth, session: SessionDep
) -> Envelope[ScorerOut]:
    scorer = await service.create_scorer(session, auth, slug, body)
    return Envelope(data=ScorerOut.model_validate(scorer))


@router.get("/scorers/{scorer_id}", response_model=Envelope[ScorerOut])
async def get_scorer(
    scorer_id: UUID, auth: CurrentAuth, session: SessionDep
) -> Envelope[ScorerOut]:
    scorer = await service.get_scorer(session, auth, scorer_id)
    return Envelope(data=ScorerOut.model_validate(scorer))


@router.patch("/scorers/{scorer_id}", response_model=Envelope[ScorerOut])
async def update_scorer(
    scorer_id: UUID, body: ScorerUpdate, auth: CurrentAuth, session: SessionDep
) -> Envelope[ScorerOut]:
    scorer = await service.update_scorer(session, auth, scorer_id, body)
    return Envelope(data=ScorerOut.model_validate(scorer))


@router.delete("/scorers/{scorer_id}", status_code=204, response_class=Response)
async def delete_scorer(scorer_id: UUID, auth: CurrentAuth, session: SessionDep) -> Response:
    await service.delete_scorer(session, auth, scorer_id)
    return Response(status_code=204)
