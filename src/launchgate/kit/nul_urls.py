"""Refuse a URL that carries a NUL (``%00``) in its path or query, before any route runs.

PostgreSQL cannot compare a text column with a string holding U+0000: a slug such as
``/v1/projects/a%00b`` would reach the database and come back as a driver error (a 500),
where SQLite simply finds nothing. No LaunchGate resource has a NUL in its name, so such a
request is a 400 on every backend, in the error envelope, before authentication or a body
is read. Request bodies are checked by the wire models (``kit/schema.py``).
"""

from __future__ import annotations

from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Receive, Scope, Send

MESSAGE = "The URL contains a NUL character (%00), which no path or query value may hold"


class RefuseNulInUrl:
    """Pure ASGI (no body buffering, no per-request task): two substring checks."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and (
            "\x00" in scope["path"] or b"%00" in scope.get("query_string", b"")
        ):
            response = JSONResponse(
                {"error": {"code": "VALIDATION_ERROR", "message": MESSAGE, "details": None}},
                status_code=400,
            )
            await response(scope, receive, send)
            return
        await self.app(scope, receive, send)
