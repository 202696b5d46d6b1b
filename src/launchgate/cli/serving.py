"""``launchgate serve --workers N``: N API processes answering on one listening socket.

One process serves on one core. On a machine with cores to spare, N processes share the
socket the parent bound (the kernel hands each connection to one of them) under uvicorn's
process supervisor, which restarts a process that dies and stops them all on SIGTERM.

Several processes are allowed only in the scaled-out mode (PostgreSQL and Redis), because
the embedded mode's state is per process and correct only when one process owns the
database: the in-process worker (jobs run where they were sent; at start it releases every
run lease, as no other process can hold one), the judge limiter (each process its own 20
slots per organisation and provider), the request limits (counted per process), the
verified-key and organisation caches (a revocation made through one process would not
reach the others for up to a minute), and SQLite's single writer (each process's
group-commit writer would queue on the one write lock). Scaled out, none of these is per
process: jobs go to Redis for ``launchgate worker`` processes, limits and the judge budget
live on Redis, and every process group-commits to PostgreSQL on its own connection.
"""

from __future__ import annotations

import functools
import socket
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from fastapi import FastAPI

    from launchgate.config import Settings

MAX_WORKERS = 64
# How long the parent waits for every process to start before it says "listening".
READY_TIMEOUT_S = 120.0


def refusal(settings: Settings, workers: int) -> str | None:
    """Why ``workers`` processes cannot serve with these settings (one line), or None."""
    if workers == 1:
        return None
    missing = []
    if settings.embedded:
        missing.append("PostgreSQL (LAUNCHGATE_DATABASE_URL)")
    if not settings.redis_url:
        missing.append("Redis (LAUNCHGATE_REDIS_URL)")
    if not missing:
        return None
    return (
        f"--workers {workers} needs the scaled-out mode: set {' and '.join(missing)}; "
        "the embedded mode's jobs, judge limiter, request limits and SQLite writer belong "
        "to one process (see docs/operations.md)"
    )


def child_app(settings: Settings) -> FastAPI:
    """The app of one worker process, built in that process. A spawned process starts
    from nothing, so it sets up the operator's log level and format first, as the parent
    did for itself. Module-level, so that a ``functools.partial`` of it can be pickled
    into the process."""
    from launchgate.app import create_app
    from launchgate.logging import configure

    configure(settings.log_level, settings.sql_log_level, settings.log_format)
    return create_app(settings, settle_heap=True)


def serve_workers(
    settings: Settings,
    listener: socket.socket,
    workers: int,
    on_ready: Callable[[], None],
) -> bool:
    """Serve with ``workers`` processes until SIGTERM or Ctrl-C. ``on_ready`` is called
    once every process has started and accepts connections. False when a process failed
    to start (its own log says why): the supervisor then stops the others."""
    import uvicorn
    from uvicorn.config import STARTUP_FAILURE
    from uvicorn.supervisors.multiprocess import Multiprocess

    class Supervisor(Multiprocess):
        failed = False

        def init_processes(self) -> None:
            super().init_processes()
            if all(p.wait_until_ready(READY_TIMEOUT_S, self.should_exit) for p in self.processes):
                on_ready()

        def keep_subprocess_alive(self) -> None:
            super().keep_subprocess_alive()
            if any(p.exitcode == STARTUP_FAILURE for p in self.processes):
                self.failed = True  # the supervisor has stopped restarting: it is exiting

    config = uvicorn.Config(
        functools.partial(child_app, settings),
        factory=True,
        workers=workers,
        log_level="warning",
        proxy_headers=False,
        lifespan="on",
    )
    supervisor: Any = Supervisor(config, sockets=[listener])
    supervisor.run()
    return not supervisor.failed
