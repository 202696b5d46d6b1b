from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.contract.server import LiveServer, start, stop


@pytest.fixture(scope="module")
def live_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    server = start(tmp_path_factory.mktemp("contract"))
    try:
        yield server
    finally:
        stop(server)
