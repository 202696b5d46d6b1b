from __future__ import annotations

from typing import Any, Literal
from uuid import UUID

from launchgate.kit.schema import JsonObject, Name, StrictModel, Timestamp, Unit, WireModel

ScorerType = Literal["exact_match", "contains", "regex", "json_schema", "llm_judge"]


class ScorerCreate(StrictModel):
    name: Name
    type: ScorerType
    config: JsonObject = {}
    dual_sided: bool = False
    precision_threshold: Unit | None = None
    recall_threshold: Unit | None = None


class ScorerUpdate(StrictModel):
    name: Name | None = None
    config: JsonObject | None = None
    dual_sided: bool | None = None
    precision_threshold: Unit | None = None
    recall_threshold: Unit | None = None


class ScorerOut(WireModel):
    id: UUID
    project_id: UUID
    name: str
    type: str
    config: dict[str, Any]
    dual_sided: bool
    precision_threshold: float | None
    recall_threshold: float | None
    created_at: Timestamp
    updated_at: Timestamp
