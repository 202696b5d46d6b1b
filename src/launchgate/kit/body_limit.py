"""The request-body size limit, enforced while the body streams in (pure ASGI).

A body is never buffered past the limit: a declared ``Content-Length`` above it is refused
before a byte is read, and a body without one (chunked) is counted as the application pulls
it and refused as soon as the count passes the limit. The refusal is 413 in the spec's error
envelope, code ``PAYLOAD_TOO_LARGE``.

Why not the framework's own ``max_body_size`` (FastAPI/Starlette): it answers a plain-text
413 outside our error envelope, it replaces *any* response (a 401 included) of a request
whose ``Content-Length`` is too large, and it only checks when something reads the body.
This middleware answers the envelope, refuses a declared size at once, and still lets the
authentication middleware behind it answer 401 to a chunked body it never reads.
"""

from __future__ import annotations

from dataclasses import dataclass

from starlette.datastructures import Headers
from starlette.exceptions import HTTPException
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

CODE = "PAYLOAD_TOO_LARGE"


class BodyTooLarge(HTTPException):
    """The request body passed the limit; raised from ``receive`` to stop the reader.

    An ``HTTPException`` so that FastAPI's body reader re-raises it instead of turning it
    into a 400 "error parsing the body"."""

    def __init__(self, max_bytes: int) -> None:
        super().__init__(status_code=413, detail=too_large_message(max_bytes))
        self.max_bytes = max_bytes


def too_large_message(max_bytes: int) -> str:
    return f"Request body is larger than the limit of {max_bytes} bytes"


def too_large_response(max_bytes: int) -> JSONResponse:
    return JSONResponse(
        {
            "error": {
                "code": CODE,
                "message": too_large_message(max_bytes),
                "details": {"max_bytes": max_bytes},
            }
        },
        status_code=413,
    )


def declared_length(scope: Scope) -> int | None:
    """The ``Content-Length`` header as a number; None when absent or not a number (the
    HTTP server refuses a malformed one before the application sees the request)."""
    value = Headers(scope=scope).get("content-length")
    return int(value) if value is not None and value.isdigit() else None


@dataclass
class _Exchange:
    """One request's count of body bytes and where its response stands."""

    max_bytes: int
    received: int = 0
    exceeded: bool = False
    started: bool = False  # the application's own response has started
    refused: bool = False  # our 413 has been sent in its place


class BodyLimitMiddleware:
    """Refuses a request body larger than ``max_bytes`` with 413, on every route.

    When the limit is passed mid-stream, ``receive`` raises ``BodyTooLarge``. Whatever the
    application then answers — our error handler's 413, a 400 from a parser that caught the
    exception, the dashboard's error page — is replaced by the same 413 envelope, unless its
    response had already started (then the exception is left to the server)."""

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = declared_length(scope)
        if declared is not None and declared > self.max_bytes:
            await too_large_response(self.max_bytes)(scope, receive, send)
            return
        exchange = _Exchange(self.max_bytes)

        async def counted_receive() -> Message:
            if exchange.exceeded:
                raise BodyTooLarge(self.max_bytes)
            message = await receive()
            if message["type"] == "http.request":
                exchange.received += len(message.get("body", b""))
                if exchange.received > self.max_bytes:
                    exchange.exceeded = True
                    raise BodyTooLarge(self.max_bytes)
            return message

        async def guarded_send(message: Message) -> None:
            if exchange.refused:
                return
            if message["type"] == "http.response.start":
                if exchange.exceeded and not exchange.started:
                    await self._refuse(scope, receive, send, exchange)
                    return
                exchange.started = True
            await send(message)

        try:
            await self.app(scope, counted_receive, guarded_send)
        except BodyTooLarge:
            if exchange.started:
                raise
            if not exchange.refused:
                await self._refuse(scope, receive, send, exchange)

    async def _refuse(
        self, scope: Scope, receive: Receive, send: Send, exchange: _Exchange
    ) -> None:
        exchange.refused = True
        await too_large_response(self.max_bytes)(scope, receive, send)
