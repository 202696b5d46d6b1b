from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from launchgate.kit.time import utcnow
from launchgate.models.base import Base


class StripeEvent(Base):
    """A Stripe webhook event we received, by its Stripe id: a second delivery of the same
    event finds it here and changes nothing (docs/billing.md). ``created`` is Stripe's own
    time of the event; the newest one that decided an organisation's plan is what an older
    event arriving late is compared with. The retention sweep forgets rows after 90 days,
    except each organisation's newest decision (``stripe_service.EVENT_RETENTION``)."""

    __tablename__ = "stripe_events"
    __table_args__ = (Index("ix_stripe_events_org_created", "org_id", "created"),)

    id: Mapped[str] = mapped_column(String(255), primary_key=True)  # evt_…
    type: Mapped[str] = mapped_column(String(100))
    created: Mapped[datetime]
    org_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("organisations.id", ondelete="CASCADE"), default=None
    )
    # What the event did: plan_changed, plan_kept, stale, ignored, unknown_organisation,
    # unknown_price, duplicate_subscription, other_subscription (docs/billing.md).
    outcome: Mapped[str] = mapped_column(String(30))
    plan: Mapped[str | None] = mapped_column(String(20), default=None)  # the plan it implied
    received_at: Mapped[datetime] = mapped_column(default=utcnow)
