from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Literal


@dataclass(frozen=True, slots=True)
class AuthContext:
    """The caller of a request, as SPEC §8 names it. Every query is scoped by ``org_id``."""

    org_id: uuid.UUID
    auth_mode: Literal["api_key", "jwt"]
    user_id: uuid.UUID | None = None
    api_key_id: uuid.UUID | None = None
    # "live" or "test" for API keys; runs made with a test key never count as usage.
    key_mode: Literal["live", "test"] | None = None

    @property
    def billable(self) -> bool:
        return self.key_mode != "test"
