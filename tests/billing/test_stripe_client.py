"""The boundary with Stripe under a slow or absent Stripe: the event loop is never held
by the library's set-up, and a call that Stripe does not answer ends within its deadline
as our 503, retries included, without Stripe's words."""

from __future__ import annotations

import socket
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import stripe

from launchgate.billing import stripe_client
from launchgate.config import Settings
from launchgate.kit.time import utcnow
from launchgate.testing.stripe_stand_in import StripeStandInServer
from tests.billing.stripe_helpers import PRICE_PRO, PRICE_SCALE, SECRET_KEY, stripe_overrides


def _settings(tmp_path: Path, base: str) -> Settings:
    return Settings(data_dir=tmp_path, **stripe_overrides(base))


@pytest.fixture
def silent_stripe() -> Iterator[str]:
    """A port that takes connections (the kernel's backlog) and never answers a byte."""
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(16)
        yield f"http://127.0.0.1:{listener.getsockname()[1]}"


async def test_the_http_client_is_built_off_the_event_loop(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Building the library's client loads the CA bundle (~40 ms of CPU): done on the loop,
    every run in flight would stall that long at each billing click."""
    built_on: list[int] = []

    class Watched(stripe.HTTPXClient):
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            built_on.append(threading.get_ident())
            super().__init__(*args, **kwargs)

    monkeypatch.setattr(stripe, "HTTPXClient", Watched)
    with StripeStandInServer(SECRET_KEY, [PRICE_PRO, PRICE_SCALE]) as stand_in:
        customer = await stripe_client.create_customer(
            _settings(tmp_path, stand_in.base_url), uuid.uuid4(), "Acme"
        )
    assert customer.startswith("cus_")
    assert built_on and threading.get_ident() not in built_on


async def test_a_stripe_that_never_answers_is_503_within_the_deadline(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, silent_stripe: str
) -> None:
    monkeypatch.setattr(stripe_client, "CALL_DEADLINE_S", 1.0)
    settings = _settings(tmp_path, silent_stripe)
    started = time.monotonic()
    with pytest.raises(stripe_client.StripeUnavailable) as info:
        await stripe_client.create_portal_session(settings, "cus_1", "https://example.com/")
    assert time.monotonic() - started < 3.0, "one deadline for the call, its retries included"
    error = info.value
    assert error.status_code == 503
    assert error.headers == {"Retry-After": "60"}
    assert "could not be reached" in error.message
    assert silent_stripe not in error.message and SECRET_KEY not in str(error)


async def test_a_closed_port_is_503_after_the_librarys_retries(tmp_path: Path) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        closed = f"http://127.0.0.1:{probe.getsockname()[1]}"
    with pytest.raises(stripe_client.StripeUnavailable) as info:
        await stripe_client.create_customer(_settings(tmp_path, closed), uuid.uuid4(), "Acme")
    assert info.value.status_code == 503
    assert "could not be reached" in info.value.message


async def test_ending_a_checkout_session_says_whether_it_was_paid(tmp_path: Path) -> None:
    """Open: expired now. Already expired, or unknown to this Stripe account (another
    key since): expired. Paid: complete, and it stays paid."""
    with StripeStandInServer(SECRET_KEY, [PRICE_PRO, PRICE_SCALE]) as server:
        settings = _settings(tmp_path, server.base_url)
        customer = await stripe_client.create_customer(settings, uuid.uuid4(), "Acme")
        params = {
            "mode": "subscription",
            "customer": customer,
            "line_items": [{"price": PRICE_PRO, "quantity": 1}],
            "success_url": "https://example.com/ok",
        }
        made = [
            await stripe_client.create_checkout_session(settings, params, f"key-{n}")
            for n in range(2)
        ]
        assert made[0].id != made[1].id and made[0].expires_at > utcnow()
        assert await stripe_client.end_checkout_session(settings, made[0].id) == "expired"
        assert await stripe_client.end_checkout_session(settings, made[0].id) == "expired"
        assert await stripe_client.end_checkout_session(settings, "cs_test_gone") == "expired"
        server.state.complete(made[1].id)
        assert await stripe_client.end_checkout_session(settings, made[1].id) == "complete"
        assert server.state.sessions[made[1].id]["status"] == "complete"
        again = await stripe_client.create_checkout_session(settings, params, "key-0")
        assert again.id == made[0].id, "one idempotency key, one session"
