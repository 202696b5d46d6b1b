from __future__ import annotations

import uuid
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from launchgate.api_keys import service as api_keys
from launchgate.config import PLANS
from launchgate.errors import NotFound, ValidationFailed
from launchgate.kit.schema import single_line_problem
from launchgate.models import Organisation
from launchgate.orgs import repository
from launchgate.orgs.cache import FactsCache


@dataclass(frozen=True)
class NewOrganisation:
    org: Organisation
    api_key: str  # shown once


async def create_org(session: AsyncSession, name: str, plan: str) -> NewOrganisation:
    """An organisation and its first live API key, the way ``launchgate orgs create`` needs."""
    name = name.strip()
    if not name or len(name) > 200:
        raise ValidationFailed("organisation name must be 1–200 characters")
    problem = single_line_problem(name)
    if problem:
        raise ValidationFailed(f"organisation name {problem}")
    if plan not in PLANS:
        raise ValidationFailed(f"plan must be one of {', '.join(PLANS)}")
    org = repository.add(session, Organisation(name=name, plan=plan))
    await session.flush()
    created = await api_keys.create_key(session, org.id, name="Default key", mode="live")
    return NewOrganisation(org=org, api_key=created.secret)


async def get_org(session: AsyncSession, org_id: uuid.UUID) -> Organisation:
    org = await repository.get(session, org_id)
    if org is None:
        raise NotFound.of("Organisation", org_id)
    return org


@dataclass(frozen=True, slots=True)
class OrgFacts:
    plan: str
    config_version: int


async def get_facts(
    session: AsyncSession, org_id: uuid.UUID, cache: FactsCache | None = None
) -> OrgFacts:
    facts = cache.get(org_id) if cache is not None else None
    if facts is None:
        found = await repository.facts(session, org_id)
        if found is None:
            raise NotFound.of("Organisation", org_id)
        facts = OrgFacts(*found)
        if cache is not None:
            cache.put(org_id, facts)
    return facts
