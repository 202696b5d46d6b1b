"""Suite snapshots kept in memory between runs, and their compiled scorers.

Resolving a suite, its active cases and their scorers is most of the reading a run does;
it changes rarely. An entry is used only while the organisation's ``config_version``
(bumped in the same transaction as any project, suite, case or scorer change) is the
one it was built under, so every process sees an edit on its next run.

The scorers compiled for a snapshot (scorers/builtin/compiled.py: patterns, validators,
the ``contains`` values) live exactly as long as the snapshot's ``PreparedSuite``: an edit
anywhere bumps the version, the next run builds a new ``PreparedSuite`` with a new
snapshot, and that snapshot is compiled afresh. The engine receives only the snapshot,
so ``compiled_cases`` finds its ``PreparedSuite`` by the snapshot's identity; a snapshot
read back from a stored run (the worker's path) is compiled for that run only.
"""

from __future__ import annotations

import uuid
import weakref
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Any

from launchgate.scorers.builtin.compiled import CompiledScorer, compile_snapshot

Key = tuple[uuid.UUID, str | None, str]  # org, project slug (or None), suite slug
Compiled = tuple[CompiledScorer | None, ...]


@dataclass(frozen=True, slots=True, weakref_slot=True)
class PreparedSuite:
    suite_id: uuid.UUID
    project_id: uuid.UUID
    snapshot: dict[str, Any]
    # Built on the first run that scores this snapshot (a dry run or an async run never
    # needs it); one element at most.
    _compiled: list[Compiled] = field(default_factory=list, init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        _by_snapshot[id(self.snapshot)] = self

    def compiled(self) -> Compiled:
        """The snapshot's compiled scorers, built once."""
        if not self._compiled:
            self._compiled.append(compile_snapshot(self.snapshot))
        return self._compiled[0]


# id(snapshot) → the PreparedSuite holding it, for as long as that PreparedSuite lives
# (in a SnapshotCache, or in a run that is being prepared). While it lives its snapshot
# does too, so the id cannot be reused by another object; `compiled_cases` checks the
# identity anyway.
_by_snapshot: weakref.WeakValueDictionary[int, PreparedSuite] = weakref.WeakValueDictionary()


def compiled_cases(snapshot: dict[str, Any]) -> Compiled:
    """The compiled scorers of a snapshot: those of its PreparedSuite when it has one
    (built once, reused by every run until the snapshot is replaced), else compiled now
    for this one run."""
    prepared = _by_snapshot.get(id(snapshot))
    if prepared is not None and prepared.snapshot is snapshot:
        return prepared.compiled()
    return compile_snapshot(snapshot)


class SnapshotCache:
    def __init__(self, size: int = 2048) -> None:
        self._size = size
        self._entries: OrderedDict[Key, tuple[int, PreparedSuite]] = OrderedDict()

    def get(self, key: Key, version: int) -> PreparedSuite | None:
        entry = self._entries.get(key)
        if entry is None or entry[0] != version:
            return None
        self._entries.move_to_end(key)
        return entry[1]

    def put(self, key: Key, version: int, prepared: PreparedSuite) -> None:
        self._entries[key] = (version, prepared)
        self._entries.move_to_end(key)
        while len(self._entries) > self._size:
            self._entries.popitem(last=False)
