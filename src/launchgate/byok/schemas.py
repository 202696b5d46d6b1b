from __future__ import annotations

from typing import Annotated, Any, Literal
from uuid import UUID

from pydantic import AfterValidator, Field

from launchgate.kit.schema import Name, StrictModel, Timestamp, WireModel

Provider = Literal["openai", "anthropic", "google", "azure_openai"]
KEY_MAX = 4096  # real provider keys are under 300 characters


def _plain_key(value: str) -> str:
    # The message never quotes the value: it is a secret.
    if value != value.strip() or any(c.isspace() or not c.isprintable() for c in value):
        raise ValueError("the key must not contain spaces, line breaks or control characters")
    return value


SecretKey = Annotated[str, Field(min_length=1, max_length=KEY_MAX), AfterValidator(_plain_key)]
ConfigValue = Annotated[str, Field(min_length=1, max_length=2048)]


class ByokKeyCreate(StrictModel):
    provider: Provider
    name: Name
    key: SecretKey
    is_default: bool = False
    config: dict[str, ConfigValue] | None = None


class ByokKeyUpdate(StrictModel):
    name: Name | None = None
    is_default: bool | None = None
    config: dict[str, ConfigValue] | None = None


class ByokKeyOut(WireModel):
    """Metadata only: the key itself is never returned, by any endpoint."""

    id: UUID
    provider: str
    name: str
    key_prefix: str
    is_default: bool
    status: Literal["active", "invalid", "revoked"]
    config: dict[str, Any]
    created_at: Timestamp
    updated_at: Timestamp
    last_used_at: Timestamp | None
    last_tested_at: Timestamp | None


class ByokTestResult(WireModel):
    valid: bool
    provider: str
    latency_ms: float | None
    message: str
