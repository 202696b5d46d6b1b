"""The job registry: domains declare jobs by name in their ``tasks.py``; the worker
(the only module that knows the queue library) looks them up and runs them.

A job is ``async def fn(runtime, **payload)``; payloads are JSON-safe keyword args.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

Job = Callable[..., Awaitable[Any]]
J = TypeVar("J", bound=Job)
_JOBS: dict[str, Job] = {}


def job(name: str) -> Callable[[J], J]:
    """Registers the decorated function under ``name``, and gives it back unchanged (its
    own type included, so that a caller sees the coroutine function it is)."""

    def register(fn: J) -> J:
        _JOBS[name] = fn
        return fn

    return register


def get_job(name: str) -> Job:
    try:
        return _JOBS[name]
    except KeyError:
        raise LookupError(f"no job named {name!r} is registered") from None
