"""One request's attempts: why each one failed, whether to try again, and what to raise
when there is no point. Shared by the sync and async clients, which do their own sending
and sleeping.

A failure is one of three kinds (issue 12: fail-open must never be silent):

- **A configuration error**, raised at once as ``ConfigError``: the base URL's host does
  not resolve, or httpx refuses the URL. No server was ever asked, so passing the gate as
  "skipped" would hide a typo or a missing ``LAUNCHGATE_API_URL`` behind an outage.
- **Transient**: connection refused, a timeout, a dropped connection, 5xx, 429, an answer
  that is not JSON. Retried; after the last attempt ``UnreachableError`` names the URL and
  the cause, and ``run`` turns it into a skip unless fail-open is off.
- **A DNS lookup that failed for now** (``EAI_AGAIN``: the resolver did not answer) is
  retried like a transient failure and is a ``ConfigError`` if it still fails at the end: a
  name that cannot be looked up is no outage of the server behind it.
"""

from __future__ import annotations

import logging
import socket
from collections.abc import Iterator
from dataclasses import dataclass
from urllib.parse import urlsplit

import httpx

from launchgate.sdk._http import RetryPolicy, Transient, describe
from launchgate.sdk.config import ClientConfig
from launchgate.sdk.errors import ConfigError, UnreachableError

log = logging.getLogger("launchgate.sdk")

# What each client catches around one attempt.
FAILURES = (httpx.TransportError, httpx.InvalidURL, Transient)


@dataclass(frozen=True)
class Failure:
    """One failed attempt: ``cause`` in a few words (``connection refused``), ``detail`` the
    line the library or the server gave."""

    cause: str
    detail: str
    retry_after: float | None = None
    dns: bool = False  # the host did not resolve
    final: bool = False  # a configuration error: no retry can help


class Attempts:
    """Counts the attempts of one request and decides, after each failure, between waiting
    and trying again, ``ConfigError`` and ``UnreachableError``."""

    def __init__(self, config: ClientConfig, policy: RetryPolicy, method: str, path: str) -> None:
        self.config = config
        self.policy = policy
        self.method = method
        self.path = path
        self.count = 0

    def failed(self, exc: Exception) -> float:
        """Record a failed attempt; the seconds to wait before the next one, or raise."""
        self.count += 1
        failure = classify(exc)
        if failure.final:
            raise self._config_error(failure)
        if self.count < self.policy.attempts:
            delay = self.policy.delay(self.count - 1, failure.retry_after)
            log.debug(
                "attempt %d of %s %s failed (%s: %s); retrying in %.3g s",
                self.count,
                self.method,
                self.path,
                failure.cause,
                failure.detail,
                delay,
            )
            return delay
        if failure.dns:
            raise self._config_error(failure)
        times = "once" if self.count == 1 else f"{self.count} times"
        raise UnreachableError(
            f"LaunchGate API at {self.config.base_url} unreachable: {failure.cause} — "
            f"{self.method} {self.path} failed {times} (last: {failure.detail})",
            self.count,
            url=self.config.base_url,
            cause=failure.cause,
        )

    def _config_error(self, failure: Failure) -> ConfigError:
        where = self.config.where_the_url_came_from()
        if failure.dns:
            host = urlsplit(self.config.base_url).hostname or self.config.base_url
            return ConfigError(
                f"The LaunchGate API host {host!r} does not resolve (DNS failure: "
                f"{failure.detail}); {where}",
                code="DNS_FAILURE",
            )
        return ConfigError(
            f"Invalid LaunchGate base URL {self.config.base_url!r}: {failure.detail}; {where}",
            code="BAD_BASE_URL",
        )


def classify(exc: Exception) -> Failure:
    """What one failed attempt means; see the module's docstring for the three kinds."""
    if isinstance(exc, Transient):
        return Failure(exc.cause, exc.reason, exc.retry_after)
    if isinstance(exc, httpx.InvalidURL | httpx.UnsupportedProtocol):
        return Failure("invalid URL", str(exc), final=True)
    detail = describe(exc) if isinstance(exc, httpx.TransportError) else str(exc)
    for cause in _chain(exc):
        if isinstance(cause, socket.gaierror):
            temporary = cause.errno == socket.EAI_AGAIN
            return Failure("DNS failure", str(cause), dns=True, final=not temporary)
        if isinstance(cause, ConnectionRefusedError):
            return Failure("connection refused", detail)
    if isinstance(exc, httpx.ConnectTimeout):
        return Failure("connect timeout", detail)
    if isinstance(exc, httpx.TimeoutException):
        return Failure("timeout", detail)
    if isinstance(exc, httpx.RemoteProtocolError | httpx.ReadError | httpx.WriteError):
        return Failure("connection dropped", detail)
    if isinstance(exc, httpx.ConnectError):
        return Failure("connection failed", detail)
    return Failure("network error", detail)


def _chain(exc: BaseException) -> Iterator[BaseException]:
    """The exception and what caused it, as httpx and httpcore re-raise the socket's."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        yield current
        current = current.__cause__ or current.__context__
