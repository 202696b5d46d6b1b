from __future__ import annotations

from typing import Annotated, Any
from uuid import UUID

from pydantic import Field

from launchgate.kit.schema import (
    JsonObject,
    JsonValue,
    LaxUUID,
    Name,
    StrictModel,
    Timestamp,
    Unit,
    Weight,
    WireModel,
)


class CaseCreate(StrictModel):
    name: Name
    input: JsonObject = {}
    expected: JsonValue = None
    scorer_id: LaxUUID
    threshold: Unit = 0.5
    weight: Weight = 1.0
    is_active: bool = True


class CaseUpdate(StrictModel):
    name: Name | None = None
    input: JsonObject | None = None
    expected: JsonValue = None
    scorer_id: LaxUUID | None = None
    threshold: Unit | None = None
    weight: Weight | None = None
    is_active: bool | None = None


class CaseReorder(StrictModel):
    case_ids: Annotated[list[LaxUUID], Field(max_length=10_000)]


class CaseOut(WireModel):
    id: UUID
    suite_id: UUID
    name: str
    input: dict[str, Any]
    expected: Any
    scorer_id: UUID
    threshold: float
    weight: float
    is_active: bool
    position: int
    created_at: Timestamp
    updated_at: Timestamp
