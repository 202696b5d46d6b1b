"""Typed batches (issue 14): what ``batch``, ``get_batch`` and ``wait_for_batch`` return,
and ``BatchItem``, one output of the dataset sent.

Built by hand from the server's JSON like ``RunResult`` (no pydantic: the SDK needs only
httpx); unknown fields stay in ``raw``, missing optional ones default. A ``BatchResult``
made by a client remembers it, so ``batch.wait()`` (or ``await batch.wait_async()`` from
``AsyncLaunchGate``) polls without naming the client again.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import asdict, dataclass, field, fields, replace
from typing import Any, Literal, cast

from launchgate.sdk.errors import LaunchGateError

BatchStatus = Literal["running", "cleared", "aborted", "inconclusive", "error", "skipped"]
Classification = Literal["regressed", "improved", "unchanged", "new", "removed"]
FINAL_BATCH_STATUSES: frozenset[str] = frozenset(
    {"cleared", "aborted", "inconclusive", "error", "skipped"}
)


@dataclass(frozen=True)
class BatchItem:
    """One output of a batch. ``key`` is your stable name for its input (a dataset row
    id), unique in the batch: items with the same key in the baseline are compared paired."""

    output: str
    input: dict[str, Any] | None = None
    key: str | None = None

    def to_json(self) -> dict[str, Any]:
        body: dict[str, Any] = {"output": self.output}
        if self.input:
            body["input"] = self.input
        if self.key is not None:
            body["key"] = self.key
        return body

    @classmethod
    def of(cls, item: BatchItem | Mapping[str, Any]) -> BatchItem:
        """A ``BatchItem`` as is, or one from a dict with ``output``, ``input`` and ``key``."""
        if isinstance(item, BatchItem):
            return item
        unknown = set(item) - {"output", "input", "key"}
        if unknown:
            raise TypeError(f"a batch item has output, input and key, not {sorted(unknown)}")
        output = item.get("output")
        if not isinstance(output, str):
            raise TypeError("a batch item's output must be a string")
        return cls(output, item.get("input"), item.get("key"))


@dataclass(frozen=True)
class ItemCounts:
    """Items per final status; ``done`` of ``total`` is the progress while running."""

    total: int = 0
    done: int = 0
    cleared: int = 0
    aborted: int = 0
    inconclusive: int = 0
    error: int = 0

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> ItemCounts:
        return cls(**{f.name: int(data.get(f.name) or 0) for f in fields(cls)})


@dataclass(frozen=True)
class BatchCase:
    """One case across the items: ``passed`` of ``items`` (errors left out), its pass
    rate and the 95% Wilson interval of that rate."""

    case_id: str
    case: str
    threshold: float
    items: int
    passed: int
    errors: int
    pass_rate: float | None
    interval: tuple[float, float]

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> BatchCase:
        low, high = (float(bound) for bound in data.get("interval") or (0.0, 1.0))
        return cls(
            case_id=str(data.get("case_id", "")),
            case=str(data.get("case", "")),
            threshold=float(data.get("threshold") or 0.0),
            items=int(data.get("items") or 0),
            passed=int(data.get("passed") or 0),
            errors=int(data.get("errors") or 0),
            pass_rate=_opt_float(data.get("pass_rate")),
            interval=(low, high),
        )


@dataclass(frozen=True)
class Side:
    """A case's figures in one of the two batches compared."""

    passed: int
    items: int
    pass_rate: float | None

    @classmethod
    def from_json(cls, data: Any) -> Side | None:
        if not isinstance(data, Mapping):
            return None
        return cls(
            int(data.get("passed") or 0),
            int(data.get("items") or 0),
            _opt_float(data.get("pass_rate")),
        )


@dataclass(frozen=True)
class CaseComparison:
    """One case against the baseline: both pass rates, their ``difference`` (current −
    baseline) with its 95% interval, the test's ``p_value`` and its Benjamini-Hochberg
    ``q_value``, and the ``classification``."""

    case_id: str
    case: str
    current: Side | None
    baseline: Side | None
    difference: float | None
    interval: tuple[float, float] | None
    p_value: float | None
    q_value: float | None
    test: Literal["mcnemar", "fisher"] | None
    pairs: int
    classification: Classification

    @property
    def regressed(self) -> bool:
        return self.classification == "regressed"

    @property
    def improved(self) -> bool:
        return self.classification == "improved"

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> CaseComparison:
        interval = data.get("interval")
        return cls(
            case_id=str(data.get("case_id", "")),
            case=str(data.get("case", "")),
            current=Side.from_json(data.get("current")),
            baseline=Side.from_json(data.get("baseline")),
            difference=_opt_float(data.get("difference")),
            interval=(float(interval[0]), float(interval[1])) if interval else None,
            p_value=_opt_float(data.get("p_value")),
            q_value=_opt_float(data.get("q_value")),
            test=data.get("test"),
            pairs=int(data.get("pairs") or 0),
            classification=cast(Classification, data.get("classification", "unchanged")),
        )


@dataclass(frozen=True)
class BatchComparison:
    """The batch against its baseline, case by case (suite order)."""

    baseline_id: str
    current_id: str
    false_discovery_rate: float
    regressed_cases: int
    improved_cases: int
    cases: tuple[CaseComparison, ...]

    def case(self, case_id: str) -> CaseComparison | None:
        return next((c for c in self.cases if c.case_id == case_id), None)

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> BatchComparison:
        return cls(
            baseline_id=str(data.get("baseline_id", "")),
            current_id=str(data.get("current_id", "")),
            false_discovery_rate=float(data.get("false_discovery_rate") or 0.0),
            regressed_cases=int(data.get("regressed_cases") or 0),
            improved_cases=int(data.get("improved_cases") or 0),
            cases=tuple(CaseComparison.from_json(c) for c in data.get("cases") or ()),
        )


@dataclass(frozen=True)
class BatchVerdictDetail:
    """The raw verdict behind ``status``: what it was before the suite's
    ``on_inconclusive`` mapped it, the pass rate with undecided items failed (``low``) and
    passed (``high``), and whether ``fail_on_regression`` made it ``aborted``."""

    status: str
    on_inconclusive: str
    pass_rate_low: float
    pass_rate_high: float
    inconclusive_items: int
    aborted_by_regression: bool

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> BatchVerdictDetail:
        return cls(
            status=str(data.get("status", "")),
            on_inconclusive=str(data.get("on_inconclusive", "inconclusive")),
            pass_rate_low=float(data.get("pass_rate_low") or 0.0),
            pass_rate_high=float(data.get("pass_rate_high") or 0.0),
            inconclusive_items=int(data.get("inconclusive_items") or 0),
            aborted_by_regression=bool(data.get("aborted_by_regression", False)),
        )


@dataclass(frozen=True)
class BatchResult:
    """A batch: the verdict of a dataset of outputs against a suite.

    ``status`` is ``running`` until every item is final, then ``cleared`` (the share of
    items cleared, ``pass_rate``, reached ``min_cleared``), ``aborted``, ``inconclusive``
    or ``error``; ``skipped`` when the API could not be reached — then ``passed`` is True
    (fail-open), ``id`` is None unless the batch was accepted before the outage, and
    ``message`` says why. ``cases`` and ``comparison`` are None while running.
    ``cost_usd`` is what its items' judge calls cost (the sum of their runs'); None when a
    judged model has no price, while running, or from a server older than cost reporting.
    """

    id: str | None
    status: BatchStatus
    passed: bool
    pass_rate: float | None = None
    min_cleared: float | None = None
    cost_usd: float | None = None
    fail_on_regression: bool = False
    items: ItemCounts = field(default_factory=ItemCounts)
    cases: tuple[BatchCase, ...] | None = None
    baseline: str | None = None
    baseline_id: str | None = None
    comparison: BatchComparison | None = None
    verdict_detail: BatchVerdictDetail | None = None
    message: str | None = None
    suite_id: str | None = None
    project_id: str | None = None
    trigger: str | None = None
    trigger_meta: dict[str, Any] | None = None
    created_at: str | None = None
    completed_at: str | None = None
    raw: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)
    _waiter: Callable[..., Any] | None = field(default=None, repr=False, compare=False)

    @property
    def done(self) -> bool:
        """True once the status can no longer change."""
        return self.status in FINAL_BATCH_STATUSES

    @property
    def skipped(self) -> bool:
        return self.status == "skipped"

    @property
    def regressions(self) -> tuple[CaseComparison, ...]:
        """The cases classified ``regressed`` against the baseline (none without one)."""
        if self.comparison is None:
            return ()
        return tuple(case for case in self.comparison.cases if case.regressed)

    def wait(self, interval: float = 2.0, timeout: float = 600.0) -> BatchResult:
        """Poll until the batch is final (see ``LaunchGate.wait_for_batch``); for a batch
        from ``AsyncLaunchGate`` use ``await batch.wait_async()``."""
        waiter = self._need_waiter()
        result = waiter(self, interval=interval, timeout=timeout)
        if isinstance(result, Awaitable):
            close = getattr(result, "close", None)
            if close is not None:
                close()  # the coroutine never runs: no "never awaited" warning
            raise LaunchGateError(
                "This batch came from AsyncLaunchGate: use await batch.wait_async()",
                code="ASYNC_CLIENT",
            )
        return cast(BatchResult, result)

    async def wait_async(self, interval: float = 2.0, timeout: float = 600.0) -> BatchResult:
        """``wait`` for a batch from ``AsyncLaunchGate``."""
        waiter = self._need_waiter()
        result = waiter(self, interval=interval, timeout=timeout)
        if not isinstance(result, Awaitable):
            return cast(BatchResult, result)
        return cast(BatchResult, await result)

    def _need_waiter(self) -> Callable[..., Any]:
        if self.id is None:
            raise LaunchGateError("A skipped batch has no id to wait for", code="NO_BATCH_ID")
        if self._waiter is None:
            raise LaunchGateError(
                "This batch was not made by a client: use client.wait_for_batch(batch)",
                code="NO_CLIENT",
            )
        return self._waiter

    def with_waiter(self, waiter: Callable[..., Any]) -> BatchResult:
        return replace(self, _waiter=waiter)

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> BatchResult:
        detail, comparison, cases = (
            data.get("verdict_detail"),
            data.get("comparison"),
            data.get("cases"),
        )
        return cls(
            id=data.get("id"),
            status=cast(BatchStatus, data.get("status", "error")),
            passed=bool(data.get("passed", False)),
            pass_rate=_opt_float(data.get("pass_rate")),
            min_cleared=_opt_float(data.get("min_cleared")),
            cost_usd=_opt_float(data.get("cost_usd")),
            fail_on_regression=bool(data.get("fail_on_regression", False)),
            items=ItemCounts.from_json(data.get("items") or {}),
            cases=None if cases is None else tuple(BatchCase.from_json(c) for c in cases),
            baseline=data.get("baseline"),
            baseline_id=data.get("baseline_id"),
            comparison=BatchComparison.from_json(comparison)
            if isinstance(comparison, Mapping)
            else None,
            verdict_detail=BatchVerdictDetail.from_json(detail)
            if isinstance(detail, Mapping)
            else None,
            suite_id=_opt_str(data.get("suite_id")),
            project_id=_opt_str(data.get("project_id")),
            trigger=data.get("trigger"),
            trigger_meta=data.get("trigger_meta"),
            created_at=data.get("created_at"),
            completed_at=data.get("completed_at"),
            raw=dict(data),
        )

    @classmethod
    def skipped_because(cls, message: str, batch_id: str | None = None) -> BatchResult:
        return cls(id=batch_id, status="skipped", passed=True, message=message)

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready data (``raw`` left out): what ``launchgate run --json`` prints
        for a batch."""
        out: dict[str, Any] = {}
        for f in fields(self):
            if f.name in ("raw", "_waiter"):
                continue
            value = getattr(self, f.name)
            if isinstance(value, tuple):
                value = [asdict(item) for item in value]
            elif value is not None and hasattr(value, "__dataclass_fields__"):
                value = asdict(value)
            out[f.name] = value
        return out


def _opt_float(value: Any) -> float | None:
    return None if value is None else float(value)


def _opt_str(value: Any) -> str | None:
    return None if value is None else str(value)
