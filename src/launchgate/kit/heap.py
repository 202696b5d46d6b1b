"""The garbage collector of a long-running server process, settled once it has started.

CPython's full collection walks every tracked object, and most of a started server's
objects are the modules, classes, routes and schemas it built at start-up, which live as
long as the process. In the judge benchmark a full collection took up to 120 ms with the
event loop held (a stall in the middle of a run, every judge slot waiting); after
``gc.freeze`` those objects sit in the permanent generation, and the collections that
remain walk only what requests made (bench/RESULTS.md, "LLM judge throughput").

Only server entry points call this (``launchgate serve`` and its ``--workers`` processes,
``launchgate worker``), never ``create_app`` on its own: a test process builds many apps,
and freezing at each would keep every earlier test's unreachable cycles for good.
"""

from __future__ import annotations

import gc


def settle() -> None:
    """Collect what start-up left behind, then freeze the rest out of future collections.
    Objects frozen here are never collected; only start-up's, which live for the process
    anyway, are."""
    gc.collect()
    gc.freeze()
