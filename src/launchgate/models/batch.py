from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from launchgate.kit.time import utcnow
from launchgate.models.base import Base


class Batch(Base):
    """Many outputs gated against one suite in one call (issue 14). Each item is a run with
    ``batch_id``; the batch holds what the runs add up to once they are all final, and the
    comparison with its baseline."""

    __tablename__ = "batches"
    __table_args__ = (
        Index("ix_batches_suite_created", "suite_id", "created_at"),
        Index("ix_batches_org_created", "org_id", "created_at"),
    )

    id: Mapped[str] = mapped_column(String(28), primary_key=True)
    org_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("organisations.id", ondelete="CASCADE"))
    project_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"))
    suite_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("suites.id", ondelete="CASCADE"))
    api_key_id: Mapped[uuid.UUID | None] = mapped_column(default=None)
    # running until every item is final, then cleared | aborted | inconclusive | error.
    status: Mapped[str] = mapped_column(String(16))
    trigger: Mapped[str] = mapped_column(String(20))
    trigger_meta: Mapped[dict[str, Any]]
    total_items: Mapped[int]
    min_cleared: Mapped[float]
    fail_on_regression: Mapped[bool] = mapped_column(default=False)
    # What the caller asked for ("auto", a batch id, or None) and the batch it resolved to.
    baseline_requested: Mapped[str | None] = mapped_column(String(28), default=None)
    baseline_id: Mapped[str | None] = mapped_column(String(28), default=None)
    billable: Mapped[bool] = mapped_column(default=True)
    # Filled when the batch completes: counts, per-case figures, the comparison.
    pass_rate: Mapped[float | None] = mapped_column(default=None)
    result: Mapped[dict[str, Any] | None] = mapped_column(default=None)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    completed_at: Mapped[datetime | None] = mapped_column(default=None)
