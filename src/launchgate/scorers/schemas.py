from __future__ import annotations

from typing import Any, Literal
from uuid import UUID

from pydantic import computed_field

from launchgate.kit.schema import JsonObject, Name, StrictModel, Timestamp, Unit, WireModel
from launchgate.scorers.builtin import config_warnings

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

    @computed_field(  # type: ignore[prop-decorator]
        description="What to know about this config, e.g. samples > 1 at temperature 0"
    )
    @property
    def warnings(self) -> list[str]:
        return config_warnings(self.type, self.config)
