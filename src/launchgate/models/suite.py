from __future__ import annotations

import uuid

from sqlalchemy import ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from launchgate.models.base import Base, Timestamps, UUIDPk


class Suite(UUIDPk, Timestamps, Base):
    __tablename__ = "suites"
    __table_args__ = (UniqueConstraint("project_id", "slug"),)

    org_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("organisations.id", ondelete="CASCADE"), index=True
    )
    project_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("projects.id", ondelete="CASCADE"), index=True
    )
    name: Mapped[str] = mapped_column(String(200))
    slug: Mapped[str] = mapped_column(String(64), index=True)
    description: Mapped[str | None] = mapped_column(Text, default=None)
    pass_threshold: Mapped[float] = mapped_column(default=1.0)
    # What a run whose judge could not decide ends as: inconclusive | abort | clear.
    on_inconclusive: Mapped[str] = mapped_column(String(12), default="inconclusive")
    # Batches (issue 14): the share of items that must clear, the branch whose latest
    # batch is the "auto" baseline, and whether a regressed case aborts a batch.
    batch_threshold: Mapped[float] = mapped_column(default=1.0)
    baseline_branch: Mapped[str] = mapped_column(String(200), default="main")
    fail_on_regression: Mapped[bool] = mapped_column(default=False)
