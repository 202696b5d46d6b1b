from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from launchgate.models.base import Base, Timestamps, UUIDPk


class Case(UUIDPk, Timestamps, Base):
    __tablename__ = "cases"

    org_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("organisations.id", ondelete="CASCADE"), index=True
    )
    suite_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("suites.id", ondelete="CASCADE"), index=True
    )
    scorer_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("scorers.id", ondelete="CASCADE"), index=True
    )
    name: Mapped[str] = mapped_column(String(200))
    input: Mapped[dict[str, Any]]
    expected: Mapped[Any | None] = mapped_column(default=None)
    threshold: Mapped[float] = mapped_column(default=0.5)
    weight: Mapped[float] = mapped_column(default=1.0)
    is_active: Mapped[bool] = mapped_column(default=True)
    position: Mapped[int] = mapped_column(default=0)
    deleted_at: Mapped[datetime | None] = mapped_column(default=None)
