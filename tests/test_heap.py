"""kit/heap.py: a server process freezes start-up's objects once; a test's apps never do.
(The started ``launchgate serve`` is checked in tests/cli/test_serve_imports.py.)"""

from __future__ import annotations

import gc
import subprocess
import sys

from fastapi import FastAPI


def test_settle_freezes_what_is_alive_and_collects_the_rest_first() -> None:
    script = """
import gc, weakref
from launchgate.kit import heap

class Cycle:
    pass

dead = Cycle(); dead.me = dead; ref = weakref.ref(dead); del dead
kept = [Cycle() for _ in range(1000)]
heap.settle()
print(ref() is None, gc.get_freeze_count() >= 1000)
"""
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=60, check=False
    )
    assert done.returncode == 0, done.stderr
    garbage_collected, alive_frozen = done.stdout.split()
    assert garbage_collected == "True"  # a cycle dead at start-up is not kept for good
    assert alive_frozen == "True"


def test_an_app_built_for_tests_does_not_freeze(app: FastAPI) -> None:
    """``create_app`` freezes only when a server entry point asks: in a test process it
    would keep every earlier test's unreachable cycles for good."""
    assert app.state.runtime is not None  # started, lifespan and all
    assert gc.get_freeze_count() == 0
