from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column

from launchgate.models.base import Base, Timestamps, UUIDPk


class ByokKey(UUIDPk, Timestamps, Base):
    """A customer's provider key. Only ``ciphertext`` holds the secret, sealed by
    ``byok.vault`` with the org, key id and provider bound to it; revoking destroys it."""

    __tablename__ = "byok_keys"
    __table_args__ = (
        # At most one default per provider and organisation, enforced by the database too.
        Index(
            "uq_byok_keys_one_default",
            "org_id",
            "provider",
            unique=True,
            sqlite_where=text("is_default"),
            postgresql_where=text("is_default"),
        ),
    )

    org_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("organisations.id", ondelete="CASCADE"), index=True
    )
    provider: Mapped[str] = mapped_column(String(20))
    name: Mapped[str] = mapped_column(String(200))
    key_prefix: Mapped[str] = mapped_column(String(8))
    ciphertext: Mapped[str | None] = mapped_column(Text, default=None)
    is_default: Mapped[bool] = mapped_column(default=False)
    status: Mapped[str] = mapped_column(String(10), default="active")
    config: Mapped[dict[str, Any]]
    last_used_at: Mapped[datetime | None] = mapped_column(default=None)
    last_tested_at: Mapped[datetime | None] = mapped_column(default=None)
