"""Bump ``organisations.config_version`` in the same transaction as any change to the
things a run is made of (projects, suites, cases, scorers).

Done as a session event, at the one place every write passes, rather than in each service:
a service that forgot to bump would leave a stale suite snapshot cached (runs/cache.py).
"""

from __future__ import annotations

import uuid
import weakref
from typing import Any, Protocol, cast

from sqlalchemy import Table, event, update
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
        if isinstance(obj, _CONFIG)
        and (obj in session.new or obj in session.deleted or session.is_modified(obj))
    }
    if changed:
        session.info.setdefault("config_changed", set()).update(changed)
        table = cast(Table, Organisation.__table__)
        session.connection().execute(
            update(table)
            .where(table.c.id.in_(changed))
            .values(config_version=table.c.config_version + 1)
        )


class Watcher(Protocol):
    def invalidate(self, org_ids: set[uuid.UUID]) -> None: ...


_watchers: weakref.WeakSet[Any] = weakref.WeakSet()


def watch(watcher: Watcher) -> None:
    """Tell ``watcher`` which organisations' config changed, once their change commits."""
    _watchers.add(watcher)


@event.listens_for(Session, "after_commit")
def _announce(session: Session) -> None:
    changed = session.info.pop("config_changed", None)
    if changed:
        for watcher in list(_watchers):
            watcher.invalidate(changed)


@event.listens_for(Session, "after_rollback")
def _forget(session: Session) -> None:
    session.info.pop("config_changed", None)
