from __future__ import annotations

import re
from collections.abc import Callable
from typing import TYPE_CHECKING, Annotated, Any, cast
from uuid import UUID

import orjson
from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse, Response
from pydantic import ValidationError
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from launchgate.auth.middleware import authenticated_caller
from launchgate.db import unit_of_work_on_demand
from launchgate.deps import CurrentAuth, RuntimeDep, SessionDep, end_unit
from launchgate.kit.auth_context import AuthContext
from launchgate.kit.body_limit import BodyTooLarge
from launchgate.kit.pagination import Envelope, Page, Paging
from launchgate.models import Run
from launchgate.runs import service
from launchgate.runs.schemas import (
    DryRunEstimate,
    RunAccepted,
    RunComparison,
    RunOut,
    RunRequest,
    RunResult,
    RunStatus,
    RunSummary,
)

if TYPE_CHECKING:
    from launchgate.runtime import ApiRuntime

router = APIRouter(tags=["runs"])


def _failures(scores: list[dict[str, Any]] | None) -> list[dict[str, Any]]:
    return [s for s in scores or [] if s["status"] != "passed"]


def _result(run: Run) -> dict[str, Any]:
    return _result_of({column: getattr(run, column) for column in _RESULT_COLUMNS})


_RESULT_COLUMNS = (
    "id",
    "status",
    "total_cases",
    "passed_cases",
    "failed_cases",
    "error_cases",
    "inconclusive_cases",
    "verdict_detail",
    "pass_rate",
    "duration_ms",
    "cost_usd",
    "scores",
)


def _result_of(values: dict[str, Any]) -> dict[str, Any]:
    """A run's ``RunResult`` fields from its column values (a column not set reads None,
    as on a ``Run`` built from them)."""
    return {
        "id": values["id"],
        "status": values["status"],
        "passed": values["status"] == "cleared",
        "total_cases": values["total_cases"],
        "passed_cases": values["passed_cases"],
        "failed_cases": values["failed_cases"],
        "error_cases": values["error_cases"],
        "inconclusive_cases": values["inconclusive_cases"],
        "verdict_detail": values.get("verdict_detail"),
        "pass_rate": values.get("pass_rate"),
        "duration_ms": values.get("duration_ms"),
        "cost_usd": values.get("cost_usd"),
        "scores": values.get("scores") or [],
        "failures": _failures(values.get("scores")),
    }


def summary(run: Run) -> dict[str, Any]:
    """A run as lists show it (``RunSummary``): also the items of a batch."""
    return {
        **_result(run),
        "suite_id": run.suite_id,
        "batch_id": run.batch_id,
        "key": run.item_key,
        "trigger": run.trigger,
        "trigger_meta": run.trigger_meta,
        "created_at": run.created_at,
        "completed_at": run.completed_at,
    }


def _tokens(scores: list[dict[str, Any]] | None) -> dict[str, int]:
    judged = [s["judge"] for s in scores or [] if s.get("judge")]
    return {
        "input_tokens": sum(j.get("input_tokens", 0) for j in judged),
        "output_tokens": sum(j.get("output_tokens", 0) for j in judged),
    }


def _detail(run: Run) -> RunOut:
    return RunOut.model_validate(
        {
            **_result(run),
            "suite_id": run.suite_id,
            "project_id": run.project_id,
            "batch_id": run.batch_id,
            "key": run.item_key,
            "suite": run.snapshot["suite"],
            "output": run.output,
            "input": run.input,
            "trigger": run.trigger,
            "trigger_meta": run.trigger_meta,
            "snapshot": run.snapshot,
            "judge_tokens": _tokens(run.scores),
            "created_at": run.created_at,
            "started_at": run.started_at,
            "completed_at": run.completed_at,
        }
    )


# An integer JSON cannot hold in 64 bits (19 digits or more): orjson reads it as a float
# where the standard decoder keeps an int, so such a body takes the standard path.
_LONG_NUMBER = re.compile(rb"[0-9]{19}")


async def _lean_run(request: Request) -> Response | None:
    """A synchronous ``POST /v1/run`` with a well-formed body, without FastAPI's dependency
    machinery: the hot path of our customers' applications (issue 17).

    Does what the declared endpoint below does, in the same order and with the same
    services — the caller as the ``AuthMiddleware`` authenticated it, the body validated
    by ``RunRequest``, the reads in a unit of work ended before scoring, the answer
    validated by ``RunResult`` — minus the per-request cost of solving three dependencies,
    of a session the cached path never uses, of the standard JSON decoder and of the
    ``RunResult | DryRunEstimate`` union. Returns None, having done nothing but read the
    body, for everything else: no authenticated caller in the scope, a Content-Type other
    than ``application/json``, a body that orjson cannot read (or that holds an integer
    past 64 bits), a body ``RunRequest`` refuses, a dry run, an async run. The standard
    handler then serves the request from the body read here (``LeanRunLane`` replays it),
    so every error answer and every rare path is exactly FastAPI's."""
    auth = authenticated_caller(request.scope)
    runtime = getattr(request.app.state, "runtime", None)
    if auth is None or runtime is None:
        return None
    body = await _read_run_request(request)
    if body is None or body.dry_run or body.async_:
        return None
    # The reads (usage, the suite's snapshot) in a unit of work of their own, ended
    # before the scoring as ``end_unit`` ends the standard path's.
    values = await _accept(runtime, auth, body)
    if service.needs_worker(values):
        result = _result(await service.finish_sync(runtime, values))
    else:  # the run's values as stored, without a ``Run`` object built from them
        result = _result_of(await service.score_now(runtime, values))
    return _answer(result)


async def _accept(runtime: ApiRuntime, auth: AuthContext, body: RunRequest) -> dict[str, Any]:
    """``service.accept_sync`` in a unit of work of its own, made only if a read needs it."""
    async with unit_of_work_on_demand(runtime.sessions) as session:
        return await service.accept_sync(session, runtime, auth, body)


def _answer(result: dict[str, Any]) -> Response:
    """The 200 answer, validated by ``RunResult`` (what the declared union resolves a
    synchronous run to) and serialised by pydantic-core in one call, by alias as FastAPI
    serialises."""
    body = RunResult.model_validate(result).model_dump_json(by_alias=True).encode()
    return Response(body, media_type="application/json")


async def _read_run_request(request: Request) -> RunRequest | None:
    """The body as ``RunRequest``, or None when the standard handler must read it."""
    content_type = request.headers.get("content-type")
    if content_type is None or content_type.split(";", 1)[0].strip().lower() != (
        "application/json"
    ):
        return None
    try:
        raw = await request.body()
    except Exception:  # a body past the limit, a client gone: the standard handler says so
        return None
    if _LONG_NUMBER.search(raw):
        return None
    try:
        return RunRequest.model_validate(orjson.loads(raw))
    except (orjson.JSONDecodeError, ValidationError):
        return None


class LeanRunLane:
    """Pure ASGI, just inside the ``AuthMiddleware``: ``POST /v1/run`` is served by
    ``_lean_run`` here, without the router. Matching the request against every route
    (FastAPI's included routers recount their versions at each match), the exception
    middleware and the route's own wrappers cost about 15% of the server's CPU per run
    (issue 17), and the answer is the same.

    What ``_lean_run`` leaves (None: an error to report, a dry or async run, another body)
    goes on down the app with the body it read replayed, so the declared endpoint answers
    it exactly as before. An error ``_lean_run`` raises is answered by the app's own
    handler for its class (app.py), as the route's wrapper would have found it; one with
    no handler goes up to the server-error handler, as it did."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if (
            scope["type"] != "http"
            or scope["path"] != RUN_PATH
            or scope["method"] != "POST"
            or authenticated_caller(scope) is None
        ):
            await self.app(scope, receive, send)
            return
        request = Request(scope, receive)
        try:
            body = await request.body()
        except BodyTooLarge:
            raise  # answered 413 by the BodyLimitMiddleware around us
        except Exception:  # a client gone mid-body: what the standard path did for it
            await self.app(scope, receive, send)
            return
        try:
            answer = await _lean_run(request)
        except Exception as exc:
            handler = _handler_for(scope, exc)
            if handler is None:
                raise
            answer = await handler(request, exc)
        if answer is None:
            await self.app(scope, _replay(body, receive), send)
            return
        await answer(scope, receive, send)


RUN_PATH = "/v1/run"


def _handler_for(scope: Scope, exc: Exception) -> Callable[..., Any] | None:
    """The app's handler for ``exc``'s class, looked up by its MRO as Starlette's router
    wrapper does; the catch-all ``Exception`` handler is the server-error middleware's."""
    handlers = scope["app"].exception_handlers
    for cls in type(exc).__mro__:
        if cls is Exception:
            return None
        if cls in handlers:
            return cast("Callable[..., Any]", handlers[cls])
    return None


def _replay(body: bytes, receive: Receive) -> Receive:
    """``receive`` with the body already read handed out once more, first."""
    pending = True

    async def replayed() -> Message:
        nonlocal pending
        if pending:
            pending = False
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return replayed


async def create_run(
    body: RunRequest, auth: CurrentAuth, session: SessionDep, runtime: RuntimeDep
) -> Any:
    # The standard path; plain synchronous runs are served by ``_lean_run`` (see
    # ``LeanRunLane``) and answer exactly as this does. No docstring: it would become the
    # operation's description in the OpenAPI schema.
    if body.dry_run:  # the estimate only: nothing queued or stored, whatever `async` says
        estimate = DryRunEstimate.model_validate(
            await service.dry_run(session, runtime, auth, body)
        )
        return JSONResponse(estimate.model_dump(mode="json"))
    if body.async_:
        run = await service.run_async(session, runtime, auth, body)
        accepted = RunAccepted(
            id=run.id, status="pending", message=f"Run queued; poll GET /v1/runs/{run.id}"
        )
        return JSONResponse(accepted.model_dump(), status_code=202)
    values = await service.accept_sync(session, runtime, auth, body)
    # The reads are done: the request's connection goes back to the pool before the run
    # is scored, which for a judge suite means waiting seconds on the worker.
    await end_unit(session)
    return _result(await service.finish_sync(runtime, values))


router.add_api_route(
    "/run",
    create_run,
    methods=["POST"],
    response_model=RunResult | DryRunEstimate,
    responses={202: {"model": RunAccepted, "description": "Accepted for async scoring"}},
)


@router.get("/runs/{run_id}", response_model=Envelope[RunOut])
async def get_run(run_id: str, auth: CurrentAuth, session: SessionDep) -> Envelope[RunOut]:
    return Envelope(data=_detail(await service.get_run(session, auth, run_id)))


@router.get("/suites/{suite_id}/runs", response_model=Page[RunSummary])
async def list_runs(
    suite_id: UUID,
    auth: CurrentAuth,
    session: SessionDep,
    paging: Paging,
    status: Annotated[RunStatus | None, Query()] = None,
) -> Page[RunSummary]:
    runs, total = await service.list_runs(
        session, auth, suite_id, status, paging.offset, paging.page_size
    )
    return Page.of([RunSummary.model_validate(summary(r)) for r in runs], total, paging)


@router.get("/runs/{run_id}/compare", response_model=Envelope[RunComparison])
async def compare_run(
    run_id: str,
    auth: CurrentAuth,
    session: SessionDep,
    baseline: Annotated[
        str,
        Query(
            min_length=1,
            max_length=28,
            description='A run id of the same suite, or "auto": the latest earlier final run '
            "on the suite's baseline branch (trigger_meta.branch)",
        ),
    ] = "auto",
) -> Envelope[RunComparison]:
    return Envelope(
        data=RunComparison.model_validate(
            await service.compare_runs(session, auth, run_id, baseline)
        )
    )
