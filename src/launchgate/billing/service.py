from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from launchgate.billing import repository
from launchgate.billing.plans import PLANS, Plan
from launchgate.errors import UsageLimitExceeded
from launchgate.kit.time import month_key, utcnow
from launchgate.models import Organisation
from launchgate.orgs import service as orgs


@dataclass(frozen=True)
class Usage:
    plan: str
    plan_name: str
    monthly_limit: int | None
    current_usage: int
    retention_days: int | None
    usage_percentage: float


def plan_of(org: Organisation) -> Plan:
    return PLANS.get(org.plan, PLANS["free"])


def retention_days(org: Organisation, enterprise_default: int | None) -> int | None:
    plan = plan_of(org)
    if plan.slug == "enterprise":
        return org.retention_days if org.retention_days is not None else enterprise_default
    return plan.retention_days


async def usage(
    session: AsyncSession, org_id: uuid.UUID, enterprise_retention: int | None = None
) -> Usage:
    org = await orgs.get_org(session, org_id)
    plan = plan_of(org)
    used = await repository.runs_in_period(session, org.id, month_key(utcnow()))
    percentage = round(100.0 * used / plan.monthly_limit, 2) if plan.monthly_limit else 0.0
    return Usage(plan.slug, plan.name, plan.monthly_limit, used,
                 retention_days(org, enterprise_retention), percentage)


async def check_can_run(session: AsyncSession, org_id: uuid.UUID) -> None:
    """402 before any work once the month's runs are used (SPEC §5.9)."""
    org = await orgs.get_org(session, org_id)
    limit = plan_of(org).monthly_limit
    if limit is None:
        return
    used = await repository.runs_in_period(session, org.id, month_key(utcnow()))
    if used >= limit:
        raise UsageLimitExceeded(
            f"Monthly run limit of {limit} reached on the {plan_of(org).name} plan",
            details={"plan": org.plan, "monthly_limit": limit, "current_usage": used},
        )


async def record_run(session: AsyncSession, org_id: uuid.UUID, at: datetime) -> None:
    await repository.add_run(session, org_id, month_key(at))


async def sweep_retention(session: AsyncSession, enterprise_default: int | None) -> int:
    """Delete runs older than each organisation's retention; returns how many."""
    deleted = 0
    now = utcnow()
    for org in await repository.organisations(session):
        days = retention_days(org, enterprise_default)
        if days is not None:
            deleted += await repository.delete_runs_before(
                session, org.id, now - timedelta(days=days)
            )
    return deleted
