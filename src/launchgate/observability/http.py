"""The HTTP side of observability: a request's id, metric, span and access line
(``ObserveRequests``), and the ``/metrics`` page's answer (``metrics_answer``).

Metrics label a request by its route's template (``/v1/runs/{run_id}``), never by its
raw path: a path holds ids (unbounded) and a mistyped path anything a caller sends.
A request no route took (a 404 from a scanner) is ``unmatched``.
"""

from __future__ import annotations

import hmac
import re
import time
from collections.abc import Awaitable, Callable
from typing import Any

import structlog
from starlette.responses import JSONResponse, Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from launchgate.observability import context, metrics, tracing

log = structlog.get_logger("launchgate.http")
_HEADER = context.HEADER.lower().encode("latin-1")
UNMATCHED = "unmatched"


class ObserveRequests:
    """Pure ASGI, outermost but for ``AnswerHead``: it sees every answer, the ones the
    limits and the authentication give before any route included."""

    def __init__(self, app: ASGIApp, openapi: Callable[[], dict[str, Any]]) -> None:
        self.app = app
        self.openapi = openapi  # the documented paths, for requests answered unrouted
        self._table: list[tuple[int, re.Pattern[str], str]] | None = None
        self._static: frozenset[str] = frozenset()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = dict(scope["headers"])
        raw = headers.get(_HEADER)
        request_id = context.accept(raw.decode("latin-1") if raw is not None else None)
        # The error handler of a crash (app.py) quotes it; it runs outside this block.
        scope.setdefault("state", {})["request_id"] = request_id
        status = 500  # unless an answer starts: an exception went up to the crash handler
        started = time.perf_counter()

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message["headers"] = [
                    *(h for h in message.get("headers", []) if h[0].lower() != _HEADER),
                    (_HEADER, request_id.encode("latin-1")),
                ]
            await send(message)

        if not tracing.active():  # the default: no span to open (two generators fewer)
            with context.bound(request_id):
                try:
                    await self.app(scope, receive, send_with_id)
                finally:
                    self._record(scope, None, status, time.perf_counter() - started)
            return
        with (
            context.bound(request_id),
            tracing.extract(_trace_headers(headers)),
            tracing.span(scope["method"], kind="server") as span,
        ):
            try:
                await self.app(scope, receive, send_with_id)
            finally:
                self._record(scope, span, status, time.perf_counter() - started)

    def _record(self, scope: Scope, span: Any, status: int, seconds: float) -> None:
        route = self._route(scope)
        metrics.http_request(route, status)
        if span is not None:
            span.update_name(f"{scope['method']} {route}")
            span.set_attributes(
                {
                    "http.request.method": scope["method"],
                    "http.route": route,
                    "http.response.status_code": status,
                }
            )
            if status >= 500:
                from opentelemetry.trace import Status, StatusCode

                span.set_status(Status(StatusCode.ERROR))
        log.debug(
            "request",
            method=scope["method"],
            route=route,
            status=status,
            duration_ms=round(seconds * 1000, 1),
        )

    def _route(self, scope: Scope) -> str:
        """The template of the route that answered (FastAPI's effective route: the full
        path of a route in an included router), or of the documented path the request
        names when it was answered before routing (a 401, a 429), or ``unmatched``."""
        effective = scope.get("fastapi", {}).get("effective_route_context")
        template = getattr(effective, "path_format", None)
        if isinstance(template, str):
            return template
        path = getattr(scope.get("route"), "path", None)
        if isinstance(path, str):
            return path
        return self._documented(scope["path"])

    def _documented(self, path: str) -> str:
        if self._table is None:  # built on first use: the schema needs every route added
            paths = list(self.openapi().get("paths", {}))
            self._static = frozenset(p for p in paths if "{" not in p)
            self._table = sorted(
                (
                    (
                        p.count("{"),
                        re.compile("^" + re.sub(r"\\{[^/]+?\\}", "[^/]+", re.escape(p)) + "$"),
                        p,
                    )
                    for p in paths
                ),
                key=lambda entry: entry[0],
            )
        if path in self._static:  # POST /v1/run, answered by a lane the router never sees
            return path
        for _, pattern, template in self._table:
            if pattern.match(path):
                return template
        return UNMATCHED


def _trace_headers(headers: dict[bytes, bytes]) -> dict[str, str]:
    """A caller's W3C trace context, so a traced client's request joins its trace."""
    return {
        name: headers[name.encode()].decode("latin-1")
        for name in ("traceparent", "tracestate")
        if name.encode() in headers
    }


async def metrics_answer(
    authorization: str | None, token: str | None, depth: Callable[[], Awaitable[int]]
) -> Response:
    """``GET /metrics``: 401 without the bearer ``token`` (when one is set; compared in
    constant time), else the queue's depth read now and the Prometheus page."""
    if token is not None:
        given = (authorization or "").encode("utf-8", "replace")
        if not hmac.compare_digest(given, f"Bearer {token}".encode()):
            return JSONResponse(
                {
                    "error": {
                        "code": "UNAUTHORIZED",
                        "message": "Metrics need the bearer token of LAUNCHGATE_METRICS_TOKEN",
                        "details": None,
                    }
                },
                status_code=401,
                headers={"WWW-Authenticate": "Bearer"},
            )
    try:
        metrics.queue_depth(await depth())
    except Exception as exc:  # the queue down: the page still answers, with the last depth
        log.warning("queue depth unreadable", error_type=type(exc).__name__)
    return Response(metrics.render(), media_type=metrics.CONTENT_TYPE)
