from __future__ import annotations

from typing import Annotated, Any, Literal
from uuid import UUID

from pydantic import AfterValidator, Field
from pydantic_core import PydanticCustomError

from launchgate.kit.schema import Name, SingleLine, StrictModel, Timestamp, WireModel

Provider = Literal["openai", "anthropic", "google", "azure_openai"]
KEY_MAX = 4096  # real provider keys are under 300 characters
# Config values sent to the provider as a header or a query parameter, verbatim.
HEADER_CONFIG = ("organization", "api_version")


def header_safe(value: str) -> bool:
    """Visible ASCII only (0x21-0x7E): what an HTTP header value carries without encoding.
    A key with any other character would be stored, then fail every call that sends it."""
    return value.isascii() and all("!" <= c <= "~" for c in value)


def _plain_key(value: str) -> str:
    # The message never quotes the value, not even the offending character: it is a secret.
    if not header_safe(value):
        raise PydanticCustomError(
            "key_characters",
            "the key must be visible ASCII characters only (0x21-0x7E): no spaces, line "
            "breaks, control or non-ASCII characters",
        )
    return value


def _header_config(config: dict[str, str] | None) -> dict[str, str] | None:
    for name in HEADER_CONFIG:
        if config and name in config and not header_safe(config[name]):
            raise PydanticCustomError(
                "header_characters",
                "config.{name} is sent in a request header or URL, so it must be visible "
                "ASCII characters only (0x21-0x7E)",
                {"name": name},
            )
    return config


SecretKey = Annotated[str, Field(min_length=1, max_length=KEY_MAX), AfterValidator(_plain_key)]
ConfigValue = Annotated[SingleLine, Field(min_length=1, max_length=2048)]
KeyConfig = Annotated[dict[str, ConfigValue] | None, AfterValidator(_header_config)]


class ByokKeyCreate(StrictModel):
    provider: Provider
    name: Name
    key: SecretKey
    is_default: bool = False
    config: KeyConfig = None


class ByokKeyUpdate(StrictModel):
    name: Name | None = None
    is_default: bool | None = None
    config: KeyConfig = None


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
