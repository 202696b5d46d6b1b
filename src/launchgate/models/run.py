from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from launchgate.kit.time import utcnow
from launchgate.models.base import Base


class Run(Base):
    """One scored output. Case results live in ``scores`` (JSON): a run is written once
    and read whole, and one row per run keeps ``POST /v1/run`` to a single insert."""

    __tablename__ = "runs"
    __table_args__ = (
        Index("ix_runs_suite_created", "suite_id", "created_at"),
        Index("ix_runs_status", "status"),
        Index("ix_runs_org_created", "org_id", "created_at"),
        Index("ix_runs_batch", "batch_id"),
    )

    id: Mapped[str] = mapped_column(String(28), primary_key=True)
    org_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("organisations.id", ondelete="CASCADE"))
    project_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"))
    suite_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("suites.id", ondelete="CASCADE"))
    api_key_id: Mapped[uuid.UUID | None] = mapped_column(default=None)
    # An item of a batch (issue 14): the batch and the caller's stable name for its input.
    batch_id: Mapped[str | None] = mapped_column(
        ForeignKey("batches.id", ondelete="CASCADE"), default=None
    )
    item_key: Mapped[str | None] = mapped_column(String(200), default=None)
    status: Mapped[str] = mapped_column(String(16))
    trigger: Mapped[str] = mapped_column(String(20))
    trigger_meta: Mapped[dict[str, Any]]
    output: Mapped[str] = mapped_column(Text)
    input: Mapped[dict[str, Any]]
    # Suite and case snapshot (names, thresholds, scorer configs) taken when the run was made.
    snapshot: Mapped[dict[str, Any]]
    scores: Mapped[Any | None] = mapped_column(default=None)
    pass_rate: Mapped[float | None] = mapped_column(default=None)
    total_cases: Mapped[int] = mapped_column(default=0)
    passed_cases: Mapped[int] = mapped_column(default=0)
    failed_cases: Mapped[int] = mapped_column(default=0)
    error_cases: Mapped[int] = mapped_column(default=0)
    inconclusive_cases: Mapped[int] = mapped_column(default=0)
    # The raw verdict when a case was inconclusive, before the suite's on_inconclusive
    # mapped it (runs/verdict.py); None otherwise.
    verdict_detail: Mapped[dict[str, Any] | None] = mapped_column(default=None)
    duration_ms: Mapped[float | None] = mapped_column(default=None)
    # What the run's judge calls cost in USD (the sum of its judged cases' ``cost_usd``),
    # stored at completion so lists and batches read it without summing the scores; None
    # while open, and when a judged case's model has no price (docs/cost.md).
    cost_usd: Mapped[float | None] = mapped_column(default=None)
    # False for runs made with an lg_test_ key: they never count against the plan.
    billable: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    started_at: Mapped[datetime | None] = mapped_column(default=None)
    # While ``running``: until when the worker scoring it holds it. A worker renews its
    # lease as it works; a run whose lease ran out (its worker died) is claimed again.
    lease_expires_at: Mapped[datetime | None] = mapped_column(default=None)
    completed_at: Mapped[datetime | None] = mapped_column(default=None)
