"""Wire-model bases: strict request bodies and the shared field types.

Request bodies refuse unknown fields and refuse coercion (``false`` is not a number,
``"1"`` is not an int). Ids and timestamps stay lax because FastAPI validates the parsed
JSON in Python mode, where a strict UUID would reject every string.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any
from uuid import UUID

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, PlainSerializer

from launchgate.kit.time import iso_z

MAX_JSON_DEPTH = 32


class StrictModel(BaseModel):
    """Base of every request body."""

    model_config = ConfigDict(extra="forbid", strict=True)


class WireModel(BaseModel):
    """Base of every response body."""

    model_config = ConfigDict(from_attributes=True)


def json_depth(value: Any, limit: int = MAX_JSON_DEPTH) -> int:
    """Nesting depth of a JSON value, stopping early once past ``limit``."""
    stack: list[tuple[Any, int]] = [(value, 1)]
    deepest = 0
    while stack:
        item, depth = stack.pop()
        if depth > limit:
            return depth
        if isinstance(item, dict):
            deepest = max(deepest, depth)
            stack.extend((child, depth + 1) for child in item.values())
        elif isinstance(item, list):
            deepest = max(deepest, depth)
            stack.extend((child, depth + 1) for child in item)
    return deepest


def _shallow(value: Any) -> Any:
    if json_depth(value) > MAX_JSON_DEPTH:
        raise ValueError(f"JSON nested deeper than {MAX_JSON_DEPTH} levels")
    return value


def _max_bytes(limit: int) -> AfterValidator:
    def check(value: str) -> str:
        if len(value) > limit // 4 and len(value.encode()) > limit:
            raise ValueError(f"must be at most {limit} bytes")
        return value

    return AfterValidator(check)


def _max_json_bytes(limit: int) -> AfterValidator:
    import json

    def check(value: Any) -> Any:
        if len(json.dumps(value, separators=(",", ":")).encode()) > limit:
            raise ValueError(f"must be at most {limit} bytes as JSON")
        return value

    return AfterValidator(check)


JsonValue = Annotated[Any, AfterValidator(_shallow)]
JsonObject = Annotated[dict[str, Any], AfterValidator(_shallow), _max_json_bytes(256 * 1024)]
SmallJsonObject = Annotated[dict[str, Any], AfterValidator(_shallow), _max_json_bytes(16 * 1024)]
Text1MiB = Annotated[str, _max_bytes(1024 * 1024)]
Unit = Annotated[float, Field(ge=0.0, le=1.0, allow_inf_nan=False)]
Weight = Annotated[float, Field(gt=0.0, le=1_000_000.0, allow_inf_nan=False)]
Name = Annotated[str, Field(min_length=1, max_length=200)]
Description = Annotated[str, Field(max_length=5000)]
LaxUUID = Annotated[UUID, Field(strict=False)]
Timestamp = Annotated[datetime, PlainSerializer(iso_z, return_type=str)]
