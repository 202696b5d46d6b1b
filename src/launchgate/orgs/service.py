from __future__ import annotations

import math
import uuid
from dataclasses import dataclass
from typing import Any, ClassVar

from sqlalchemy.ext.asyncio import AsyncSession

from launchgate.api_keys import service as api_keys
from launchgate.audit import service as audit
from launchgate.config import PLANS
from launchgate.errors import LaunchGateError, NotFound, ValidationFailed
from launchgate.kit.auth_context import AuthContext
from launchgate.kit.schema import single_line_problem
from launchgate.kit.slugs import slugify
from launchgate.models import Organisation
from launchgate.orgs import repository
from launchgate.orgs.cache import FactsCache
from launchgate.orgs.schemas import MAX_BUDGET_USD


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


PLAN_CHANGED = "organization.plan_changed"  # the audit action, here and for Stripe's webhook


async def set_plan(session: AsyncSession, org_id: uuid.UUID, plan: str) -> str:
    """An operator's plan change (``launchgate orgs set-plan``); returns the plan before.
    Audited as a Stripe webhook's change is, with the system as actor; the same plan again
    changes and records nothing."""
    if plan not in PLANS:
        raise ValidationFailed(f"plan must be one of {', '.join(PLANS)}")
    org = await get_org(session, org_id)
    before = org.plan
    if before != plan:
        org.plan = plan
        details = {"plan": {"from": before, "to": plan}, "by": "launchgate orgs set-plan"}
        audit.record(session, org.id, None, PLAN_CHANGED, "organization", org.id, details)
        await session.flush()
    return before


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
    session: AsyncSession,
    org_id: uuid.UUID,
    cache: FactsCache | None = None,
    caller: AuthContext | None = None,
) -> OrgFacts:
    """The organisation's plan and config version as this request must see them: from
    ``cache`` in the embedded mode (invalidated on commit by the one process that owns
    the database); else from the ``caller``, when its API key was read together with
    them by this same request (``api_keys.service.KeyCaller``); else read now. Nothing is
    kept across requests when the database is shared: a plan or config change committed
    by another process must show on the next request, and neither LISTEN/NOTIFY nor a
    Redis message arrives in time to guarantee that."""
    if cache is not None:
        facts = cache.get(org_id)
        if facts is None:
            generation = cache.generation  # before the read: see FactsCache.put
            facts = await _read_facts(session, org_id)
            cache.put(org_id, facts, generation)
        return facts
    if isinstance(caller, api_keys.KeyCaller) and caller.org_id == org_id:
        return OrgFacts(caller.plan, caller.config_version)
    return await _read_facts(session, org_id)


async def _read_facts(session: AsyncSession, org_id: uuid.UUID) -> OrgFacts:
    found = await repository.facts(session, org_id)
    if found is None:
        raise NotFound.of("Organisation", org_id)
    return OrgFacts(*found)


# --- the organisation's own settings (GET/PATCH /v1/organization) ------------------------

SETTINGS = ("judge_budget_usd_monthly",)


class OwnersOnly(LaunchGateError):
    """A signed-in member (not an owner) tried to change the organisation's settings."""

    status_code: ClassVar[int] = 403
    code: ClassVar[str] = "FORBIDDEN"


def view(org: Organisation) -> dict[str, Any]:
    return {
        "id": org.id,
        "name": org.name,
        "slug": slugify(org.name),
        "plan": org.plan,
        "judge_budget_usd_monthly": org.judge_budget_usd_monthly,
    }


async def organization(session: AsyncSession, auth: AuthContext) -> dict[str, Any]:
    return view(await get_org(session, auth.org_id))


def check_budget(value: Any) -> float | None:
    """None (no budget), or a number of USD in (0, 1,000,000]; the API's schema checks
    the same, this is for the dashboard's form and any other caller."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise ValidationFailed("judge_budget_usd_monthly must be a number or null")
    if not 0 < value <= MAX_BUDGET_USD:
        raise ValidationFailed(
            f"judge_budget_usd_monthly must be more than 0 and at most {MAX_BUDGET_USD:,}",
            [
                {
                    "field": "judge_budget_usd_monthly",
                    "message": f"must be more than 0 and at most {MAX_BUDGET_USD:,}",
                    "type": "out_of_range",
                }
            ],
        )
    return float(value)


async def update_settings(
    session: AsyncSession, auth: AuthContext, changes: dict[str, Any]
) -> dict[str, Any]:
    """Change the organisation's own settings: API keys of the organisation may, and of the
    signed-in users only owners. Each change is an audit event with the old and new value."""
    unknown = set(changes) - set(SETTINGS)
    if unknown:
        raise ValidationFailed(f"unknown settings: {', '.join(sorted(unknown))}")
    if auth.auth_mode == "jwt" and await repository.user_role(session, auth) != "owner":
        raise OwnersOnly("Only an owner of the organisation may change its settings")
    org = await get_org(session, auth.org_id)
    if "judge_budget_usd_monthly" in changes:
        budget = check_budget(changes["judge_budget_usd_monthly"])
        before = org.judge_budget_usd_monthly
        if budget != before:
            org.judge_budget_usd_monthly = budget
            audit.record(
                session,
                org.id,
                auth,
                "organization.judge_budget_changed",
                "organization",
                org.id,
                {"judge_budget_usd_monthly": {"from": before, "to": budget}},
            )
    await session.flush()
    return view(org)
