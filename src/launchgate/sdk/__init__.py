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

from importlib import import_module
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
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
    from launchgate.sdk.estimates import CaseEstimate, Estimate
    from launchgate.sdk.models import (
        CaseError,
        CaseResult,
        JudgeUsage,
        RunResult,
        Sampling,
        VerdictDetail,
    )

# Loaded on first use: the pytest plugin (launchgate.sdk.pytest_plugin) is imported by every
# pytest run where this package is installed, and must not pay for the client and httpx.
_HOME = {
    "AsyncLaunchGate": "launchgate.sdk.client",
    "AuthError": "launchgate.sdk.errors",
    "BatchCase": "launchgate.sdk.batches",
    "BatchComparison": "launchgate.sdk.batches",
    "BatchItem": "launchgate.sdk.batches",
    "BatchResult": "launchgate.sdk.batches",
    "BatchVerdictDetail": "launchgate.sdk.batches",
    "CaseComparison": "launchgate.sdk.batches",
    "CaseEstimate": "launchgate.sdk.estimates",
    "CaseError": "launchgate.sdk.models",
    "CaseResult": "launchgate.sdk.models",
    "JudgeUsage": "launchgate.sdk.models",
    "ClientConfig": "launchgate.sdk.config",
    "ConfigError": "launchgate.sdk.errors",
    "DEFAULT_BASE_URL": "launchgate.sdk.config",
    "Estimate": "launchgate.sdk.estimates",
    "ItemCounts": "launchgate.sdk.batches",
    "LaunchGate": "launchgate.sdk.client",
    "LaunchGateError": "launchgate.sdk.errors",
    "NotFoundError": "launchgate.sdk.errors",
    "PaymentError": "launchgate.sdk.errors",
    "RunResult": "launchgate.sdk.models",
    "Sampling": "launchgate.sdk.models",
    "Side": "launchgate.sdk.batches",
    "UnreachableError": "launchgate.sdk.errors",
    "ValidationError": "launchgate.sdk.errors",
    "VerdictDetail": "launchgate.sdk.models",
    "WaitTimeout": "launchgate.sdk.errors",
    "resolve_config": "launchgate.sdk.config",
}


def __getattr__(name: str) -> Any:
    module = _HOME.get(name)
    if module is None:
        raise AttributeError(f"module 'launchgate.sdk' has no attribute {name!r}")
    value = getattr(import_module(module), name)
    globals()[name] = value
    return value


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
    "CaseError",
    "CaseEstimate",
    "CaseResult",
    "ClientConfig",
    "ConfigError",
    "Estimate",
    "ItemCounts",
    "JudgeUsage",
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
