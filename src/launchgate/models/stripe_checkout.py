from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from launchgate.kit.time import utcnow
from launchgate.models.base import Base


class StripeCheckout(Base):
    """The organisation's open Stripe Checkout session, at most one: a second checkout
    while it is open gets the same session back (or, for another plan or other return
    URLs, this one is expired at Stripe first), so two tabs or a double click can never
    leave two sessions to pay (docs/billing.md). ``fingerprint`` is a hash of what the
    session was made with (price, return URLs)."""

    __tablename__ = "stripe_checkouts"

    org_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("organisations.id", ondelete="CASCADE"), primary_key=True
    )
    session_id: Mapped[str] = mapped_column(String(255))  # cs_…
    fingerprint: Mapped[str] = mapped_column(String(64))
    url: Mapped[str] = mapped_column(Text)
    expires_at: Mapped[datetime]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
