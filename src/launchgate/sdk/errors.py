"""The SDK's exceptions: one small tree, each carrying the server's code and message.

``run`` raises the request errors (the caller must fix something) and ``ConfigError`` (a
base URL whose host does not resolve, or that is not a URL: nothing was ever checked). A
configured server that cannot be reached is not the caller's fault, so ``run`` answers
``skipped`` instead (fail-open) — unless the client was made with ``fail_open=False``; then,
like ``get_run`` and ``wait``, which cannot invent a run, it raises ``UnreachableError``.
"""

from __future__ import annotations

from typing import Any


class LaunchGateError(Exception):
    """Base of every SDK error; ``code`` and ``message`` are the server's when it sent them."""

    def __init__(
        self, message: str, code: str = "ERROR", status: int | None = None, details: Any = None
    ) -> None:
        super().__init__(message)
        self.message = message
        self.code = code
        self.status = status
        self.details = details

    def __str__(self) -> str:
        return f"{self.message} ({self.code})"


class ConfigError(LaunchGateError):
    """No API key could be found, a ``.launchgaterc`` or base URL is malformed, or the base
    URL's host does not resolve (code ``DNS_FAILURE``)."""


class AuthError(LaunchGateError):
    """401: the API key is missing, unknown, expired or revoked."""


class PaymentError(LaunchGateError):
    """402: the organisation used its monthly runs."""


class ValidationError(LaunchGateError):
    """400 (or another 4xx): the request breaks a rule, e.g. a suite with no active case."""


class NotFoundError(LaunchGateError):
    """404: no such suite, project or run in this organisation."""


class UnreachableError(LaunchGateError):
    """The API did not answer usefully after every retry (network error, 5xx or 429);
    ``url`` is the base URL tried and ``cause`` the last failure in a few words
    (``connection refused``, ``timeout``, ``HTTP 503``…)."""

    def __init__(self, message: str, attempts: int, url: str = "", cause: str = "") -> None:
        super().__init__(message, code="UNREACHABLE")
        self.attempts = attempts
        self.url = url
        self.cause = cause


class WaitTimeout(LaunchGateError, TimeoutError):
    """``wait`` gave up before the run reached a final status; ``run`` is the last one seen."""

    def __init__(self, message: str, run: Any) -> None:
        super().__init__(message, code="WAIT_TIMEOUT")
        self.run = run


def error_for_status(status: int, code: str, message: str, details: Any = None) -> LaunchGateError:
    """The exception for a 4xx answer that must not be retried."""
    kind: type[LaunchGateError]
    if status in (401, 403):
        kind = AuthError
    elif status == 402:
        kind = PaymentError
    elif status == 404:
        kind = NotFoundError
    else:
        kind = ValidationError
    return kind(message, code=code, status=status, details=details)
