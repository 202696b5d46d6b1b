"""Organisation facts (plan, config version) kept in memory — embedded mode only.

In the embedded mode one process owns the database, so it sees every config change it
must forget (``models.versioning`` tells it on commit). Scaled out, other processes
change config too, and the facts are read from the database on every run instead.
"""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING

from launchgate.models import versioning

if TYPE_CHECKING:
    from launchgate.orgs.service import OrgFacts


class FactsCache:
    def __init__(self) -> None:
        self._facts: dict[uuid.UUID, OrgFacts] = {}
        # Moves on at every invalidation: facts read before a change committed must not be
        # stored after it (a run that missed, read the old plan, and stored it once a Stripe
        # webhook had committed the new one and invalidated, kept the old plan for good).
        self.generation = 0
        versioning.watch(self)

    def get(self, org_id: uuid.UUID) -> OrgFacts | None:
        return self._facts.get(org_id)

    def put(self, org_id: uuid.UUID, facts: OrgFacts, generation: int) -> None:
        """Keep ``facts`` read when ``generation`` was current, unless an invalidation
        came since (then the next request reads them anew)."""
        if generation == self.generation:
            self._facts[org_id] = facts

    def invalidate(self, org_ids: set[uuid.UUID]) -> None:
        self.generation += 1
        for org_id in org_ids:
            self._facts.pop(org_id, None)
