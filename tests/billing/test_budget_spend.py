"""A paid judge call is never failed by the live spend counter: without a budget Redis is
not asked at all, and with one an unreachable Redis (a restart) is logged, not raised —
the run's completion still adds the call to the stored month spend."""

from __future__ import annotations

import socket
import uuid

import pytest
from structlog.testing import capture_logs

from launchgate.billing.budget import Budget, RedisCounter


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def unreachable() -> RedisCounter:
    return RedisCounter(f"redis://127.0.0.1:{closed_port()}/0")


async def test_without_a_budget_spending_does_not_ask_redis(unreachable: RedisCounter) -> None:
    budget = Budget(unreachable, uuid.uuid4(), None, "2026-12")
    await budget.spend(0.25)  # would raise ConnectionError if it asked
    with pytest.raises(Exception, match=r"(?i)connect"):
        await unreachable.add(uuid.uuid4(), "2026-12", 0.25)  # the control: it would


async def test_with_a_budget_an_unreachable_counter_is_logged_not_raised(
    unreachable: RedisCounter,
) -> None:
    budget = Budget(unreachable, uuid.uuid4(), 10.0, "2026-12")
    with capture_logs() as logs:
        await budget.spend(0.25)
    assert [entry["event"] for entry in logs] == ["the judge spend counter is out of reach"]
