"""The ASGI app: wiring only. Engines, the worker and the limits are created in the
lifespan, never at import time, so importing the package has no side effects."""

from __future__ import annotations

import asyncio
import contextlib
import re
import uuid
from collections.abc import AsyncIterator
from typing import Any

import structlog
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from sqlalchemy.exc import TimeoutError as PoolTimeout
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import Match

from launchgate import __version__
from launchgate.api import PUBLIC_PATHS, document_security
from launchgate.api import router as v1
from launchgate.api_reference import install as install_api_reference
from launchgate.auth.limits import LimitsMiddleware, RequestLimits
from launchgate.auth.middleware import AuthMiddleware
from launchgate.billing import service as billing
from launchgate.config import Settings, load_settings
from launchgate.dashboard import install as install_dashboard
from launchgate.dashboard.web import SECURITY_HEADERS
from launchgate.db import unit_of_work
from launchgate.errors import LaunchGateError
from launchgate.health.endpoints import router as health
from launchgate.kit import heap, request_errors
from launchgate.kit.body_limit import BodyLimitMiddleware
from launchgate.kit.head_requests import AnswerHead
from launchgate.kit.nul_urls import RefuseNulInUrl
from launchgate.logging import format_handlers
from launchgate.observability import setup_process
from launchgate.observability.http import ObserveRequests, metrics_answer
from launchgate.observability.sql import instrument_engine
from launchgate.runs import service as runs
from launchgate.runs.endpoints import LeanRunLane
from launchgate.runtime import ApiRuntime, Core
from launchgate.wiring import start_api_runtime, stop_api_runtime

log = structlog.get_logger(__name__)
# What a request refused for want of a database connection is told to wait.
POOL_RETRY_AFTER_S = 2

_HTTP_CODES = {
    400: "VALIDATION_ERROR",
    401: "UNAUTHORIZED",
    402: "USAGE_LIMIT_EXCEEDED",
    404: "NOT_FOUND",
    405: "METHOD_NOT_ALLOWED",
    409: "CONFLICT",
    413: "PAYLOAD_TOO_LARGE",
    415: "VALIDATION_ERROR",
    422: "VALIDATION_ERROR",
    429: "RATE_LIMITED",
}


def _envelope(
    status: int, code: str, message: str, details: Any = None, headers: dict[str, str] | None = None
) -> JSONResponse:
    return JSONResponse(
        {"error": {"code": code, "message": message, "details": details}},
        status_code=status,
        headers=headers,
    )


def _allowed_methods(request: Request) -> str:
    """Starlette's 405 names only the first route that matched the path; a path served by
    several routes (GET and POST on /v1/projects) must list them all. The documented
    operations are the truth, so they are read from the OpenAPI schema; where a literal
    path and a templated one both match, the most literal one describes the resource."""
    table: list[tuple[int, re.Pattern[str], set[str]]] | None = getattr(
        request.app.state, "allow", None
    )
    if table is None:
        table = [
            (
                path.count("{"),
                re.compile("^" + re.sub(r"\\{[^/]+?\\}", "[^/]+", re.escape(path)) + "$"),
                {method.upper() for method in operations},
            )
            for path, operations in request.app.openapi()["paths"].items()
        ]
        request.app.state.allow = table
    matches = [(params, m) for params, pattern, m in table if pattern.match(request.url.path)]
    fewest = min((params for params, _ in matches), default=0)
    methods = set().union(*(m for params, m in matches if params == fewest))
    if not methods:  # a dashboard page: hidden from the schema, so ask the routes
        methods = _routed_methods(request)
    if "GET" in methods:
        methods.add("HEAD")
    return ", ".join(sorted(methods))


def _routed_methods(request: Request) -> set[str]:
    """The methods the app's routes answer on this path, for the paths the OpenAPI schema
    does not list (the dashboard's pages): without it their 405 said ``Allow:`` (empty)."""
    routes = request.app.router.routes
    return {
        method
        for method in ("GET", "POST", "PUT", "PATCH", "DELETE")
        if any(
            route.matches({**request.scope, "method": method})[0] == Match.FULL for route in routes
        )
    }


def _pool_exhausted() -> JSONResponse:
    """Every database connection of the pool stayed busy for its whole timeout: the server
    is at capacity, which is a 503 to retry, not a 500 (issue 11)."""
    log.warning("database pool exhausted")
    return _envelope(
        503,
        "SERVICE_UNAVAILABLE",
        f"The server is at capacity (no database connection came free); retry in "
        f"{POOL_RETRY_AFTER_S} s",
        None,
        {"Retry-After": str(POOL_RETRY_AFTER_S)},
    )


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(LaunchGateError)
    async def _ours(_: Request, exc: LaunchGateError) -> JSONResponse:
        return _envelope(exc.status_code, exc.code, exc.message, exc.details, exc.headers)

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
        # Field, message and type (and where JSON broke): never the input (it may be a key).
        details = request_errors.describe(
            list(exc.errors()), exc.body, request.headers.get("content-type")
        )
        first = details[0] if details else {"field": "body", "message": "invalid"}
        message = first["message"]
        if first["field"] and first["field"] != "body":  # a body-level message says "body"
            message = f"{first['field']}: {message}"
        return _envelope(400, "VALIDATION_ERROR", message, details)

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        code = _HTTP_CODES.get(exc.status_code, "INTERNAL_ERROR")
        status = 400 if exc.status_code in (415, 422) else exc.status_code
        message = {404: "Not found", 405: "Method not allowed"}.get(status, str(exc.detail))
        headers = getattr(exc, "headers", None)
        if status == 405:
            headers = {"Allow": _allowed_methods(request)}
        return _envelope(status, code, message, None, headers)

    @app.exception_handler(PoolTimeout)
    async def _pool(_: Request, exc: PoolTimeout) -> JSONResponse:
        return _pool_exhausted()

    @app.exception_handler(Exception)
    async def _crash(request: Request, exc: Exception) -> JSONResponse:
        if isinstance(exc, PoolTimeout):  # raised in a middleware (authentication), not below
            return _pool_exhausted()
        # The request's own id (X-Request-ID, observability/http.py): the one its other
        # log lines carry. This handler runs outside that middleware, so it is re-bound.
        request_id = getattr(request.state, "request_id", None) or uuid.uuid4().hex
        log.error("unhandled error", request_id=request_id, error_type=type(exc).__name__)
        return _envelope(
            500,
            "INTERNAL_ERROR",
            "Internal error; quote this request id to support",
            {"request_id": request_id},
            {"X-Request-ID": request_id},
        )


async def _resume_open_runs(runtime: ApiRuntime, retry_s: float = 5.0) -> None:
    """The database is the source of truth: runs a stopped server left open resume now.

    Runs in the background and retries until the database answers, so a server whose
    database is down at start still starts (and says so on /health).
    """
    if not runtime.queue.in_process:
        return  # scaled out: the workers' sweep re-queues runs no live worker holds
    while True:
        try:
            async with unit_of_work(runtime.sessions) as session:
                # This process is the only one on its database: no earlier lease is alive.
                await runs.release_leases(session)
                run_ids, batch_ids = await runs.open_runs(session)
            break
        except Exception as exc:
            log.warning("cannot resume open runs yet", error_type=type(exc).__name__)
            await asyncio.sleep(retry_s)
    for run_id in run_ids:
        await runtime.queue.enqueue("run.execute", run_id=run_id)
    for batch_id in batch_ids:
        await runtime.queue.enqueue("batch.execute", batch_id=batch_id)
    if run_ids or batch_ids:
        log.info("resumed open runs", count=len(run_ids), batches=len(batch_ids))


async def _retention_loop(runtime: Core) -> None:
    interval = runtime.settings.retention_sweep_interval_s
    while interval:
        try:
            async with unit_of_work(runtime.sessions) as session:
                deleted = await billing.sweep_retention(
                    session, runtime.settings.enterprise_retention_days
                )
            if deleted:
                log.info("retention sweep", deleted=deleted)
        except Exception as exc:
            log.warning("retention sweep failed", error_type=type(exc).__name__)
        await asyncio.sleep(interval)


def create_app(settings: Settings | None = None, *, settle_heap: bool = False) -> FastAPI:
    """The app. ``settle_heap``: once started, move start-up's objects out of the garbage
    collector's way (kit/heap.py); for a server process, never for a test's apps."""
    settings = settings or load_settings()
    setup_process(settings, "launchgate-api")

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        runtime = await start_api_runtime(settings)
        instrument_engine(runtime.engine)  # a span per statement, when tracing is on
        format_handlers(settings.log_format)  # uvicorn's handlers, added since create_app
        app.state.runtime = runtime
        if settle_heap:
            heap.settle()
        background = [
            asyncio.create_task(_resume_open_runs(runtime)),
            asyncio.create_task(_retention_loop(runtime)),
        ]
        try:
            yield
        finally:
            for task in background:
                task.cancel()
            for task in background:
                with contextlib.suppress(asyncio.CancelledError):
                    await task
            await stop_api_runtime(runtime)

    app = FastAPI(
        title="LaunchGate",
        version=__version__,
        lifespan=lifespan,
        description="Score an AI output against an eval suite: cleared for launch, or aborted.",
        # /docs is served from the package (api_reference), not from a CDN; no /redoc.
        docs_url=None,
        redoc_url=None,
    )
    install_error_handlers(app)
    _document_security(app)
    if settings.metrics == "on":
        _install_metrics(app, settings)
    app.include_router(health)
    app.include_router(v1)
    install_api_reference(app, SECURITY_HEADERS)  # the dashboard's policy for a page too
    install_dashboard(app)  # after the API: its pages never shadow an API path
    # The last added runs first: per-IP limits, the declared body size (413 unread), the
    # credential (401 unread); the body is counted as the endpoint reads it (413 past it).
    # Innermost: a plain POST /v1/run is served here, past the authentication, without
    # the router (runs/endpoints.py).
    app.add_middleware(LeanRunLane)
    app.add_middleware(
        AuthMiddleware,
        runtime=lambda: getattr(app.state, "runtime", None),
        public_paths=PUBLIC_PATHS,
        router=app.router,
        openapi=app.openapi,
    )
    app.add_middleware(BodyLimitMiddleware, max_bytes=settings.max_body_bytes)
    app.add_middleware(RefuseNulInUrl)  # a %00 would reach PostgreSQL as a 500
    app.add_middleware(LimitsMiddleware, limits=lambda: _limits(app))
    # The request id, metric, span and access line of every answer, the limits' included.
    app.add_middleware(ObserveRequests, openapi=app.openapi)
    app.add_middleware(AnswerHead)  # outermost: HEAD is a GET all the way down, minus the body
    return app


def _install_metrics(app: FastAPI, settings: Settings) -> None:
    """``GET /metrics`` (LAUNCHGATE_METRICS=on): this process's Prometheus page, behind
    LAUNCHGATE_METRICS_TOKEN when set. Off, the path is not routed at all: a 404."""
    # An empty LAUNCHGATE_METRICS_TOKEN (compose passes one through) is no token.
    token = (settings.metrics_token.get_secret_value() if settings.metrics_token else "") or None

    async def depth() -> int:
        runtime: ApiRuntime | None = getattr(app.state, "runtime", None)
        return await runtime.queue.depth() if runtime else 0

    @app.get("/metrics", include_in_schema=False)
    async def metrics_page(request: Request) -> Response:
        return await metrics_answer(request.headers.get("authorization"), token, depth)


def _document_security(app: FastAPI) -> None:
    build = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            app.openapi_schema = document_security(build())
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]


def _limits(app: FastAPI) -> RequestLimits | None:
    runtime: ApiRuntime | None = getattr(app.state, "runtime", None)
    return runtime.limits if runtime else None
