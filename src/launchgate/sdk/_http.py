"""What the sync and async clients share: the retry policy, request building and the
reading of answers. No I/O here — each client does its own sending and sleeping.

Retried (SPEC §11): network errors, 5xx, 429 and a success that is not JSON (a proxy's
error page is an outage, not an answer). Never retried: 400, 401, 402, 404 and the other
4xx, which become typed exceptions at once.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from email.utils import parsedate_to_datetime
from typing import Any

import httpx

from launchgate.sdk.errors import error_for_status

# The distribution that ships this package (pyproject.toml's [project] name; "launchgate" on
# PyPI is an unrelated project). The import name is `launchgate`.
DISTRIBUTION = "launchgate-eval"


@dataclass(frozen=True)
class RetryPolicy:
    """``max_retries`` retries after the first attempt, waiting ``backoff × 2ⁿ`` seconds
    (1, 2, 4 by default), or longer when the server's ``Retry-After`` asks for it, up to
    ``max_retry_after``."""

    max_retries: int = 3
    backoff: float = 1.0
    max_retry_after: float = 60.0

    @property
    def attempts(self) -> int:
        return self.max_retries + 1

    def delay(self, retry: int, retry_after: float | None) -> float:
        wait = self.backoff * (2**retry)
        if retry_after is not None:
            wait = max(wait, min(retry_after, self.max_retry_after))
        return wait


class Transient(Exception):
    """An attempt that may succeed if repeated; ``reason`` is one printable line, ``cause``
    the same in a few words (``HTTP 503``) for the message of a skip."""

    def __init__(self, reason: str, retry_after: float | None = None, cause: str = "") -> None:
        super().__init__(reason)
        self.reason = reason
        self.retry_after = retry_after
        self.cause = cause or reason


def headers(api_key: str, version: str) -> dict[str, str]:
    return {
        "Authorization": f"Bearer {api_key}",
        "Accept": "application/json",
        "User-Agent": f"launchgate-python/{version}",
    }


def read_answer(response: httpx.Response) -> dict[str, Any]:
    """The JSON object of a 2xx answer; ``Transient`` for what deserves a retry; the typed
    ``LaunchGateError`` for any other 4xx."""
    status = response.status_code
    if status == 429 or status >= 500:
        code, message, _ = _error_fields(response)
        cause = f"HTTP {status}" + (" (rate limited)" if status == 429 else "")
        raise Transient(f"HTTP {status} {code}: {message}", _retry_after(response), cause)
    if status >= 400:
        code, message, details = _error_fields(response)
        raise error_for_status(status, code, message, details)
    try:
        data = response.json()
    except (json.JSONDecodeError, UnicodeDecodeError):
        raise Transient(
            f"HTTP {status} with a body that is not JSON", cause="an answer that is not JSON"
        ) from None
    if not isinstance(data, dict):
        raise Transient(
            f"HTTP {status} with a body that is not a JSON object",
            cause="an answer that is not JSON",
        )
    return data


def describe(exc: httpx.TransportError) -> str:
    """One line naming a network failure, e.g. ``ConnectError: [Errno 111] …``."""
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


def sdk_version() -> str:
    """The installed package's version, for the User-Agent (read from metadata, since the
    SDK imports nothing else of launchgate)."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version(DISTRIBUTION)
    except PackageNotFoundError:
        return "unknown"


def _error_fields(response: httpx.Response) -> tuple[str, str, Any]:
    """The envelope's code, message and details; an HTTP-status fallback for anything else
    (a proxy's page, an empty body)."""
    try:
        error = response.json().get("error")
    except (json.JSONDecodeError, UnicodeDecodeError, AttributeError):
        error = None
    if isinstance(error, dict) and isinstance(error.get("message"), str):
        return (
            str(error.get("code") or f"HTTP_{response.status_code}"),
            error["message"],
            error.get("details"),
        )
    text = " ".join(response.text.split())[:200] or response.reason_phrase
    return f"HTTP_{response.status_code}", text, None


def _retry_after(response: httpx.Response) -> float | None:
    """Seconds from ``Retry-After``: a number (fractions tolerated) or an HTTP date."""
    value = response.headers.get("Retry-After")
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    from datetime import UTC, datetime

    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - datetime.now(UTC)).total_seconds())
