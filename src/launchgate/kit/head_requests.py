"""Answer ``HEAD`` wherever ``GET`` is answered: the same status and headers, no body.

FastAPI registers ``@router.get`` for GET alone, so ``HEAD /health`` (what load balancers
and uptime probes send) and ``HEAD /`` were 405 — with an empty ``Allow`` header, since the
405 handler looked for the methods of a HEAD route that did not exist. RFC 9110 §9.3.2 says
a server answers HEAD as it would GET, minus the content. Adding HEAD to every route one by
one would miss the next one; this middleware, outermost, lets the whole app (limits,
authentication, the route) see a GET and drops the body on the way out. ``Content-Length``
stays that of the GET answer, as the RFC allows, so a client learns the size without the bytes.
"""

from __future__ import annotations

from starlette.types import ASGIApp, Message, Receive, Scope, Send


class AnswerHead:
    """Pure ASGI: a HEAD request goes down as a GET; body messages come back empty."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "HEAD":
            await self.app(scope, receive, send)
            return

        async def send_without_body(message: Message) -> None:
            if message["type"] == "http.response.body":
                if message.get("more_body", False):
                    return  # a streamed GET answer: wait for its last part
                message = {"type": "http.response.body", "body": b"", "more_body": False}
            await send(message)

        await self.app({**scope, "method": "GET"}, receive, send_without_body)
