"""Per-IP request limits and the brute-force lockout of SPEC §8, on the ``limits`` library.

Storage is in memory in the embedded mode; the scaled-out mode swaps in Redis storage
by URL so every API process shares one count.
"""

from __future__ import annotations

import math
import time
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from limits import RateLimitItem, RateLimitItemPerSecond
from limits.aio.strategies import MovingWindowRateLimiter
from limits.storage import storage_from_string

from launchgate.config import Settings

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

# Auth endpoints (SPEC §8): login and API-key creation get the stricter limit.
AUTH_PATHS = {("POST", "/v1/auth/login"), ("POST", "/v1/api-keys")}
UNLIMITED_PATHS = {"/health", "/openapi.json", "/docs", "/redoc"}


def _item(rate: tuple[int, int] | None) -> RateLimitItem | None:
    return None if rate is None else RateLimitItemPerSecond(rate[0], rate[1])


class RequestLimits:
    """Holds the three limits; the auth dependency reports failures through it."""

    def __init__(self, settings: Settings, storage_uri: str = "async+memory://") -> None:
        self._limiter = MovingWindowRateLimiter(storage_from_string(storage_uri))
        self.api = _item(settings.rate)
        self.auth = _item(settings.auth_rate)
        self.lockout = _item(settings.lockout)

    async def _retry_after(self, item: RateLimitItem, key: str) -> int:
        stats = await self._limiter.get_window_stats(item, key)
        return max(1, math.ceil(stats.reset_time - time.time()))

    async def hit(self, item: RateLimitItem | None, key: str) -> int | None:
        """Count one request; return seconds to wait when over the limit, else None."""
        if item is None or await self._limiter.hit(item, key):
            return None
        return await self._retry_after(item, key)

    async def locked_out(self, ip: str) -> bool:
        return self.lockout is not None and not await self._limiter.test(self.lockout, ip)

    async def record_auth_failure(self, ip: str) -> None:
        if self.lockout is not None:
            await self._limiter.hit(self.lockout, ip)


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
            await _reject(send, 401, "UNAUTHORIZED", "Too many failed authentications from this "
                          "address; try again later", {})
            return
        wait = await limits.hit(limits.api, "api:" + ip)
        if wait is None and (scope["method"], path) in AUTH_PATHS:
            wait = await limits.hit(limits.auth, "auth:" + ip)
        if wait is not None:
            await _reject(send, 429, "RATE_LIMITED", f"Too many requests; retry after {wait} s",
                          {"retry_after": wait}, {"retry-after": str(wait)})
            return
        await self.app(scope, receive, send)


async def _reject(
    send: Send, status: int, code: str, message: str, details: Any,
    headers: dict[str, str] | None = None,
) -> None:
    import json

    body = json.dumps({"error": {"code": code, "message": message, "details": details}}).encode()
    raw = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    raw += [(k.encode(), v.encode()) for k, v in (headers or {}).items()]
    await send({"type": "http.response.start", "status": status, "headers": raw})
    await send({"type": "http.response.body", "body": body})
