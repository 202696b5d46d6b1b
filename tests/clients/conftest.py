"""One real server for every client test of the session (SDK, ``launchgate run`` and the
GitHub Action), with the suites of ``tests.clients.live``."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.clients.live import Gate, paid_out_org, seed_suites
from tests.contract.server import start, stop


@pytest.fixture(scope="session")
def gate(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Gate]:
    data_dir = tmp_path_factory.mktemp("gate")
    server = start(data_dir)
    try:
        live = Gate(server, data_dir)
        seed_suites(live)
        yield live
    finally:
        stop(server)


@pytest.fixture(scope="session")
def broke_key(gate: Gate) -> str:
    """The key of an organisation at its monthly limit: every run is a 402."""
    return paid_out_org(gate)
