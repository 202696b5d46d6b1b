from __future__ import annotations

from typing import Annotated, Any, Literal
from uuid import UUID

from pydantic import BaseModel, Field, model_validator

from launchgate.billing.costs import run_cost
from launchgate.kit.schema import SmallJsonObject, StrictModel, Text1MiB, Timestamp, WireModel
from launchgate.kit.slugs import SLUG_MAX

Trigger = Literal["api", "sdk", "cli", "github_action", "dashboard"]
RunStatus = Literal["pending", "running", "cleared", "aborted", "error", "inconclusive"]


class RunRequest(StrictModel):
    suite: Annotated[str, Field(min_length=1, max_length=SLUG_MAX)]
    output: Text1MiB
    input: SmallJsonObject = Field(default_factory=dict)
    trigger: Trigger = "api"
    trigger_meta: SmallJsonObject = Field(default_factory=dict)
    async_: bool = Field(default=False, alias="async")
    project: Annotated[str | None, Field(min_length=1, max_length=SLUG_MAX)] = None
    # An empty output almost always means the pipeline that produced it broke: refused
    # (400) unless the caller says it means it.
    allow_empty_output: bool = Field(
        default=False,
        description="Score an empty (or whitespace-only) output instead of refusing it (400)",
    )
    dry_run: bool = Field(
        default=False,
        description="Estimate only (docs/cost.md): judge calls, input tokens and cost; "
        "no provider call, nothing stored, no usage counted",
    )


class Sampling(BaseModel):
    """How an ``llm_judge`` case was judged (docs/sampling.md)."""

    samples: list[float] = Field(description="Every judgement's score, in the order received")
    mean: float
    interval: list[float] = Field(
        description="[lo, hi]: the confidence interval of the mean score, cut to [0, 1]"
    )
    confidence: float
    stopped: Literal["decided", "max_samples"] = Field(
        description="decided: the interval cleared the threshold; max_samples: all were spent"
    )


class VerdictDetail(BaseModel):
    """The raw verdict of a run with inconclusive cases, before ``on_inconclusive``."""

    status: Literal["cleared", "aborted", "inconclusive", "error"]
    on_inconclusive: Literal["inconclusive", "abort", "clear"]
    pass_rate_low: float = Field(description="The pass rate with inconclusive cases failed")
    pass_rate_high: float = Field(description="The pass rate with inconclusive cases passed")
    inconclusive_cases: int


class CaseUsage(BaseModel):
    """What a judged case's calls used, summed over its judgements (docs/cost.md)."""

    provider: str
    model: str = Field(description="The model as the provider reported it")
    calls: int = Field(description="Judge calls the provider answered (0: a cached verdict)")
    input_tokens: int = Field(description="Every input token, cached ones included")
    output_tokens: int
    cached_input_tokens: int = Field(description="Input tokens read from the prompt cache")
    estimated_input_tokens: int = Field(
        description="LaunchGate's own estimate of the input tokens (what dry runs use)"
    )


class CaseError(BaseModel):
    """Why a case ended in error, when the reason has a code (``JUDGE_BUDGET_EXCEEDED``)."""

    code: str
    message: str


def _with_cost(data: Any) -> Any:
    """A run's ``cost_usd`` from its case scores when the caller's values lack it (a run
    read back from the worker's answer carries it; a dict built before issue 16 does not)."""
    if isinstance(data, dict) and "cost_usd" not in data:
        still_open = data.get("status") in ("pending", "running")
        return {**data, "cost_usd": None if still_open else run_cost(data.get("scores"))}
    return data


class CaseScore(BaseModel):
    case: str
    case_id: str
    passed: bool
    score: float
    threshold: float
    weight: float = 1.0
    reason: str
    status: Literal["passed", "failed", "error", "inconclusive"]
    duration_ms: float
    scorer_type: str | None = None
    precision: float | None = None
    recall: float | None = None
    sampling: Sampling | None = None
    judge: dict[str, Any] | None = None
    cost_usd: float | None = Field(
        default=None,
        description="Judged cases: what its judge calls cost in USD (0.0 for a cached "
        "verdict; null when the model has no price). Deterministic cases: null",
    )
    usage: CaseUsage | None = None
    error: CaseError | None = None


class RunResult(BaseModel):
    """The synchronous ``POST /v1/run`` answer — not wrapped in ``data`` (SPEC §2)."""

    id: str
    status: RunStatus
    passed: bool
    total_cases: int
    passed_cases: int
    failed_cases: int
    error_cases: int
    inconclusive_cases: int = 0
    verdict_detail: VerdictDetail | None = None
    pass_rate: float | None
    duration_ms: float | None
    cost_usd: float | None = Field(
        default=None,
        description="What the run's judge calls cost in USD: 0.0 without judge calls; null "
        "when a judged case's model has no price, or while the run is open",
    )
    scores: list[CaseScore]
    failures: list[CaseScore]

    run_cost_from_scores = model_validator(mode="before")(_with_cost)


class RunAccepted(BaseModel):
    id: str
    status: Literal["pending"]
    message: str


class JudgeTokens(BaseModel):
    """What the run's judge calls cost, summed over its cases (and their samples)."""

    input_tokens: int
    output_tokens: int


class RunOut(WireModel):
    id: str
    suite_id: UUID
    batch_id: str | None = None
    key: str | None = Field(default=None, description="The item's key, for an item of a batch")
    project_id: UUID
    suite: dict[str, Any]
    status: RunStatus
    passed: bool
    total_cases: int
    passed_cases: int
    failed_cases: int
    error_cases: int
    inconclusive_cases: int = 0
    verdict_detail: VerdictDetail | None = None
    pass_rate: float | None
    duration_ms: float | None
    output: str
    input: dict[str, Any]
    trigger: str
    trigger_meta: dict[str, Any]
    cost_usd: float | None = Field(
        default=None,
        description="What the run's judge calls cost in USD: 0.0 without judge calls; null "
        "when a judged case's model has no price, or while the run is open",
    )
    scores: list[CaseScore]
    failures: list[CaseScore]
    snapshot: dict[str, Any]
    judge_tokens: JudgeTokens
    created_at: Timestamp
    started_at: Timestamp | None
    completed_at: Timestamp | None

    run_cost_from_scores = model_validator(mode="before")(_with_cost)


class RunSummary(WireModel):
    """A run in a list: everything but the output, snapshot and case scores."""

    id: str
    suite_id: UUID
    batch_id: str | None = None
    key: str | None = Field(default=None, description="The item's key, for an item of a batch")
    status: RunStatus
    passed: bool
    total_cases: int
    passed_cases: int
    failed_cases: int
    error_cases: int
    inconclusive_cases: int = 0
    verdict_detail: VerdictDetail | None = None
    pass_rate: float | None
    duration_ms: float | None
    cost_usd: float | None = Field(
        default=None,
        description="What the run's judge calls cost in USD: 0.0 without judge calls; null "
        "when a judged case's model has no price, or while the run is open",
    )
    trigger: str
    trigger_meta: dict[str, Any]
    created_at: Timestamp
    completed_at: Timestamp | None

    run_cost_from_scores = model_validator(mode="before")(_with_cost)


class RunCaseChange(BaseModel):
    case_id: str
    case: str
    baseline_status: str | None
    current_status: str | None
    baseline_score: float | None
    current_score: float | None
    delta: float | None = Field(description="current - baseline score")
    change: Literal["regressed", "improved", "same", "new", "removed"]


class RunComparison(BaseModel):
    """Two single runs of one suite, case by case: no statistics — one output each."""

    baseline_id: str
    current_id: str
    baseline_status: RunStatus
    current_status: RunStatus
    cases: list[RunCaseChange]


class DryRunCalls(BaseModel):
    min: int
    max: int


class DryRunCost(BaseModel):
    min: float
    max: float


class DryRunCase(BaseModel):
    """One judge case over every output of the dry run."""

    case_id: str
    name: str
    provider: str
    model: str | None
    calls_min: int
    calls_max: int
    input_tokens: int = Field(description="Estimated and corrected, at calls_max")
    output_tokens_max: int
    input_token_ratio: float = Field(
        description="The correction: actual / estimated input tokens of past judge calls"
    )
    cost_usd_min: float | None
    cost_usd_max: float | None


class DryRunEstimate(BaseModel):
    """The ``dry_run: true`` answer of ``POST /v1/run`` and ``POST /v1/batches`` (not
    wrapped in ``data``): what the run would cost, nothing done (docs/cost.md)."""

    dry_run: Literal[True]
    suite: dict[str, str] = Field(description="{id, slug}")
    items: int
    judge_calls: DryRunCalls
    input_tokens: int
    output_tokens_max: int
    cost_usd: DryRunCost | None = Field(description="null when a judged model has no price")
    unpriced_models: list[str] = Field(description='"provider/model" without a price')
    by_case: list[DryRunCase]
