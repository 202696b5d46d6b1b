from __future__ import annotations

from typing import Annotated, Any, Literal
from uuid import UUID

from pydantic import BaseModel, Field

from launchgate.kit.schema import (
    SingleLine,
    SmallJsonObject,
    StrictModel,
    Text1MiB,
    Timestamp,
    Unit,
    WireModel,
)
from launchgate.kit.slugs import SLUG_MAX
from launchgate.runs.schemas import RunSummary, Trigger

BatchStatus = Literal["running", "cleared", "aborted", "inconclusive", "error"]
ItemKey = Annotated[SingleLine, Field(min_length=1, max_length=200)]
# "auto", or the id of an earlier batch of the same suite.
BaselineRef = Annotated[
    str, Field(min_length=1, max_length=28, pattern=r"^(auto|bat_[0-9a-z]{24})$")
]


class BatchItem(StrictModel):
    output: Text1MiB
    input: SmallJsonObject = Field(default_factory=dict)
    key: ItemKey | None = Field(
        default=None,
        description="A stable name for the input (a dataset row id), unique in the batch; "
        "items with the same key in the baseline are compared paired",
    )


class BatchRequest(StrictModel):
    suite: Annotated[str, Field(min_length=1, max_length=SLUG_MAX)]
    project: Annotated[str | None, Field(min_length=1, max_length=SLUG_MAX)] = None
    # The upper bound is a setting (LAUNCHGATE_MAX_BATCH_ITEMS), checked by the service;
    # this one only keeps the parser from building an absurd list first.
    items: Annotated[list[BatchItem], Field(min_length=1, max_length=10_000)]
    trigger: Trigger = "api"
    trigger_meta: SmallJsonObject = Field(default_factory=dict)
    baseline: BaselineRef | None = None
    async_: bool = Field(default=False, alias="async")
    min_cleared: Unit | None = Field(
        default=None, description="The share of items that must clear; default the suite's"
    )
    fail_on_regression: bool | None = Field(
        default=None, description="Abort when any case regressed; default the suite's"
    )
    allow_empty_output: bool = False
    dry_run: bool = Field(
        default=False,
        description="Estimate only (docs/cost.md): judge calls, input tokens and cost for "
        "every item; no provider call, nothing stored, no usage counted",
    )


class ItemCounts(BaseModel):
    total: int
    done: int
    cleared: int
    aborted: int
    inconclusive: int
    error: int


class CaseFigures(BaseModel):
    case_id: str
    case: str
    threshold: float
    items: int = Field(description="Items on which the case was scored (errors left out)")
    passed: int
    errors: int
    pass_rate: float | None
    interval: list[float] = Field(description="95% Wilson interval of the pass rate")


class Side(BaseModel):
    passed: int
    items: int
    pass_rate: float | None


class CaseComparison(BaseModel):
    case_id: str
    case: str
    current: Side | None
    baseline: Side | None
    difference: float | None = Field(description="current - baseline pass rate")
    interval: list[float] | None = Field(description="95% interval of the difference")
    p_value: float | None
    q_value: float | None = Field(description="Benjamini-Hochberg adjusted p-value")
    test: Literal["mcnemar", "fisher"] | None
    pairs: int = Field(description="Items matched by key and compared paired")
    classification: Literal["regressed", "improved", "unchanged", "new", "removed"]


class Comparison(BaseModel):
    baseline_id: str
    current_id: str
    false_discovery_rate: float
    regressed_cases: int
    improved_cases: int
    cases: list[CaseComparison]


class BatchVerdictDetail(BaseModel):
    status: Literal["cleared", "aborted", "inconclusive", "error"]
    on_inconclusive: str
    pass_rate_low: float
    pass_rate_high: float
    inconclusive_items: int
    aborted_by_regression: bool


class BatchOut(WireModel):
    id: str
    suite_id: UUID
    project_id: UUID
    status: BatchStatus
    passed: bool
    pass_rate: float | None = Field(description="The share of items cleared, once complete")
    min_cleared: float
    fail_on_regression: bool
    items: ItemCounts
    cost_usd: float | None = Field(
        default=None,
        description="What the items' judge calls cost in USD (so far, while running); null "
        "when an item's judged model has no price",
    )
    cases: list[CaseFigures] | None
    baseline: str | None = Field(description='What was asked for: "auto", a batch id or null')
    baseline_id: str | None = Field(description="The batch compared with, once resolved")
    comparison: Comparison | None
    verdict_detail: BatchVerdictDetail | None
    trigger: str
    trigger_meta: dict[str, Any]
    created_at: Timestamp
    completed_at: Timestamp | None


class BatchItemOut(RunSummary):
    """An item of a batch: its run, and the key it was sent with."""

    key: str | None
    batch_id: str
