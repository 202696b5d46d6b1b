from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from launchgate.models.base import Base, Timestamps, UUIDPk


class Scorer(UUIDPk, Timestamps, Base):
    __tablename__ = "scorers"

    org_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("organisations.id", ondelete="CASCADE"), index=True
    )
    project_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("projects.id", ondelete="CASCADE"), index=True
    )
    name: Mapped[str] = mapped_column(String(200))
    type: Mapped[str] = mapped_column(String(20))
    config: Mapped[dict[str, Any]]
    dual_sided: Mapped[bool] = mapped_column(default=False)
    precision_threshold: Mapped[float | None] = mapped_column(default=None)
    recall_threshold: Mapped[float | None] = mapped_column(default=None)
    deleted_at: Mapped[datetime | None] = mapped_column(default=None)
