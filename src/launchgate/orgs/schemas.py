from __future__ import annotations

from typing import Annotated
from uuid import UUID

from pydantic import Field

from launchgate.kit.schema import StrictModel, WireModel

MAX_BUDGET_USD = 1_000_000

Budget = Annotated[float, Field(gt=0, le=MAX_BUDGET_USD, allow_inf_nan=False)]


class OrganizationOut(WireModel):
    """The caller's organisation and its own settings (docs/cost.md)."""

    id: UUID
    name: str
    slug: str = Field(description="Derived from the name")
    plan: str
    judge_budget_usd_monthly: float | None = Field(
        description="The most the judge may spend in a calendar month (UTC), in USD; null: "
        "no budget"
    )


class OrganizationUpdate(StrictModel):
    """``PATCH /v1/organization``: only the fields sent change."""

    judge_budget_usd_monthly: Budget | None = Field(
        default=None,
        description=f"USD a month, more than 0 and at most {MAX_BUDGET_USD:,}; null removes "
        "the budget",
    )
