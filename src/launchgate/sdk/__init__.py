"""The LaunchGate client library: score an AI output against an eval suite from Python.

    from launchgate import LaunchGate

    with LaunchGate() as gate:                      # key from LAUNCHGATE_API_KEY or .launchgaterc
        result = gate.run("refund-replies", output=answer)
        if not result.passed:
            ...
        batch = gate.batch("refund-replies", [{"output": a, "key": k} for k, a in answers],
                           baseline="auto")             # a dataset, against the base branch

This package stands alone: it imports nothing else of launchgate and needs only httpx, so
it works on the light install (``pip install .`` from a clone: the distribution is named
``launchgate-eval``). See docs/sdk.md.
"""

from launchgate.sdk.batches import (
    BatchCase,
    BatchComparison,
    BatchItem,
    BatchResult,
    BatchVerdictDetail,
    CaseComparison,
    ItemCounts,
    Side,
)
from launchgate.sdk.client import AsyncLaunchGate, LaunchGate
from launchgate.sdk.config import DEFAULT_BASE_URL, ClientConfig, resolve_config
from launchgate.sdk.errors import (
    AuthError,
    ConfigError,
    LaunchGateError,
    NotFoundError,
    PaymentError,
    UnreachableError,
    ValidationError,
    WaitTimeout,
)
from launchgate.sdk.models import CaseResult, RunResult, Sampling, VerdictDetail

__all__ = [
    "DEFAULT_BASE_URL",
    "AsyncLaunchGate",
    "AuthError",
    "BatchCase",
    "BatchComparison",
    "BatchItem",
    "BatchResult",
    "BatchVerdictDetail",
    "CaseComparison",
    "CaseResult",
    "ClientConfig",
    "ConfigError",
    "ItemCounts",
    "LaunchGate",
    "LaunchGateError",
    "NotFoundError",
    "PaymentError",
    "RunResult",
    "Sampling",
    "Side",
    "UnreachableError",
    "ValidationError",
    "VerdictDetail",
    "WaitTimeout",
    "resolve_config",
]
