"""Typed results: what ``run``, ``get_run`` and ``wait`` return.

Built from the server's JSON by hand rather than with pydantic, so the SDK needs nothing
beyond httpx. Unknown fields are kept in ``raw``; missing optional ones default, so an
older or newer server still parses.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields
from typing import Any, Literal, cast

RunStatus = Literal["pending", "running", "cleared", "aborted", "error", "inconclusive", "skipped"]
CaseStatus = Literal["passed", "failed", "error", "inconclusive"]
FINAL_STATUSES: frozenset[str] = frozenset(
    {"cleared", "aborted", "error", "inconclusive", "skipped"}
)


@dataclass(frozen=True)
class Sampling:
    """How an ``llm_judge`` case was judged (docs/sampling.md): every judgement's score,
    their mean, the confidence interval of that mean and why the judging stopped —
    ``decided`` (the interval cleared the threshold) or ``max_samples`` (all were spent)."""

    samples: tuple[float, ...]
    mean: float
    interval: tuple[float, float]
    confidence: float
    stopped: Literal["decided", "max_samples"]

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Sampling:
        low, high = (float(bound) for bound in data.get("interval") or (0.0, 1.0))
        return cls(
            samples=tuple(float(score) for score in data.get("samples") or ()),
            mean=float(data.get("mean") or 0.0),
            interval=(low, high),
            confidence=float(data.get("confidence") or 0.0),
            stopped=cast(Literal["decided", "max_samples"], data.get("stopped", "max_samples")),
        )


@dataclass(frozen=True)
class VerdictDetail:
    """The raw verdict of a run with inconclusive cases, before the suite's
    ``on_inconclusive`` mapped it: ``status`` is what the run would have been with
    ``on_inconclusive: inconclusive``; the two pass rates count the undecided cases as
    failed (``low``) and as passed (``high``)."""

    status: str
    on_inconclusive: str
    pass_rate_low: float
    pass_rate_high: float
    inconclusive_cases: int

    @property
    def mapped(self) -> bool:
        """True when ``on_inconclusive`` turned an inconclusive run into a verdict."""
        return self.status == "inconclusive" and self.on_inconclusive != "inconclusive"

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> VerdictDetail:
        return cls(
            status=str(data.get("status", "")),
            on_inconclusive=str(data.get("on_inconclusive", "inconclusive")),
            pass_rate_low=float(data.get("pass_rate_low") or 0.0),
            pass_rate_high=float(data.get("pass_rate_high") or 0.0),
            inconclusive_cases=int(data.get("inconclusive_cases") or 0),
        )


@dataclass(frozen=True)
class JudgeUsage:
    """What an ``llm_judge`` case's judge calls used, summed over its samples: the
    provider's own token counts (``cached_input_tokens`` of ``input_tokens`` were billed at
    the cached price) and ``estimated_input_tokens``, the server's guess before the call,
    which dry runs correct by the ratio of the two. ``calls`` is 0 for a cached verdict."""

    provider: str
    model: str
    calls: int = 0
    input_tokens: int = 0
    output_tokens: int = 0
    cached_input_tokens: int = 0
    estimated_input_tokens: int = 0

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> JudgeUsage:
        return cls(
            provider=str(data.get("provider", "")),
            model=str(data.get("model", "")),
            **{
                name: int(data.get(name) or 0)
                for name in (
                    "calls",
                    "input_tokens",
                    "output_tokens",
                    "cached_input_tokens",
                    "estimated_input_tokens",
                )
            },
        )


@dataclass(frozen=True)
class CaseError:
    """Why a case ended in ``error``, when the server gives the reason a code — such as
    ``JUDGE_BUDGET_EXCEEDED``: the organisation's monthly judge budget is spent and no
    judge call was made (the message is the case's ``reason`` too)."""

    code: str
    message: str

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> CaseError:
        return cls(code=str(data.get("code", "")), message=str(data.get("message") or ""))


@dataclass(frozen=True)
class CaseResult:
    """One case scored against the output; it passed when ``score >= threshold``.

    An ``llm_judge`` case that got judgements carries ``sampling``; it is ``inconclusive``
    when every allowed judgement was spent and the interval still holds the threshold.
    A judged case also carries ``usage`` (its judge calls' tokens) and ``cost_usd``, what
    they cost at the server's price table — None when that model has no price (the server
    never guesses), 0.0 for a cached verdict. Deterministic cases have neither. A case in
    ``error`` whose reason has a code carries it in ``error`` (``JUDGE_BUDGET_EXCEEDED``).
    """

    case: str
    case_id: str
    passed: bool
    score: float
    threshold: float
    status: CaseStatus
    reason: str
    weight: float = 1.0
    duration_ms: float = 0.0
    scorer_type: str | None = None
    precision: float | None = None
    recall: float | None = None
    judge: dict[str, Any] | None = None
    sampling: Sampling | None = None
    cost_usd: float | None = None
    usage: JudgeUsage | None = None
    error: CaseError | None = None

    @property
    def judged(self) -> bool:
        """True for an ``llm_judge`` case: the cases that can cost anything."""
        return self.usage is not None or self.scorer_type == "llm_judge"

    @property
    def unpriced(self) -> bool:
        """True when the judge was paid for but the server has no price for its model."""
        return self.usage is not None and self.cost_usd is None

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> CaseResult:
        sampling, usage, error = data.get("sampling"), data.get("usage"), data.get("error")
        return cls(
            case=str(data.get("case", "")),
            case_id=str(data.get("case_id", "")),
            passed=bool(data.get("passed", False)),
            score=float(data.get("score") or 0.0),
            threshold=float(data.get("threshold") or 0.0),
            status=cast(CaseStatus, data.get("status", "error")),
            reason=str(data.get("reason") or ""),
            weight=float(data.get("weight", 1.0)),
            duration_ms=float(data.get("duration_ms") or 0.0),
            scorer_type=data.get("scorer_type"),
            precision=_opt_float(data.get("precision")),
            recall=_opt_float(data.get("recall")),
            judge=data.get("judge"),
            sampling=Sampling.from_json(sampling) if isinstance(sampling, dict) else None,
            cost_usd=_opt_float(data.get("cost_usd")),
            usage=JudgeUsage.from_json(usage) if isinstance(usage, dict) else None,
            error=CaseError.from_json(error) if isinstance(error, dict) else None,
        )


@dataclass(frozen=True)
class RunResult:
    """A run: the verdict of one output against a suite.

    ``status`` is ``cleared`` or ``aborted`` (or ``error``) once scored, ``inconclusive``
    when the judge could not decide enough cases to call it either way (``passed`` False),
    ``pending`` or ``running`` for an async run not yet finished, and ``skipped`` when the
    API could not be reached — then ``passed`` is True so that an outage never blocks a
    release, ``id`` is None and ``message`` says why. ``verdict_detail`` is set whenever a
    case was inconclusive (the raw outcome, before the suite's ``on_inconclusive``). Fields
    after ``message`` come from ``get_run`` only.

    ``cost_usd`` is what the run's judge calls cost, the sum of its cases' (0.0 with no
    judged case or only cached verdicts); None when a judged model has no price, when the
    run is not scored yet or skipped, and from a server older than cost reporting —
    ``unpriced_models`` tells the first case apart.
    """

    id: str | None
    status: RunStatus
    passed: bool
    total_cases: int = 0
    passed_cases: int = 0
    failed_cases: int = 0
    error_cases: int = 0
    inconclusive_cases: int = 0
    verdict_detail: VerdictDetail | None = None
    pass_rate: float | None = None
    cost_usd: float | None = None
    duration_ms: float | None = None
    scores: tuple[CaseResult, ...] = ()
    failures: tuple[CaseResult, ...] = ()
    message: str | None = None
    suite: dict[str, Any] | None = None
    trigger: str | None = None
    trigger_meta: dict[str, Any] | None = None
    created_at: str | None = None
    started_at: str | None = None
    completed_at: str | None = None
    raw: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @property
    def done(self) -> bool:
        """True once the status can no longer change."""
        return self.status in FINAL_STATUSES

    @property
    def skipped(self) -> bool:
        return self.status == "skipped"

    @property
    def judged(self) -> bool:
        """True when a case of the run was an ``llm_judge`` case (the run could cost)."""
        return any(case.judged for case in self.scores)

    @property
    def unpriced_models(self) -> tuple[str, ...]:
        """``provider/model`` of each judged model without a price (why ``cost_usd`` is
        None), in case order, each once."""
        found = (
            f"{c.usage.provider}/{c.usage.model}" for c in self.scores if c.unpriced and c.usage
        )
        return tuple(dict.fromkeys(found))

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> RunResult:
        detail = data.get("verdict_detail")
        return cls(
            id=data.get("id"),
            status=cast(RunStatus, data.get("status", "error")),
            passed=bool(data.get("passed", False)),
            total_cases=int(data.get("total_cases") or 0),
            passed_cases=int(data.get("passed_cases") or 0),
            failed_cases=int(data.get("failed_cases") or 0),
            error_cases=int(data.get("error_cases") or 0),
            inconclusive_cases=int(data.get("inconclusive_cases") or 0),
            verdict_detail=VerdictDetail.from_json(detail) if isinstance(detail, dict) else None,
            pass_rate=_opt_float(data.get("pass_rate")),
            cost_usd=_opt_float(data.get("cost_usd")),
            duration_ms=_opt_float(data.get("duration_ms")),
            scores=tuple(CaseResult.from_json(s) for s in data.get("scores") or ()),
            failures=tuple(CaseResult.from_json(s) for s in data.get("failures") or ()),
            message=data.get("message"),
            suite=data.get("suite"),
            trigger=data.get("trigger"),
            trigger_meta=data.get("trigger_meta"),
            created_at=data.get("created_at"),
            started_at=data.get("started_at"),
            completed_at=data.get("completed_at"),
            raw=data,
        )

    @classmethod
    def skipped_because(cls, message: str) -> RunResult:
        return cls(id=None, status="skipped", passed=True, message=message)

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready data (``raw`` left out): what ``launchgate run --json`` prints."""
        out: dict[str, Any] = {}
        for f in fields(self):
            if f.name == "raw":
                continue
            value = getattr(self, f.name)
            if isinstance(value, tuple):
                value = [asdict(item) for item in value]
            elif isinstance(value, VerdictDetail):
                value = asdict(value)
            out[f.name] = value
        return out


def _opt_float(value: Any) -> float | None:
    return None if value is None else float(value)
