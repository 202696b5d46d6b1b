"""Bump ``organisations.config_version`` in the same transaction as any change to the
things a run is made of (projects, suites, cases, scorers).

Done as a session event, at the one place every write passes, rather than in each service:
a service that forgot to bump would leave a stale suite snapshot cached (runs/cache.py).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import event, update
from sqlalchemy.orm import Session

from launchgate.models.case import Case
from launchgate.models.organisation import Organisation
from launchgate.models.project import Project
from launchgate.models.scorer import Scorer
from launchgate.models.suite import Suite

_CONFIG = (Project, Suite, Case, Scorer)


@event.listens_for(Session, "after_flush")
def _bump_config_version(session: Session, _context: Any) -> None:
    changed = {
        obj.org_id
        for obj in (*session.new, *session.dirty, *session.deleted)
        if isinstance(obj, _CONFIG) and (obj in session.new or obj in session.deleted
                                         or session.is_modified(obj))
    }
    if changed:
        session.connection().execute(
            update(Organisation.__table__)
            .where(Organisation.__table__.c.id.in_(changed))
            .values(config_version=Organisation.__table__.c.config_version + 1)
        )
