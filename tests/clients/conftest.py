"""One real server for every client test of the session (SDK, ``launchgate run`` and the
GitHub Action), with the suites of ``tests.clients.live``; it judges through the fake
provider, where the suites of ``tests.clients.noisy`` make inconclusive runs."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from launchgate.testing.fake_provider import FakeProviderServer
from tests.clients.live import Gate, paid_out_org, seed_suites
from tests.clients.noisy import SEED, Noisy, seed_noisy_org, start_judging
from tests.contract.server import stop


@pytest.fixture(scope="session")
def fake_judge() -> Iterator[FakeProviderServer]:
    with FakeProviderServer(seed=SEED) as fake:
        yield fake


@pytest.fixture(scope="session")
def gate(
    tmp_path_factory: pytest.TempPathFactory, fake_judge: FakeProviderServer
) -> Iterator[Gate]:
    data_dir = tmp_path_factory.mktemp("gate")
    server = start_judging(data_dir, fake_judge)
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


@pytest.fixture(scope="session")
def noisy_key(gate: Gate) -> str:
    """The key of the organisation whose suites the noisy judge decides."""
    key = gate.new_org("Noisy", "pro")
    seed_noisy_org(gate.url, key)
    return key


@pytest.fixture
def noisy(gate: Gate, noisy_key: str, fake_judge: FakeProviderServer) -> Iterator[Noisy]:
    """The judging organisation, with the fake's counters cleared and its draws restarted
    from the same seed, so every test sees the same judgements."""
    fake_judge.reset()
    fake_judge.configure(seed=SEED)
    yield Noisy(gate.url, noisy_key, fake_judge)
