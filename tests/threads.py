"""Which thread a function is called in, for the tests that some work runs off the event
loop (which runs in the main thread, in the test process as in ``launchgate serve``)."""

from __future__ import annotations

import threading
from typing import Any

import pytest

MAIN = threading.main_thread().name


def calls_by_thread(monkeypatch: pytest.MonkeyPatch, owner: Any, name: str) -> list[str]:
    """Wraps ``owner.name`` for the test: the list fills with the name of the thread of
    each call, in order."""
    threads: list[str] = []
    real = getattr(owner, name)

    def watched(*args: Any, **kwargs: Any) -> Any:
        threads.append(threading.current_thread().name)
        return real(*args, **kwargs)

    monkeypatch.setattr(owner, name, watched)
    return threads
