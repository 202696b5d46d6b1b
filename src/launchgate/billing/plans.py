"""The plan table of SPEC §9, as data."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Plan:
    slug: str
    name: str
    monthly_limit: int | None  # None: unlimited
    retention_days: int | None  # None: keep forever (or the org's own setting)


PLANS: dict[str, Plan] = {
    "free": Plan("free", "Free", 500, 14),
    "pro": Plan("pro", "Pro", 15_000, 365),
    "scale": Plan("scale", "Scale", 100_000, 365),
    "enterprise": Plan("enterprise", "Enterprise", None, None),
}
