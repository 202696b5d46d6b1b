"""Suite snapshots kept in memory between runs.

Resolving a suite, its active cases and their scorers is most of the reading a run does;
it changes rarely. An entry is used only while the organisation's ``config_version``
(bumped in the same transaction as any project, suite, case or scorer change) is the
one it was built under, so every process sees an edit on its next run.
"""

from __future__ import annotations

import uuid
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any

Key = tuple[uuid.UUID, str | None, str]  # org, project slug (or None), suite slug


@dataclass(frozen=True, slots=True)
class PreparedSuite:
    suite_id: uuid.UUID
    project_id: uuid.UUID
    snapshot: dict[str, Any]


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
