"""Scorer rules: configs are validated (and normalised) when written, so a run never
meets a scorer it cannot execute."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from launchgate.errors import Conflict, NotFound, ValidationFailed
from launchgate.kit.auth_context import AuthContext
from launchgate.kit.time import utcnow
from launchgate.models import Project, Scorer
from launchgate.projects import service as projects
from launchgate.scorers import repository
from launchgate.scorers.builtin import ScorerConfigError, validate_config
from launchgate.scorers.schemas import ScorerCreate, ScorerUpdate


async def checked_config(
    scorer_type: str, config: dict[str, Any], dual_sided: bool
) -> dict[str, Any]:
    """The normalised config, or ValidationFailed naming the offending key.

    Checking compiles patterns (up to ~0.2 s each at the limits of pattern_cost, a few for
    a schema): in a worker thread, so the event loop keeps answering meanwhile."""
    try:
        return await asyncio.to_thread(validate_config, scorer_type, config, dual_sided=dual_sided)
    except ScorerConfigError as exc:
        raise ValidationFailed(
            f"Invalid {scorer_type} config: {exc}",
            details=[{"field": exc.path, "message": str(exc)}],
        ) from None


async def get_scorer(session: AsyncSession, auth: AuthContext, scorer_id: uuid.UUID) -> Scorer:
    scorer = await repository.get(session, auth.org_id, scorer_id)
    if scorer is None:
        raise NotFound.of("Scorer", scorer_id)
    return scorer


async def list_scorers(
    session: AsyncSession, auth: AuthContext, project_slug: str, offset: int, limit: int
) -> tuple[list[Scorer], int]:
    project = await projects.get_project(session, auth, project_slug)
    return await repository.list_page(session, auth.org_id, project.id, offset, limit)


async def create_scorer(
    session: AsyncSession, auth: AuthContext, project_slug: str, body: ScorerCreate
) -> Scorer:
    project = await projects.get_project(session, auth, project_slug)
    return await add_scorer(session, project, body)


async def add_scorer(session: AsyncSession, project: Project, body: ScorerCreate) -> Scorer:
    """Also used by templates, which create scorers inside a project they already hold."""
    config = await checked_config(body.type, body.config, body.dual_sided)
    if await repository.name_taken(session, project.org_id, project.id, body.name):
        raise Conflict(
            f"Scorer name '{body.name}' is taken in this project", details={"field": "name"}
        )
    scorer = repository.add(
        session,
        Scorer(
            org_id=project.org_id,
            project_id=project.id,
            name=body.name,
            type=body.type,
            config=config,
            dual_sided=body.dual_sided,
            precision_threshold=body.precision_threshold,
            recall_threshold=body.recall_threshold,
        ),
    )
    await session.flush()
    return scorer


async def update_scorer(
    session: AsyncSession, auth: AuthContext, scorer_id: uuid.UUID, body: ScorerUpdate
) -> Scorer:
    scorer = await get_scorer(session, auth, scorer_id)
    changes = body.model_dump(exclude_unset=True)
    dual_sided = changes.get("dual_sided")
    if dual_sided is None:
        dual_sided = scorer.dual_sided
    config = changes.get("config")
    if config is None:
        # The stored config carries what it was normalised with (the dual-sided flag, an
        # empty ``forbidden`` list); a flip of ``dual_sided`` alone re-validates the rest
        # under the new setting. A non-empty ``forbidden`` list still needs a new config.
        config = {
            k: v
            for k, v in scorer.config.items()
            if k != "dual_sided" and not (k == "forbidden" and not v)
        }
    scorer.config = await checked_config(scorer.type, config, dual_sided)
    scorer.dual_sided = dual_sided
    if changes.get("name") not in (None, scorer.name):
        if await repository.name_taken(
            session, auth.org_id, scorer.project_id, changes["name"], exclude=scorer.id
        ):
            raise Conflict(
                f"Scorer name '{changes['name']}' is taken in this project",
                details={"field": "name"},
            )
        scorer.name = changes["name"]
    for field in ("precision_threshold", "recall_threshold"):
        if field in changes:
            setattr(scorer, field, changes[field])
    await session.flush()
    return scorer


async def delete_scorer(session: AsyncSession, auth: AuthContext, scorer_id: uuid.UUID) -> None:
    scorer = await get_scorer(session, auth, scorer_id)
    in_use = await repository.in_use_by_active_cases(session, scorer.id)
    if in_use:
        raise Conflict(
            f"Scorer is used by {in_use} active case(s); delete or deactivate them first",
            details={"active_cases": in_use},
        )
    scorer.deleted_at = utcnow()


async def scorers_by_id(
    session: AsyncSession, org_id: uuid.UUID, scorer_ids: set[uuid.UUID]
) -> dict[uuid.UUID, Scorer]:
    return await repository.get_many(session, org_id, scorer_ids)
