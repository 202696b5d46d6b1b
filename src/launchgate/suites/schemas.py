from __future__ import annotations

from typing import Annotated, Literal
from uuid import UUID

from pydantic import Field

from launchgate.kit.schema import (
    Description,
    Name,
    SingleLine,
    StrictModel,
    Timestamp,
    Unit,
    WireModel,
)
from launchgate.projects.schemas import Slug

# What a run whose judge could not decide ends as (docs/sampling.md): `inconclusive`
# keeps the honest answer; `abort` and `clear` make a binary gate of it.
OnInconclusive = Annotated[
    Literal["inconclusive", "abort", "clear"],
    Field(
        description="What a run with undecided judge cases ends as: inconclusive (default), "
        "abort (aborted) or clear (cleared); the raw outcome stays in the run's verdict_detail"
    ),
]


BatchThreshold = Annotated[
    float,
    Field(
        ge=0,
        le=1,
        allow_inf_nan=False,
        description="The share of a batch's items that must clear (docs/batches.md)",
    ),
]
BaselineBranch = Annotated[
    SingleLine,
    Field(
        min_length=1,
        max_length=200,
        description='The branch whose latest batch is the "auto" baseline (trigger_meta.branch)',
    ),
]


class SuiteCreate(StrictModel):
    name: Name
    slug: Slug | None = None
    pass_threshold: Unit = 1.0
    on_inconclusive: OnInconclusive = "inconclusive"
    batch_threshold: BatchThreshold = 1.0
    baseline_branch: BaselineBranch = "main"
    fail_on_regression: bool = False
    description: Description | None = None


class SuiteUpdate(StrictModel):
    name: Name | None = None
    slug: Slug | None = None
    pass_threshold: Unit | None = None
    on_inconclusive: OnInconclusive | None = None
    batch_threshold: BatchThreshold | None = None
    baseline_branch: BaselineBranch | None = None
    fail_on_regression: bool | None = None
    description: Description | None = None


class SuiteFromTemplate(StrictModel):
    template_slug: Annotated[str, Field(min_length=1, max_length=64)]
    name: Name | None = None
    slug: Slug | None = None


class SuiteOut(WireModel):
    id: UUID
    project_id: UUID
    name: str
    slug: str
    description: str | None
    pass_threshold: float
    on_inconclusive: str = "inconclusive"
    batch_threshold: float = 1.0
    baseline_branch: str = "main"
    fail_on_regression: bool = False
    case_count: int = 0
    active_case_count: int = 0
    created_at: Timestamp
    updated_at: Timestamp
