"""Per-IP request limits and the brute-force lockout of SPEC §8, on the ``limits`` library.

Storage is in memory in the embedded mode; the scaled-out mode swaps in Redis storage
by URL so every API process shares one count. With every limit off, ``limits`` (and the
storage back-ends it imports: ~1.6 MB resident, 55 modules) is never imported.
"""

from __future__ import annotations

import contextlib
import math
import time
from collections.abc import Awaitable, Callable, MutableMapping
from typing import TYPE_CHECKING, Any

import structlog

from launchgate.config import Settings

if TYPE_CHECKING:
    from limits import RateLimitItem

log = structlog.get_logger(__name__)

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

# Auth endpoints (SPEC §8): login and API-key creation get the stricter limit.
AUTH_PATHS = {("POST", "/v1/auth/login"), ("POST", "/v1/api-keys")}
UNLIMITED_PATHS = {"/health", "/openapi.json", "/docs"}


def _item(rate: tuple[int, int] | None) -> RateLimitItem | None:
    if rate is None:
        return None
    from limits import RateLimitItemPerSecond

    return RateLimitItemPerSecond(rate[0], rate[1])


class RequestLimits:
    """Holds the three limits; the auth dependency reports failures through it.

    With a Redis URL the counts live in Redis, shared by every API process. If Redis
    cannot be reached the limits fail open (the request goes through, a warning is
    logged at most every ``_WARN_EVERY_S``): an outage of the limiter's store must not
    take the API down with it, and SPEC §12 wants deterministic runs to keep working."""

    _WARN_EVERY_S = 30.0

    def __init__(self, settings: Settings, redis_url: str | None = None) -> None:
        self.api = _item(settings.rate)
        self.auth = _item(settings.auth_rate)
        self.lockout = _item(settings.lockout)
        self._warned_at = 0.0
        self._storage: Any = None
        if self.api is None and self.auth is None and self.lockout is None:
            return  # nothing is ever counted: no storage, no limiter
        from limits.aio.strategies import MovingWindowRateLimiter
        from limits.storage import storage_from_string

        if redis_url:
            self._storage = storage_from_string(
                "async+" + redis_url,
                implementation="redispy",
                key_prefix="launchgate:limits",
                socket_connect_timeout=1.0,
                socket_timeout=1.0,
            )
        else:
            self._storage = storage_from_string("async+memory://")
        self._limiter = MovingWindowRateLimiter(self._storage)

    def _store_down(self, exc: Exception) -> None:
        now = time.monotonic()
        if now - self._warned_at >= self._WARN_EVERY_S:
            self._warned_at = now
            log.warning(
                "request limits unavailable; letting requests through",
                error_type=type(exc).__name__,
            )

    async def _retry_after(self, item: RateLimitItem, key: str) -> int:
        stats = await self._limiter.get_window_stats(item, key)
        return max(1, math.ceil(stats.reset_time - time.time()))

    async def hit(self, item: RateLimitItem | None, key: str) -> int | None:
        """Count one request; return seconds to wait when over the limit, else None."""
        if item is None:
            return None
        try:
            if await self._limiter.hit(item, key):
                return None
            return await self._retry_after(item, key)
        except Exception as exc:
            self._store_down(exc)
            return None

    async def locked_out(self, ip: str) -> bool:
        if self.lockout is None:
            return False
        try:
            return not await self._limiter.test(self.lockout, ip)
        except Exception as exc:
            self._store_down(exc)
            return False

    async def record_auth_failure(self, ip: str) -> None:
        if self.lockout is not None:
            try:
                await self._limiter.hit(self.lockout, ip)
            except Exception as exc:
                self._store_down(exc)

    async def close(self) -> None:
        client = getattr(self._storage, "storage", None)
        close = getattr(client, "aclose", None)
        if close is not None:
            with contextlib.suppress(Exception):
                await close()


def client_ip(scope: Scope) -> str:
    client = scope.get("client")
    return client[0] if client else "unknown"


class LimitsMiddleware:
    """Pure ASGI (no BaseHTTPMiddleware) to keep the hot path of ``POST /v1/run`` cheap."""

    def __init__(self, app: ASGIApp, limits: Callable[[], RequestLimits | None]) -> None:
        self.app = app
        self.limits = limits

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        limits = self.limits() if scope["type"] == "http" else None
        path = scope.get("path", "")
        if limits is None or path in UNLIMITED_PATHS or not path.startswith("/v1"):
            await self.app(scope, receive, send)
            return
        ip = client_ip(scope)
        if await limits.locked_out(ip):
            await _reject(
                send,
                401,
                "UNAUTHORIZED",
                "Too many failed authentications from this address; try again later",
                {},
            )
            return
        wait = await limits.hit(limits.api, "api:" + ip)
        if wait is None and (scope["method"], path) in AUTH_PATHS:
            wait = await limits.hit(limits.auth, "auth:" + ip)
        if wait is not None:
            await _reject(
                send,
                429,
                "RATE_LIMITED",
                f"Too many requests; retry after {wait} s",
                {"retry_after": wait},
                {"retry-after": str(wait)},
            )
            return
        await self.app(scope, receive, send)


async def _reject(
    send: Send,
    status: int,
    code: str,
    message: str,
    details: Any,
    headers: dict[str, str] | None = None,
) -> None:
    import json

    body = json.dumps({"error": {"code": code, "message": message, "details": details}}).encode()
    raw = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    raw += [(k.encode(), v.encode()) for k, v in (headers or {}).items()]
    await send({"type": "http.response.start", "status": status, "headers": raw})
    await send({"type": "http.response.body", "body": body})
