"""The plan table of SPEC §9, as data: the one place plan names are written.

``config`` (the ``LAUNCHGATE_DEFAULT_PLAN`` setting), ``orgs`` (an organisation's plan) and
``billing`` (limits and retention) all read it. It lives in ``kit`` because ``config``
cannot import ``billing`` without a cycle of domains (billing → orgs → config).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Plan:
    slug: str
    name: str
    monthly_limit: int | None  # None: unlimited
    retention_days: int | None  # None: keep forever (or the org's own setting)


PLANS: dict[str, Plan] = {
    plan.slug: plan
    for plan in (
        Plan("free", "Free", 500, 14),
        Plan("pro", "Pro", 15_000, 365),
        Plan("scale", "Scale", 100_000, 365),
        Plan("enterprise", "Enterprise", None, None),
    )
}
PLAN_SLUGS: tuple[str, ...] = tuple(PLANS)
