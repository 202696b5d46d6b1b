"""The ASGI app: provider routes, the one request pipeline they share, and the admin API.

Pipeline, in the order the real services check: count the call → pre-auth routing checks
(Azure `api-version`) → key present → key valid → version headers / deployment → JSON body
→ the next scheduled response, if any → body validation → the judge answer in the
provider's structured-output slot. The answer, whatever it is, leaves the configured
latency after the request arrived: the fake's own work counts within the latency, so a
burst of calls is answered ``latency`` after each arrived, as a provider serving them in
parallel would, not spread out by this one process working through them in turn.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Mount, Route
from starlette.types import Receive, Scope, Send

from launchgate.testing.fake_provider.dialect import Dialect
from launchgate.testing.fake_provider.state import (
    Answer,
    ConfigError,
    Scripted,
    State,
    key_fingerprint,
)
from launchgate.testing.fake_provider.wire_anthropic import AnthropicDialect
from launchgate.testing.fake_provider.wire_google import GoogleDialect
from launchgate.testing.fake_provider.wire_openai import AzureDialect, OpenAIDialect

logger = logging.getLogger("launchgate.testing.fake_provider")
SECRET_HEADERS = {
    "authorization",
    "x-api-key",
    "api-key",
    "x-goog-api-key",
    "cookie",
    "proxy-authorization",
}


class DropConnection(Response):
    """Start a response, send a few bytes, then hang up: the client sees a broken stream."""

    def __init__(self) -> None:
        super().__init__(status_code=200)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        headers = [(b"content-type", b"application/json"), (b"content-length", b"4096")]
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        await send({"type": "http.response.body", "body": b'{"id": "', "more_body": True})
        # Returning now leaves the response incomplete; uvicorn closes the transport.


class Pipeline:
    """Runs one provider call through the checks every dialect shares."""

    def __init__(self, state: State) -> None:
        self.state = state
        self.dialects: dict[str, Dialect] = {
            d.provider: d
            for d in (
                OpenAIDialect(state),
                AnthropicDialect(state),
                GoogleDialect(state),
                AzureDialect(state),
            )
        }

    async def handle(
        self,
        request: Request,
        provider: str,
        endpoint: str,
        model: str | None = None,
        name: str | None = None,
    ) -> Response:
        dialect = self.dialects[provider]
        key = dialect.credential(request)
        with self.state.in_flight(provider, endpoint, key) as tallies:
            arrived = time.monotonic()
            latency = self.state.latency_for(provider)
            if latency > 0:
                # Every request of a burst is stamped before any is worked on: the last
                # one's clock does not start after the others' checks and answers.
                await asyncio.sleep(0)
            entry: dict[str, Any] = {"body": None}
            response = await self._respond(request, dialect, endpoint, key, model, name, entry)
            remaining = latency - (time.monotonic() - arrived)
            if remaining > 0:
                await asyncio.sleep(remaining)
            status = "dropped" if isinstance(response, DropConnection) else response.status_code
            self.state.record(tallies, self._entry(request, provider, endpoint, key, status, entry))
            logger.info("%s %s %s -> %s", provider, request.method, request.url.path, status)
            return response

    async def _respond(
        self,
        request: Request,
        dialect: Dialect,
        endpoint: str,
        key: str | None,
        model: str | None,
        name: str | None,
        entry: dict[str, Any],
    ) -> Response:
        provider = dialect.provider
        refusal = self._check_access(request, dialect, key)
        if refusal:
            return refusal
        body: dict[str, Any] = {}
        if endpoint == "chat":
            parsed = await read_json(request)
            if not isinstance(parsed, dict):
                return dialect.bad_json()
            body = entry["body"] = parsed
        model = model if model is not None else str(body.get("model") or "")
        entry["model"] = model
        answer: Answer | None = None
        item = self.state.take_scripted(provider, endpoint)
        if item is not None:
            if item.kind == "drop":
                return DropConnection()
            if item.kind not in ("timeout", "garbage"):
                return dialect.scripted(item, request, model, key)
            answer = await self._soft_scripted(request, provider, item)
        if endpoint == "models":
            return dialect.models(request, name)
        problem = dialect.validate(body)
        if problem:
            return problem
        prompt = dialect.prompt_text(body)
        answer = answer or self.state.policy_for(provider).answer(prompt, self.state.rng)
        return dialect.chat(body, model, answer, prompt)

    def _check_access(self, request: Request, dialect: Dialect, key: str | None) -> Response | None:
        early = dialect.precheck(request)
        if early:
            return early
        if key is None:
            return dialect.missing_key()
        if not self.state.providers[dialect.provider].accepts(key):
            return dialect.invalid_key(key)
        return dialect.check_headers(request)

    async def _soft_scripted(
        self, request: Request, provider: str, item: Scripted
    ) -> Answer | None:
        """Scheduled behaviours that still end in a 200: a hang, or an unparseable answer."""
        if item.kind == "garbage":
            return Answer(self.state.policy_for(provider).text, None)
        deadline = time.monotonic() + item.seconds
        while time.monotonic() < deadline and not await request.is_disconnected():
            await asyncio.sleep(min(0.05, max(0.0, deadline - time.monotonic())))
        return None

    def _entry(
        self,
        request: Request,
        provider: str,
        endpoint: str,
        key: str | None,
        status: int | str,
        entry: dict[str, Any],
    ) -> dict[str, Any]:
        return {
            "at": time.time(),
            "provider": provider,
            "endpoint": endpoint,
            "method": request.method,
            "path": request.url.path,
            "query": {k: v for k, v in request.query_params.items() if k != "key"},
            "headers": {k: v for k, v in request.headers.items() if k not in SECRET_HEADERS},
            "key_fingerprint": key_fingerprint(key) if key else None,
            "model": entry.get("model"),
            "body": entry["body"],
            "status": status,
        }


async def read_json(request: Request) -> Any:
    try:
        return json.loads(await request.body())
    except ValueError:
        return None


def provider_routes(pipeline: Pipeline) -> list[Route]:
    handle = pipeline.handle

    async def v1_models(request: Request) -> Response:
        # OpenAI and Anthropic share GET /v1/models; Anthropic callers send its headers.
        anthropic = "x-api-key" in request.headers or "anthropic-version" in request.headers
        return await handle(request, "anthropic" if anthropic else "openai", "models")

    async def openai_chat(request: Request) -> Response:
        return await handle(request, "openai", "chat")

    async def anthropic_messages(request: Request) -> Response:
        return await handle(request, "anthropic", "chat")

    async def gemini_models(request: Request) -> Response:
        return await handle(request, "google", "models")

    async def gemini_model(request: Request) -> Response:
        name = request.path_params["name"]
        if request.method == "GET":
            return await handle(request, "google", "models", name=name)
        model, _, method = name.rpartition(":")
        if method != "generateContent" or not model:
            return pipeline.dialects["google"].json(
                404,
                {
                    "error": {
                        "code": 404,
                        "message": f"Method not found: {name}",
                        "status": "NOT_FOUND",
                    }
                },
            )
        return await handle(request, "google", "chat", model=model)

    async def azure_models(request: Request) -> Response:
        return await handle(request, "azure_openai", "models")

    async def azure_deployments(request: Request) -> Response:
        return await handle(request, "azure_openai", "models", name="deployments")

    async def azure_chat(request: Request) -> Response:
        deployment = request.path_params["deployment"]
        return await handle(request, "azure_openai", "chat", model=deployment)

    return [
        Route("/v1/models", v1_models, methods=["GET"]),
        Route("/v1/chat/completions", openai_chat, methods=["POST"]),
        Route("/v1/messages", anthropic_messages, methods=["POST"]),
        Route("/v1beta/models", gemini_models, methods=["GET"]),
        Route("/v1beta/models/{name}", gemini_model, methods=["GET", "POST"]),
        Route("/openai/models", azure_models, methods=["GET"]),
        Route("/openai/deployments", azure_deployments, methods=["GET"]),
        Route("/openai/deployments/{deployment}/chat/completions", azure_chat, methods=["POST"]),
    ]


def admin_routes(state: State) -> list[Route]:
    async def health(request: Request) -> Response:
        return JSONResponse({"status": "ok"})

    async def counters(request: Request) -> Response:
        return JSONResponse(state.counters_view())

    async def requests(request: Request) -> Response:
        provider = request.query_params.get("provider")
        found = [r for r in state.recorded if provider in (None, r["provider"])]
        return JSONResponse({"requests": found})

    async def config(request: Request) -> Response:
        return JSONResponse(state.config_view())

    async def configure(request: Request) -> Response:
        try:
            state.configure(await read_json(request))
        except ConfigError as exc:
            return JSONResponse({"error": str(exc)}, status_code=400)
        return JSONResponse(state.config_view())

    async def reset(request: Request) -> Response:
        options = await read_json(request) if await request.body() else {}
        if not isinstance(options, dict):
            return JSONResponse({"error": "reset options must be a JSON object"}, 400)
        done = {
            "counters": bool(options.get("counters", True)),
            "config": bool(options.get("config", True)),
        }
        state.reset(**done)
        return JSONResponse({"reset": done})

    return [
        Route("/health", health, methods=["GET"]),
        Route("/counters", counters, methods=["GET"]),
        Route("/requests", requests, methods=["GET"]),
        Route("/config", config, methods=["GET"]),
        Route("/configure", configure, methods=["POST"]),
        Route("/reset", reset, methods=["POST"]),
    ]


def create_app(state: State | None = None) -> Starlette:
    """The fake provider as an ASGI app; `app.state.fake` is its `State`."""
    state = state or State()
    pipeline = Pipeline(state)
    app = Starlette(
        routes=[*provider_routes(pipeline), Mount("/_admin", routes=admin_routes(state))]
    )
    app.state.fake = state
    return app
