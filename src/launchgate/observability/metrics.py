"""Prometheus metrics: the hook functions the rest of the server calls, and the text page.

Every hook is a plain function that returns at once while metrics are off (one global
read), so callers never check a setting: ``enable()`` (made by the app and the worker
process when ``LAUNCHGATE_METRICS=on``) builds the metrics in this process's registry.
``prometheus_client`` is imported only then.

One registry per process, scraped per process (docs/observability.md, "One endpoint per
process"): the API serves ``GET /metrics``; a ``launchgate worker`` serves its own on
``LAUNCHGATE_WORKER_METRICS_PORT``. Prometheus sums across targets.

Label values are closed sets (statuses, triggers, scorer types, providers, outcomes) or
a model name, which is checked against a model-name shape and bounded; nothing an
organisation sends (outputs, inputs, keys or their prefixes) ever becomes a label.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from prometheus_client import CollectorRegistry

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
# The outcomes of one judge request (one attempt): ok, or why it failed. "retried": it
# failed and another attempt follows; the others end the case's calls. "error": the rest
# (a 400/404, an unreachable or unreadable provider), which the list leaves out.
OUTCOMES = ("ok", "retried", "429", "5xx", "timeout", "auth", "quota", "error")
_RUN_BUCKETS = (0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600, 1800)
_WAIT_BUCKETS = (0.001, 0.005, 0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120)
# A model name: letters, digits and the punctuation providers use (gpt-4o-2024-08-06,
# models/gemini-2.5-pro, claude-3-5-sonnet@20240620); anything else is reported as "other".
_MODEL = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._:/@-]{0,79}$")
_PROVIDERS = frozenset({"openai", "anthropic", "google", "azure_openai"})


class _Metrics:
    """The metric objects of one process, in their own registry."""

    def __init__(self, registry: CollectorRegistry) -> None:
        from prometheus_client import Counter, Gauge, Histogram

        self.registry = registry
        self.runs = Counter(
            "launchgate_runs",
            "Runs finished, by status and trigger",
            ["status", "trigger"],
            registry=registry,
        )
        self.run_duration = Histogram(
            "launchgate_run_duration_seconds",
            "Seconds from a run's start to its verdict",
            buckets=_RUN_BUCKETS,
            registry=registry,
        )
        self.cases = Counter(
            "launchgate_cases",
            "Cases scored, by scorer type and status",
            ["scorer_type", "status"],
            registry=registry,
        )
        self.judge_requests = Counter(
            "launchgate_judge_requests",
            "Judge requests (attempts) to providers, by outcome",
            ["provider", "outcome"],
            registry=registry,
        )
        self.judge_inflight = Gauge(
            "launchgate_judge_inflight",
            "Judge calls in flight now in this process",
            ["provider"],
            registry=registry,
        )
        self.judge_wait = Histogram(
            "launchgate_judge_wait_seconds",
            "Seconds a judge call waited for a limiter slot",
            buckets=_WAIT_BUCKETS,
            registry=registry,
        )
        self.judge_cost = Counter(
            "launchgate_judge_cost_usd",
            "Judge spend in US dollars, by provider and model",
            ["provider", "model"],
            registry=registry,
        )
        self.queue_depth = Gauge(
            "launchgate_queue_depth",
            "Jobs sent to the queue and not yet taken by a worker",
            registry=registry,
        )
        self.http_requests = Counter(
            "launchgate_http_requests",
            "HTTP requests answered, by route template and status",
            ["route", "status"],
            registry=registry,
        )


_metrics: _Metrics | None = None


def enable() -> None:
    """Build this process's metrics (idempotent): called when LAUNCHGATE_METRICS=on."""
    global _metrics
    if _metrics is not None:
        return
    from prometheus_client import (
        CollectorRegistry,
        GCCollector,
        PlatformCollector,
        ProcessCollector,
    )

    registry = CollectorRegistry(auto_describe=True)
    ProcessCollector(registry=registry)
    PlatformCollector(registry=registry)
    GCCollector(registry=registry)
    _metrics = _Metrics(registry)


def enabled() -> bool:
    return _metrics is not None


def render() -> bytes:
    """The Prometheus text page of this process's registry."""
    from prometheus_client import generate_latest

    if _metrics is None:
        raise RuntimeError("metrics are off")
    return generate_latest(_metrics.registry)


def _provider(name: str) -> str:
    return name if name in _PROVIDERS else "other"


def _model(name: str) -> str:
    return name if _MODEL.match(name) else "other"


# --- the hooks (no-ops while metrics are off) ----------------------------------------------


def run_finished(status: str, trigger: str, duration_s: float) -> None:
    """A run reached its verdict (cleared, aborted, error...)."""
    if (m := _metrics) is not None:
        m.runs.labels(status=status, trigger=trigger).inc()
        m.run_duration.observe(max(duration_s, 0.0))


def case_scored(scorer_type: str, status: str) -> None:
    """One case of a run was scored (passed, failed, error...)."""
    if (m := _metrics) is not None:
        m.cases.labels(scorer_type=scorer_type, status=status).inc()


def judge_request(provider: str, outcome: str) -> None:
    """One attempt of a judge call ended; ``outcome`` is one of ``OUTCOMES``."""
    if (m := _metrics) is not None:
        m.judge_requests.labels(
            provider=_provider(provider), outcome=outcome if outcome in OUTCOMES else "error"
        ).inc()


def judge_inflight(provider: str, delta: int) -> None:
    """A judge call took (+1) or gave back (-1) its limiter slot."""
    if (m := _metrics) is not None:
        m.judge_inflight.labels(provider=_provider(provider)).inc(delta)


def judge_wait(seconds: float) -> None:
    """How long one judge call waited for its limiter slot."""
    if (m := _metrics) is not None:
        m.judge_wait.observe(max(seconds, 0.0))


def judge_cost(provider: str, model: str, usd: float) -> None:
    """The cost of one judged case's calls (skip it when the model has no price)."""
    if (m := _metrics) is not None and usd > 0:
        m.judge_cost.labels(provider=_provider(provider), model=_model(model)).inc(usd)


def queue_depth(jobs: int) -> None:
    """The queue's depth, read just before a scrape (the queue is asked, not counted)."""
    if (m := _metrics) is not None:
        m.queue_depth.set(jobs)


def http_request(route: str, status: int) -> None:
    """One HTTP answer; ``route`` is the route's template, never the raw path."""
    if (m := _metrics) is not None:
        m.http_requests.labels(route=route, status=str(status)).inc()


def run_scored(values: Mapping[str, Any], trigger: str) -> None:
    """Everything one completed run counts for, from the column values that completed it
    (``engine.completion``): the run, each case, and each judged case's cost. One call
    where a run's completion is stored (runs/execution.py, the sync and batch paths)."""
    if _metrics is None:
        return
    run_finished(str(values["status"]), trigger, float(values.get("duration_ms") or 0) / 1000)
    for entry in values.get("scores") or ():
        case_scored(str(entry.get("scorer_type", "unknown")), str(entry.get("status", "unknown")))
        usage, cost = entry.get("usage"), entry.get("cost_usd")
        if isinstance(usage, Mapping) and isinstance(cost, int | float):
            judge_cost(str(usage.get("provider", "")), str(usage.get("model", "")), float(cost))
