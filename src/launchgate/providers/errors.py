"""The small typed tree every provider failure is translated into, at the boundary.

Callers (the judge's retry loop, the BYOK key test) branch on the class and on
``retryable``; nobody above this package sees an HTTP status or an httpx exception.
Every message passes through :func:`redact` on the way in, so neither ``str()`` nor
``repr()`` of an error can show a provider key.
"""

from __future__ import annotations

import email.utils
import re
import time
from collections.abc import Iterable, Mapping
from typing import Any, ClassVar

REDACTED = "[redacted]"
_MAX_MESSAGE = 500
_SNIPPET = 200
# What provider keys look like: OpenAI/Anthropic ``sk-…``, Gemini ``AIza…``, and the long
# unbroken alphanumeric runs of Azure keys (32 hex or 84 base62 characters).
_KEY_LIKE = re.compile(r"(?:sk-[A-Za-z0-9_\-*.]{6,}|AIza[A-Za-z0-9_\-]{20,}|\b[A-Za-z0-9]{32,}\b)")


def redact(text: str, secrets: Iterable[str] = ()) -> str:
    """``text`` without the given secrets nor anything shaped like a provider key."""
    for secret in secrets:
        if secret:
            text = text.replace(secret, REDACTED)
    return _KEY_LIKE.sub(REDACTED, text)


class ProviderError(Exception):
    """A provider call failed; ``message`` is safe to show and to store."""

    retryable: ClassVar[bool] = False

    def __init__(
        self,
        provider: str,
        message: str,
        status: int | None = None,
        *,
        retry_after: float | None = None,
    ) -> None:
        clean = redact(message.strip())
        if len(clean) > _MAX_MESSAGE:
            clean = clean[: _MAX_MESSAGE - 1] + "…"
        super().__init__(clean)
        self.provider = provider
        self.message = clean
        self.status = status
        self.retry_after = retry_after

    def __str__(self) -> str:
        return self.message

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(provider={self.provider!r}, status={self.status!r}, "
            f"message={self.message!r})"
        )


class ProviderAuthError(ProviderError):
    """The provider refused the key (401/403, Gemini's API_KEY_INVALID)."""


class ProviderRateLimited(ProviderError):
    """Too many requests for now (429); ``retry_after`` seconds when the provider said."""

    retryable = True


class ProviderQuotaExhausted(ProviderError):
    """The account is out of credit or quota; waiting a few seconds will not help."""


class ProviderServerError(ProviderError):
    """The provider failed on its side (5xx, Anthropic's 529 overloaded, a garbled answer)."""

    retryable = True


class ProviderTimeout(ProviderError):
    """No complete answer within the configured timeout."""

    retryable = True


class ProviderUnreachable(ProviderError):
    """No connection: refused, DNS failure, TLS failure, connection dropped."""

    retryable = True


class ProviderBadRequest(ProviderError):
    """The provider rejected the request itself (other 4xx, incl. 404 unknown model)."""


def retry_after_seconds(headers: Mapping[str, str]) -> float | None:
    """Seconds to wait from ``retry-after-ms``, or ``retry-after`` (seconds or HTTP-date).

    Same precedence as the official OpenAI and Anthropic SDKs; never negative.
    """
    try:
        return max(0.0, float(headers["retry-after-ms"]) / 1000)
    except (KeyError, TypeError, ValueError):
        pass
    value = headers.get("retry-after")
    if value is None:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    parsed = email.utils.parsedate_tz(value)
    if parsed is None:
        return None
    return max(0.0, float(email.utils.mktime_tz(parsed) - time.time()))


def from_status(
    provider: str, status: int, message: str, *, retry_after: float | None = None
) -> ProviderError:
    """The generic status → class rule; provider modules special-case before calling it."""
    if status in (401, 403):
        return ProviderAuthError(provider, message, status)
    if status == 402:
        return ProviderQuotaExhausted(provider, message, status)
    if status == 408:
        return ProviderTimeout(provider, message, status, retry_after=retry_after)
    if status == 429:
        return ProviderRateLimited(provider, message, status, retry_after=retry_after)
    if status >= 500:
        return ProviderServerError(provider, message, status, retry_after=retry_after)
    return ProviderBadRequest(provider, message, status)


def status_error(
    provider: str,
    status: int,
    headers: Mapping[str, str],
    body: Any,
    message: str | None = None,
) -> ProviderError:
    """The generic mapping, with the provider's own ``message`` when its module found one."""
    if not message:
        snippet = body.strip()[:_SNIPPET] if isinstance(body, str) else ""
        message = f"{provider} answered HTTP {status}" + (f": {snippet}" if snippet else "")
    return from_status(provider, status, message, retry_after=retry_after_seconds(headers))
