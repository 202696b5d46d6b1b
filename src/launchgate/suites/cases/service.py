from __future__ import annotations

import uuid

from sqlalchemy.ext.asyncio import AsyncSession

from launchgate.errors import NotFound, ValidationFailed
from launchgate.kit.auth_context import AuthContext
from launchgate.kit.time import utcnow
from launchgate.models import Case, Suite
from launchgate.scorers import service as scorers
from launchgate.suites import service as suites
from launchgate.suites.cases import repository
from launchgate.suites.cases.schemas import CaseCreate, CaseReorder, CaseUpdate


async def _check_scorer(
    session: AsyncSession, auth: AuthContext, suite: Suite, scorer_id: uuid.UUID
) -> None:
    """A case may only use a live scorer of its own suite's project."""
    found = await scorers.scorers_by_id(session, auth.org_id, {scorer_id})
    scorer = found.get(scorer_id)
    if scorer is None or scorer.project_id != suite.project_id:
        raise ValidationFailed(
            f"Scorer '{scorer_id}' does not exist in this suite's project",
            details=[{"field": "scorer_id", "message": "unknown scorer"}],
        )


async def get_case(session: AsyncSession, auth: AuthContext, case_id: uuid.UUID) -> Case:
    case = await repository.get(session, auth.org_id, case_id)
    if case is None:
        raise NotFound.of("Case", case_id)
    return case


async def list_cases(
    session: AsyncSession, auth: AuthContext, suite_id: uuid.UUID, offset: int, limit: int
) -> tuple[list[Case], int]:
    suite = await suites.get_suite_by_id(session, auth, suite_id)
    return await repository.list_page(session, suite.id, offset, limit)


async def create_case(
    session: AsyncSession, auth: AuthContext, suite_id: uuid.UUID, body: CaseCreate
) -> Case:
    suite = await suites.get_suite_by_id(session, auth, suite_id)
    await _check_scorer(session, auth, suite, body.scorer_id)
    return await add_case(session, suite, body)


async def add_case(session: AsyncSession, suite: Suite, body: CaseCreate) -> Case:
    case = repository.add(
        session,
        Case(
            org_id=suite.org_id,
            suite_id=suite.id,
            scorer_id=body.scorer_id,
            name=body.name,
            input=body.input,
            expected=body.expected,
            threshold=body.threshold,
            weight=body.weight,
            is_active=body.is_active,
            position=await repository.next_position(session, suite.id),
        ),
    )
    await session.flush()
    return case


async def update_case(
    session: AsyncSession, auth: AuthContext, case_id: uuid.UUID, body: CaseUpdate
) -> Case:
    case = await get_case(session, auth, case_id)
    changes = body.model_dump(exclude_unset=True)
    # Reactivating re-checks the scorer too: it may have been deleted while the case was
    # inactive, and an active case must never point at a deleted scorer.
    if changes.get("scorer_id") is not None or changes.get("is_active") is True:
        suite = await suites.get_suite_by_id(session, auth, case.suite_id)
        await _check_scorer(session, auth, suite, changes.get("scorer_id") or case.scorer_id)
    for field in ("name", "input", "scorer_id", "threshold", "weight", "is_active"):
        if changes.get(field) is not None:
            setattr(case, field, changes[field])
    if "expected" in changes:
        case.expected = changes["expected"]
    await session.flush()
    return case


async def delete_case(session: AsyncSession, auth: AuthContext, case_id: uuid.UUID) -> None:
    case = await get_case(session, auth, case_id)
    case.deleted_at = utcnow()


async def reorder_cases(
    session: AsyncSession, auth: AuthContext, suite_id: uuid.UUID, body: CaseReorder
) -> list[Case]:
    suite = await suites.get_suite_by_id(session, auth, suite_id)
    cases = await repository.all_in_suite(session, suite.id)
    by_id = {c.id: c for c in cases}
    if len(body.case_ids) != len(set(body.case_ids)) or set(body.case_ids) != set(by_id):
        raise ValidationFailed(
            "case_ids must name every case of the suite exactly once",
            details={"expected": len(by_id), "given": len(body.case_ids)},
        )
    for position, case_id in enumerate(body.case_ids):
        by_id[case_id].position = position
    await session.flush()
    return [by_id[i] for i in body.case_ids]


async def active_cases(session: AsyncSession, suite: Suite) -> list[Case]:
    """The cases a run of ``suite`` scores, in position order."""
    return await repository.active_in_suite(session, suite.id)
