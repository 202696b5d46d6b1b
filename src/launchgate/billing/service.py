from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.engine import Connection
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
    return Usage(
        plan.slug,
        plan.name,
        plan.monthly_limit,
        used,
        retention_days(org, enterprise_retention),
        percentage,
    )


async def check_can_run(
    session: AsyncSession, org_id: uuid.UUID, plan: str, *, runs: int = 1
) -> None:
    """402 before any work when the month's runs cannot hold ``runs`` more (SPEC §5.9; a
    batch needs room for every item). ``plan`` comes from the caller's already-read
    organisation facts, so unlimited plans cost no query."""
    chosen = PLANS.get(plan, PLANS["free"])
    if chosen.monthly_limit is None:
        return
    used = await repository.runs_in_period(session, org_id, month_key(utcnow()))
    if used + runs > chosen.monthly_limit:
        left = max(0, chosen.monthly_limit - used)
        message = (
            f"Monthly run limit of {chosen.monthly_limit} reached on the {chosen.name} plan"
            if runs == 1 or left == 0
            else f"A batch of {runs} items needs {runs} runs; {left} of the monthly limit "
            f"of {chosen.monthly_limit} remain on the {chosen.name} plan"
        )
        raise UsageLimitExceeded(
            message,
            details={
                "plan": chosen.slug,
                "monthly_limit": chosen.monthly_limit,
                "current_usage": used,
            },
        )


def is_billed(status: str, billable: bool) -> bool:
    """SPEC §5.9: a run counts when it ends cleared, aborted or (issue 13) inconclusive,
    unless made with a test key."""
    return billable and status in ("cleared", "aborted", "inconclusive")


async def record_run(session: AsyncSession, org_id: uuid.UUID, at: datetime) -> None:
    await repository.add_runs(session, org_id, month_key(at), 1)


def record_runs_sync(connection: Connection, counts: dict[tuple[uuid.UUID, str], int]) -> None:
    """Count a batch of runs, ``(org_id, period) → runs``, one upsert per pair (the run
    writer's thread, inside its transaction)."""
    for (org_id, period), runs in counts.items():
        repository.add_runs_sync(connection, org_id, period, runs)


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
