from __future__ import annotations

import uuid

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from launchgate.models.base import Base


class UsageCounter(Base):
    """Runs counted per organisation and calendar month (UTC). Kept apart from the runs
    table because retention may delete runs inside the month they still count for."""

    __tablename__ = "usage_counters"

    org_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("organisations.id", ondelete="CASCADE"), primary_key=True
    )
    period: Mapped[str] = mapped_column(String(7), primary_key=True)
    runs: Mapped[int] = mapped_column(default=0)
