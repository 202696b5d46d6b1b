from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from launchgate.models.base import Base, UUIDPk


class JudgeVerdict(UUIDPk, Base):
    """A successful judge verdict kept for reuse (the opt-in ``cache_ttl_s``), keyed by
    provider, model, prompt hash and temperature within one organisation."""

    __tablename__ = "judge_verdicts"
    __table_args__ = (UniqueConstraint("org_id", "cache_key"),)

    org_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("organisations.id", ondelete="CASCADE"))
    cache_key: Mapped[str] = mapped_column(String(64))
    score: Mapped[float]
    details: Mapped[dict[str, Any]]
    expires_at: Mapped[datetime]
