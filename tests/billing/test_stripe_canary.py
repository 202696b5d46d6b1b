"""The Stripe secret key and webhook secret never show: a recognisable value of each is
used through every billing path — checkout, portal, webhooks good and bad, Stripe
refusing — at DEBUG log level, then looked for in the logs, the console, every answer,
and the rows billing writes."""

from __future__ import annotations

import logging
from typing import Any

import httpx
import pytest
import stripe
from sqlalchemy import select

from launchgate.app import create_app
from launchgate.db import unit_of_work
from launchgate.models import AuditEvent, Organisation, StripeEvent
from launchgate.testing.stripe_stand_in import StripeStandInServer
from tests.billing.stripe_helpers import (
    PRICE_PRO,
    PRICE_SCALE,
    SECRET_KEY,
    WEBHOOK_SECRET,
    body_of,
    event,
    sign,
    stripe_overrides,
    subscription,
)
from tests.conftest import make_settings
from tests.factories import Api

CANARIES = (SECRET_KEY, WEBHOOK_SECRET, SECRET_KEY[8:], WEBHOOK_SECRET[6:])


async def test_the_stripe_secrets_leak_nowhere(
    database_url: str,
    tmp_path_factory: pytest.TempPathFactory,
    caplog: pytest.LogCaptureFixture,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    caplog.set_level(logging.DEBUG)
    # The library's own console output, as an operator gets it with STRIPE_LOG=debug:
    # every request's parameters and every answer's body, printed to stderr.
    monkeypatch.setattr(stripe, "log", "debug")
    answers: list[str] = []
    with StripeStandInServer(SECRET_KEY, [PRICE_PRO, PRICE_SCALE]) as stand_in:
        settings = make_settings(
            database_url,
            tmp_path_factory.mktemp("canary"),
            log_level="DEBUG",
            **stripe_overrides(stand_in.base_url),
        )
        app = create_app(settings)
        async with app.router.lifespan_context(app):
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
                api = Api(client, app.state.runtime)
                org = await api.org("free")

                async def call(method: str, path: str, **kw: Any) -> httpx.Response:
                    response = await api.call(method, path, org, **kw)
                    answers.append(f"{response.status_code} {response.headers} {response.text}")
                    return response

                assert (await call("POST", "/v1/billing/checkout", json={"plan": "pro"})).is_success
                assert (await call("POST", "/v1/billing/portal", json={})).is_success
                async with unit_of_work(api.runtime.sessions) as session:
                    found = await session.get(Organisation, org.id)
                    assert found is not None and found.stripe_customer_id
                    customer = found.stripe_customer_id
                value = event("customer.subscription.updated", subscription(customer, PRICE_PRO))
                payload = body_of(value)
                for header in (sign(payload), sign(payload, "whsec_Wrong0123456789"), "bad"):
                    response = await client.post(
                        "/v1/billing/webhook",
                        content=payload,
                        headers={"Stripe-Signature": header},
                    )
                    answers.append(f"{response.status_code} {response.headers} {response.text}")
                # Stripe refusing (a customer it does not know): our 503, Stripe's words out.
                async with unit_of_work(api.runtime.sessions) as session:
                    found = await session.get(Organisation, org.id)
                    assert found is not None
                    found.stripe_customer_id = "cus_gone"
                assert (await call("POST", "/v1/billing/portal", json={})).status_code == 503
                answers.append((await client.get("/openapi.json")).text)
                async with unit_of_work(api.runtime.sessions) as session:
                    rows = [
                        *(
                            await session.scalars(
                                select(Organisation).where(Organisation.id == org.id)
                            )
                        ),
                        *(
                            await session.scalars(
                                select(StripeEvent).where(StripeEvent.org_id == org.id)
                            )
                        ),
                        *(
                            await session.scalars(
                                select(AuditEvent).where(AuditEvent.org_id == org.id)
                            )
                        ),
                    ]
                    stored = [
                        str({k: v for k, v in vars(row).items() if not k.startswith("_")})
                        for row in rows
                    ]
    assert len(stored) >= 3
    printed = capsys.readouterr()
    everything = "\n".join(
        [caplog.text, printed.out, printed.err, *answers, *stored, repr(settings)]
        + [str(r) for r in stand_in.state.requests]
    )
    assert "plan_changed" in everything  # the good webhook did go through
    assert "stripe refused" in caplog.text + printed.out + printed.err  # logs were captured
    assert "Post details" in printed.err  # and so was the library's console output
    for canary in CANARIES:
        assert canary not in everything
