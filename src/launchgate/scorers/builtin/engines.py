"""The regex and JSON-schema engines, imported and warmed once per process, off the event
loop.

`regex_match` and `json_schema` (with `regex`, `re2`, `jsonschema` and `referencing`) are
left out of the server's start for its resident size (bench/RESULTS.md, "Resident
memory"): a server whose suites hold only `contains` and `exact_match` cases never needs
them. Importing them takes 70 ms of CPU on a quiet machine and about 1 s on a loaded one;
when the first run that needed them did it while compiling its suite, it did it on the
event loop and every other request waited that long. The async callers run `load` in a
thread first (runs.engine), so one thread imports while the loop keeps serving: the GIL
passes between them every few milliseconds instead of being held for the whole import.

`load` also scores one output with each engine it loads, so what their first use still
builds lazily (the guarded JSON Schema draft, its format checker, the pattern
translation's tables) is built there too.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable

_loaded: set[str] = set()
_lock = threading.Lock()


def needed(scorer_types: Iterable[str]) -> frozenset[str]:
    """Those of `scorer_types` whose engine this process has not loaded yet (none, at
    the cost of one comparison, once every engine is loaded: the hot path asks on each
    run)."""
    if len(_loaded) == len(_WARM):
        return frozenset()
    return frozenset(t for t in scorer_types if t in _WARM and t not in _loaded)


def load(scorer_types: Iterable[str]) -> None:
    """Import and warm the engines of `scorer_types` that are not loaded yet. Blocking:
    meant for a worker thread; concurrent callers wait for the one loading."""
    with _lock:
        for scorer_type in sorted(needed(scorer_types)):
            _WARM[scorer_type]()
            _loaded.add(scorer_type)


def _regex() -> None:
    from launchgate.scorers.builtin import regex_match

    prepared = regex_match.prepare({"pattern": "^a\\s", "flags": "i", "should_match": True})
    regex_match.score_prepared(prepared, "a b", timeout_s=1.0)


def _json_schema() -> None:
    from launchgate.scorers.builtin import json_schema

    schema = {"type": "object", "properties": {"a": {"type": "string", "pattern": "^a"}}}
    validator = json_schema.prepare({"schema": schema})
    json_schema.score_prepared(validator, '{"a": "a"}', regex_timeout_s=1.0)


# The scorer types whose engine is imported on first need, and how it is warmed.
_WARM: dict[str, Callable[[], None]] = {"regex": _regex, "json_schema": _json_schema}
