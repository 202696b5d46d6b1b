from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal
from uuid import UUID

from pydantic import Field

from launchgate.kit.schema import Name, StrictModel, Timestamp, WireModel


class ApiKeyCreate(StrictModel):
    name: Name
    mode: Literal["live", "test"] = "live"
    expires_at: Annotated[datetime | None, Field(strict=False)] = None


class ApiKeyOut(WireModel):
    id: UUID
    name: str
    mode: str
    key_prefix: str
    expires_at: Timestamp | None
    revoked_at: Timestamp | None
    last_used_at: Timestamp | None
    created_at: Timestamp


class ApiKeyCreated(ApiKeyOut):
    key: str = Field(description="The full API key. Shown once: store it now.")
