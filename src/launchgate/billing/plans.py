"""The plan table of SPEC §9, for billing: defined once in ``kit/plans.py`` (which
``config`` can import too), re-exported here where billing code looks for it."""

from __future__ import annotations

from launchgate.kit.plans import PLANS, Plan

__all__ = ["PLANS", "Plan"]
