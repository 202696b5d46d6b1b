"""A database session made at its first use, for the hot path's optional reads."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession


class SessionOnDemand:
    """Stands in for an ``AsyncSession`` that a call may not need, and makes the real one
    at its first use. From the embedded caches (verified keys, organisation facts, suite
    snapshots) a plain run reads nothing, and making a session it never uses cost the hot
    path about 0.1 ms per run, in the authentication and again in the run (issue 17)."""

    __slots__ = ("_make", "made")

    def __init__(self, make: Callable[[], AsyncSession]) -> None:
        self._make = make
        self.made: AsyncSession | None = None

    def __getattr__(self, name: str) -> Any:
        if self.made is None:
            self.made = self._make()
        return getattr(self.made, name)
