from __future__ import annotations

import uuid
from datetime import date

from sqlalchemy import Date, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from launchgate.models.base import Base


class JudgeSpend(Base):
    """What the judge spent per organisation, UTC day, provider and model (docs/cost.md).

    Added to when a run's completion commits, in the same transaction, so the month's
    spend (``GET /v1/billing/usage``, the budget) never counts a run twice nor one that
    was not stored. Kept apart from the runs: retention may delete runs inside the month
    they were paid for. ``cost_usd`` is None once any call to an unpriced model was
    counted in the row; ``estimated_input_tokens`` sits beside the actual input tokens so
    dry runs can correct their estimate per model.
    """

    __tablename__ = "judge_spend"

    org_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("organisations.id", ondelete="CASCADE"), primary_key=True
    )
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    provider: Mapped[str] = mapped_column(String(20), primary_key=True)
    model: Mapped[str] = mapped_column(String(200), primary_key=True)
    calls: Mapped[int] = mapped_column(default=0)
    input_tokens: Mapped[int] = mapped_column(default=0)
    output_tokens: Mapped[int] = mapped_column(default=0)
    cached_input_tokens: Mapped[int] = mapped_column(default=0)
    estimated_input_tokens: Mapped[int] = mapped_column(default=0)
    cost_usd: Mapped[float | None] = mapped_column(default=0.0)
