"""Authenticate a ``/v1`` request before a byte of its body is read (pure ASGI).

FastAPI reads and parses a JSON body before it solves an endpoint's dependencies, so an
authentication dependency alone would let an anonymous caller make the server read and
parse a large body before the 401. This middleware authenticates the ``Authorization``
header first, in a short session of its own (closed before the endpoint runs), and leaves
the caller in the ASGI scope's state, where the ``CurrentAuth`` dependency
(``launchgate.deps``) takes it without authenticating again — so a failure is counted once
towards the lockout, by ``service.authenticate``.

Only a request that a private route will serve is authenticated here: an unknown path
keeps its 404 and a wrong method its 405, whoever asks (neither reads a body). Matching
every route (FastAPI's included routers recount their versions at each match) cost about
7% of the server's CPU per run, as much as the router's own match after it (issue 17), so
a documented operation on a path without parameters (``POST /v1/run``) is recognised by a
set lookup instead; every other request is matched route by route.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from starlette.datastructures import Headers
from starlette.responses import JSONResponse
from starlette.routing import Match, Router
from starlette.types import ASGIApp, Receive, Scope, Send

from launchgate.auth.limits import client_ip
from launchgate.auth.service import authenticate
from launchgate.db import unit_of_work_on_demand
from launchgate.errors import LaunchGateError
from launchgate.kit.auth_context import AuthContext

if TYPE_CHECKING:
    from launchgate.runtime import ApiRuntime

# The key of the caller in ``scope["state"]`` (what ``request.state`` reads).
STATE_KEY = "launchgate_auth"


def authenticated_caller(scope: Scope) -> AuthContext | None:
    """The caller this middleware authenticated for the request, if it did."""
    caller = scope.get("state", {}).get(STATE_KEY)
    return caller if isinstance(caller, AuthContext) else None


def needs_credential(path: str, public_paths: tuple[str, ...]) -> bool:
    """Every ``/v1`` path but the public ones (the same paths the OpenAPI schema
    documents without security: ``launchgate.api.PUBLIC_PATHS``)."""
    return path.startswith("/v1/") and not is_public(path, public_paths)


def is_public(path: str, public_paths: tuple[str, ...]) -> bool:
    """``path`` is one of ``public_paths`` or below one (``/v1/templates/{slug}``), at a
    segment boundary: ``/v1/billing/webhooks`` is not the webhook's ``/v1/billing/webhook``
    and would need a credential."""
    exact, below = _public(public_paths)
    return path in exact or path.startswith(below)


@functools.lru_cache(maxsize=4)
def _public(public_paths: tuple[str, ...]) -> tuple[frozenset[str], tuple[str, ...]]:
    return frozenset(public_paths), tuple(path.rstrip("/") + "/" for path in public_paths)


def static_operations(schema: dict[str, Any]) -> frozenset[tuple[str, str]]:
    """``(METHOD, path)`` of each documented operation whose path has no parameter: a
    request naming one exactly is served by that route, so it needs no matching."""
    return frozenset(
        (method.upper(), path)
        for path, operations in schema.get("paths", {}).items()
        if "{" not in path
        for method in operations
    )


def routed(router: Router, scope: Scope) -> bool:
    """True when a route serves this method and path. Matched on a copy of the scope:
    FastAPI's matching notes its progress in the scope it is given."""
    probe = dict(scope)
    return any(route.matches(probe)[0] is Match.FULL for route in router.routes)


async def _authenticate(runtime: ApiRuntime, header: str | None, ip: str) -> AuthContext:
    """In a session of its own, made only if the lookup needs one (a cached key needs
    none), and ended before the endpoint runs: committed when the lookup began a
    transaction (a key read, its ``last_used_at`` touched at most once a minute)."""
    async with unit_of_work_on_demand(runtime.sessions) as session:
        return await authenticate(session, runtime, header, ip)


def _refusal(exc: LaunchGateError) -> JSONResponse:
    return JSONResponse(
        {"error": {"code": exc.code, "message": exc.message, "details": exc.details}},
        status_code=exc.status_code,
        headers=exc.headers or None,
    )


class AuthMiddleware:
    """Answers 401 (in the error envelope, with the dependency's exact messages) to a
    private ``/v1`` request without a valid credential, before its body is read."""

    def __init__(
        self,
        app: ASGIApp,
        runtime: Callable[[], ApiRuntime | None],
        public_paths: tuple[str, ...],
        router: Router,
        openapi: Callable[[], dict[str, Any]],
    ) -> None:
        self.app = app
        self.runtime = runtime
        self.public_paths = public_paths
        self.router = router
        self.openapi = openapi
        # Built on the first private request: the schema needs every route added.
        self._static: frozenset[tuple[str, str]] | None = None

    def _routed(self, scope: Scope) -> bool:
        if self._static is None:
            self._static = static_operations(self.openapi())
        return (scope["method"], scope["path"]) in self._static or routed(self.router, scope)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        runtime = self.runtime() if scope["type"] == "http" else None
        if (
            runtime is None
            or not needs_credential(scope["path"], self.public_paths)
            or not self._routed(scope)
        ):
            await self.app(scope, receive, send)
            return
        header = Headers(scope=scope).get("authorization")
        try:
            caller = await _authenticate(runtime, header, client_ip(scope))
        except LaunchGateError as exc:
            await _refusal(exc)(scope, receive, send)
            return
        scope.setdefault("state", {})[STATE_KEY] = caller
        await self.app(scope, receive, send)
