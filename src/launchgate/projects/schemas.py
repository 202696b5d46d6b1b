from __future__ import annotations

from typing import Annotated
from uuid import UUID

from pydantic import Field

from launchgate.kit.schema import Description, Name, StrictModel, Timestamp, WireModel
from launchgate.kit.slugs import SLUG_MAX, SLUG_PATTERN

Slug = Annotated[str, Field(min_length=1, max_length=SLUG_MAX, pattern=SLUG_PATTERN)]


class ProjectCreate(StrictModel):
    name: Name
    slug: Slug | None = None
    description: Description | None = None


class ProjectUpdate(StrictModel):
    name: Name | None = None
    slug: Slug | None = None
    description: Description | None = None


class ProjectOut(WireModel):
    id: UUID
    name: str
    slug: str
    description: str | None
    created_at: Timestamp
    updated_at: Timestamp
