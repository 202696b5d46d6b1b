from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncSession

from launchgate.api_keys import service as api_keys
from launchgate.billing import repository, stripe_service
from launchgate.billing.costs import rounded, spend_by_model
from launchgate.billing.plans import PLANS, Plan
from launchgate.errors import UsageLimitExceeded
from launchgate.kit.auth_context import AuthContext
from launchgate.kit.time import as_utc, month_key, utcnow
from launchgate.models import Organisation
from launchgate.orgs import service as orgs
from launchgate.sdk.money import usd

# GET /v1/billing/usage warns from this share of the judge budget on (docs/cost.md).
BUDGET_WARNING_AT = 0.8


@dataclass(frozen=True)
class JudgeSpendSummary:
    """This calendar month's judge spend (UTC), as ``GET /v1/billing/usage`` shows it."""

    month_usd: float
    budget_usd: float | None
    budget_used: float | None
    warning: str | None
    by_model: list[dict[str, Any]] = field(default_factory=list)
    by_day: list[dict[str, Any]] = field(default_factory=list)


@dataclass(frozen=True)
class Usage:
    plan: str
    plan_name: str
    monthly_limit: int | None
    current_usage: int
    retention_days: int | None
    usage_percentage: float
    judge_spend: JudgeSpendSummary | None = None


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
        await judge_spend(session, org.id, org.judge_budget_usd_monthly),
    )


def month_bounds(at: datetime) -> tuple[date, date]:
    """The first day of ``at``'s calendar month (UTC) and the first day of the next."""
    first = at.date().replace(day=1)
    following = (first + timedelta(days=32)).replace(day=1)
    return first, following


def budget_warning(spent: float, budget: float | None) -> str | None:
    """Set from 80% of the budget on; says what happens at 100%."""
    if budget is None or spent < BUDGET_WARNING_AT * budget:
        return None
    if spent >= budget:
        return (
            f"The monthly judge budget of {usd(budget)} is spent ({usd(spent)}): judge cases "
            "end in error JUDGE_BUDGET_EXCEEDED until next month or a higher budget"
        )
    return (
        f"Judge spend is at {100 * spent / budget:.0f}% of the monthly budget of {usd(budget)} "
        f"({usd(spent)}); at 100% judge cases end in error JUDGE_BUDGET_EXCEEDED"
    )


async def judge_spend(
    session: AsyncSession, org_id: uuid.UUID, budget: float | None
) -> JudgeSpendSummary:
    first, end = month_bounds(utcnow())
    rows = await repository.spend_rows(session, org_id, first, end)
    models: dict[tuple[str, str], dict[str, Any]] = {}
    days: dict[date, dict[str, Any]] = {}
    for row in rows:
        model = models.setdefault(
            (row.provider, row.model),
            {
                "provider": row.provider,
                "model": row.model,
                "calls": 0,
                "input_tokens": 0,
                "output_tokens": 0,
                "cost_usd": 0.0,
            },
        )
        model["calls"] += row.calls
        model["input_tokens"] += row.input_tokens
        model["output_tokens"] += row.output_tokens
        model["cost_usd"] = (
            None
            if row.cost_usd is None or model["cost_usd"] is None
            else model["cost_usd"] + row.cost_usd
        )
        day = days.setdefault(row.day, {"date": row.day.isoformat(), "cost_usd": 0.0, "calls": 0})
        day["cost_usd"] += row.cost_usd or 0.0
        day["calls"] += row.calls
    for entry in [*models.values(), *days.values()]:
        entry["cost_usd"] = rounded(entry["cost_usd"])
    spent = round(sum(row.cost_usd or 0.0 for row in rows), 6)
    return JudgeSpendSummary(
        month_usd=spent,
        budget_usd=budget,
        budget_used=None if budget is None else round(spent / budget, 4),
        warning=budget_warning(spent, budget),
        by_model=sorted(models.values(), key=lambda m: (m["provider"], m["model"])),
        by_day=[days[day] for day in sorted(days)],
    )


def spend_rows(
    org_id: uuid.UUID, at: datetime, scores: Iterable[dict[str, Any]] | None
) -> list[dict[str, Any]]:
    """A completed run's judge spend as rows to add, one per provider+model."""
    day = as_utc(at).date()
    return [
        {
            "org_id": org_id,
            "day": day,
            "provider": provider,
            "model": model,
            "calls": spend.calls,
            "input_tokens": spend.input_tokens,
            "output_tokens": spend.output_tokens,
            "cached_input_tokens": spend.cached_input_tokens,
            "estimated_input_tokens": spend.estimated_input_tokens,
            "cost_usd": spend.cost_usd,
        }
        for (provider, model), spend in spend_by_model(scores).items()
    ]


async def record_spend(session: AsyncSession, org_id: uuid.UUID, at: datetime, scores: Any) -> None:
    """In the run's completion transaction: its judge calls are this month's spend."""
    await repository.add_spend(session, spend_rows(org_id, at, scores))


def record_spend_sync(connection: Connection, rows: list[dict[str, Any]]) -> None:
    """The run writer's thread, inside its transaction."""
    repository.add_spend_sync(connection, rows)


async def month_spend(session: AsyncSession, org_id: uuid.UUID) -> float:
    """This calendar month's stored judge spend: where a budget counter starts."""
    first, end = month_bounds(utcnow())
    return await repository.month_spend(session, org_id, first, end)


async def judge_budget(session: AsyncSession, org_id: uuid.UUID) -> float | None:
    return await repository.judge_budget(session, org_id)


async def input_token_ratios(
    session: AsyncSession, org_id: uuid.UUID
) -> dict[tuple[str, str], float]:
    """Actual / estimated input tokens per (provider, model) over the organisation's past
    judge calls (``estimate_input_tokens`` is recorded beside every call's actual count):
    the correction a dry run applies to its estimate."""
    return {
        (provider, model): actual / estimated
        for provider, model, actual, estimated in await repository.token_totals(session, org_id)
        if estimated > 0
    }


async def check_can_run(
    session: AsyncSession,
    org_id: uuid.UUID,
    plan: str,
    *,
    runs: int = 1,
    caller: AuthContext | None = None,
) -> None:
    """402 before any work when the month's runs cannot hold ``runs`` more (SPEC §5.9; a
    batch needs room for every item). ``plan`` comes from the caller's already-read
    organisation facts, so unlimited plans cost no query; the month's runs too when they
    were read with the caller's API key (one statement, ``api_keys.service.KeyCaller``)."""
    chosen = PLANS.get(plan, PLANS["free"])
    if chosen.monthly_limit is None:
        return
    period = month_key(utcnow())
    used = api_keys.runs_read_with(caller, org_id, period)
    if used is None:
        used = await repository.runs_in_period(session, org_id, period)
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


def runs_count_for_driver(
    counts: dict[tuple[uuid.UUID, str], int],
) -> tuple[str, dict[str, Any]] | None:
    """``record_runs_sync`` of a one-run batch (at most one ``(org_id, period)``) as one
    statement for psycopg and its parameters, or None when the run is not counted."""
    if not counts:
        return None
    ((org_id, period), runs), *more = counts.items()
    if more:
        raise ValueError("one count at most: a batch of one run")
    return repository.runs_upsert_for_driver(org_id, period, runs)


async def sweep_retention(session: AsyncSession, enterprise_default: int | None) -> int:
    """Delete runs older than each organisation's retention, and the Stripe webhook events
    no longer needed (docs/billing.md); returns how many runs."""
    deleted = 0
    now = utcnow()
    await stripe_service.prune_events(session, now)
    for org in await repository.organisations(session):
        days = retention_days(org, enterprise_default)
        if days is not None:
            deleted += await repository.delete_runs_before(
                session, org.id, now - timedelta(days=days)
            )
    return deleted
