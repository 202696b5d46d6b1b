from __future__ import annotations

from dataclasses import asdict

from fastapi import APIRouter
from pydantic import BaseModel, Field

from launchgate.billing import service
from launchgate.deps import CurrentAuth, RuntimeDep, SessionDep

router = APIRouter(prefix="/billing", tags=["billing"])


class ModelSpend(BaseModel):
    provider: str
    model: str
    calls: int
    input_tokens: int
    output_tokens: int
    cost_usd: float | None = Field(description="null when the model has no price")


class DaySpend(BaseModel):
    date: str = Field(description="YYYY-MM-DD (UTC)")
    cost_usd: float = Field(description="The priced calls' cost; unpriced ones count 0")
    calls: int


class JudgeSpendOut(BaseModel):
    """This calendar month's (UTC) judge spend, and the budget (docs/cost.md)."""

    month_usd: float
    budget_usd: float | None = Field(description="judge_budget_usd_monthly; null: no budget")
    budget_used: float | None = Field(description="month_usd / budget_usd, e.g. 0.83")
    warning: str | None = Field(description="Set from 80% of the budget on")
    by_model: list[ModelSpend]
    by_day: list[DaySpend]


class UsageOut(BaseModel):
    """Not wrapped in ``data``: clients depend on this shape (SPEC §2)."""

    plan: str
    plan_name: str
    monthly_limit: int | None
    current_usage: int
    retention_days: int | None
    usage_percentage: float
    judge_spend: JudgeSpendOut


@router.get("/usage", response_model=UsageOut)
async def get_usage(auth: CurrentAuth, session: SessionDep, runtime: RuntimeDep) -> UsageOut:
    found = await service.usage(session, auth.org_id, runtime.settings.enterprise_retention_days)
    return UsageOut.model_validate(asdict(found))
