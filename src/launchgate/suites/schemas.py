from __future__ import annotations

from typing import Annotated
from uuid import UUID

from pydantic import Field

from launchgate.kit.schema import Description, Name, StrictModel, Timestamp, Unit, WireModel
from launchgate.projects.schemas import Slug


class SuiteCreate(StrictModel):
    name: Name
    slug: Slug | None = None
    pass_threshold: Unit = 1.0
    description: Description | None = None


class SuiteUpdate(StrictModel):
    name: Name | None = None
    slug: Slug | None = None
    pass_threshold: Unit | None = None
    description: Description | None = None


class SuiteFromTemplate(StrictModel):
    template_slug: Annotated[str, Field(min_length=1, max_length=64)]
    name: Name | None = None
    slug: Slug | None = None


class SuiteOut(WireModel):
    id: UUID
    project_id: UUID
    name: str
    slug: str
    description: str | None
    pass_threshold: float
    case_count: int = 0
    active_case_count: int = 0
    created_at: Timestamp
    updated_at: Timestamp
