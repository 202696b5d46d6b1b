from __future__ import annotations

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from launchgate.models.base import Base, Timestamps, UUIDPk


class Organisation(UUIDPk, Timestamps, Base):
    __tablename__ = "organisations"

    name: Mapped[str] = mapped_column(String(200))
    plan: Mapped[str] = mapped_column(String(20))
    # Only for enterprise: None keeps runs forever.
    retention_days: Mapped[int | None] = mapped_column(default=None)
    # Bumped whenever a project, suite, case or scorer of the org changes (see
    # models/versioning.py): a cached suite snapshot is good while this number stands.
    config_version: Mapped[int] = mapped_column(default=0, server_default="0")
    # The most the judge may spend in a calendar month (UTC), in USD; None: no budget.
    # Once this month's spend reaches it, judge cases end in error JUDGE_BUDGET_EXCEEDED
    # without a provider call (docs/cost.md).
    judge_budget_usd_monthly: Mapped[float | None] = mapped_column(default=None)
    # The organisation's customer in Stripe, created by its first checkout (docs/billing.md);
    # webhooks find the organisation by it.
    stripe_customer_id: Mapped[str | None] = mapped_column(
        String(255), default=None, unique=True, index=True
    )
    # Its live Stripe subscription, from the webhook (checkout.session.completed, or the
    # first event of a subscription to our prices), cleared when that subscription ends:
    # while it is set a checkout is refused, and an event about another subscription of
    # the same customer is reported, not applied (docs/billing.md).
    stripe_subscription_id: Mapped[str | None] = mapped_column(String(255), default=None)
