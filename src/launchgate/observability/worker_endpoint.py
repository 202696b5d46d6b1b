"""``GET /metrics`` of a ``launchgate worker`` process, which has no HTTP server of its own.

Metrics are per process (docs/observability.md): the judge calls, runs and cases of the
scaled-out mode happen in workers, so each worker answers its own scrape on a small
aiohttp server, the same page and the same bearer token as the API's ``/metrics``.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable

from aiohttp import web

from launchgate.observability.http import metrics_answer


@contextlib.asynccontextmanager
async def serve_metrics(
    host: str, port: int, token: str | None, depth: Callable[[], Awaitable[int]]
) -> AsyncIterator[int]:
    """Serve ``/metrics`` on ``host:port`` inside the block; yields the port bound
    (``port=0`` takes a free one). Every other path is a 404."""

    async def page(request: web.Request) -> web.Response:
        answer = await metrics_answer(request.headers.get("Authorization"), token, depth)
        headers = {k: v for k, v in answer.headers.items() if k.lower() != "content-length"}
        return web.Response(body=answer.body, status=answer.status_code, headers=headers)

    app = web.Application()
    app.router.add_get("/metrics", page)
    runner = web.AppRunner(app, access_log=None, handle_signals=False)
    await runner.setup()
    site = web.TCPSite(runner, host, port)
    await site.start()
    server = site._server
    sockets = getattr(server, "sockets", None) or []
    bound = sockets[0].getsockname()[1] if sockets else port
    try:
        yield int(bound)
    finally:
        await runner.cleanup()
