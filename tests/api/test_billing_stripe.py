"""Paid plans through Stripe (issue 18, docs/billing.md), against the local Stripe
stand-in (``launchgate.testing.stripe_stand_in``, a real HTTP server on 127.0.0.1) on
both backends: checkout and portal sessions, one customer per organisation, and signed
webhooks that move the plan — idempotent, ordered, audited, and seen by the usage at once.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from datetime import timedelta
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import event as event_api
from sqlalchemy import select, update
from sqlalchemy.util import await_only

from launchgate.app import create_app
from launchgate.billing import service as billing
from launchgate.db import unit_of_work
from launchgate.kit.time import month_key, utcnow
from launchgate.models import AuditEvent, Organisation, StripeEvent, UsageCounter
from launchgate.runtime import ApiRuntime
from launchgate.testing.stripe_stand_in import StripeStandInServer
from launchgate.users import service as users
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
from tests.conftest import make_settings, started
from tests.factories import Api, Org, assert_error, unique

WEBHOOK = "/v1/billing/webhook"


@pytest.fixture(scope="module")
def stand_in() -> Iterator[StripeStandInServer]:
    with StripeStandInServer(SECRET_KEY, [PRICE_PRO, PRICE_SCALE]) as server:
        yield server


@pytest.fixture(scope="module")
async def stripe_app(
    database_url: str, tmp_path_factory: pytest.TempPathFactory, stand_in: StripeStandInServer
) -> AsyncIterator[FastAPI]:
    settings = make_settings(
        database_url, tmp_path_factory.mktemp("stripe"), **stripe_overrides(stand_in.base_url)
    )
    async for running in started(create_app(settings)):
        yield running


@pytest.fixture
async def sapi(stripe_app: FastAPI) -> AsyncIterator[Api]:
    runtime: ApiRuntime = stripe_app.state.runtime
    transport = httpx.ASGITransport(app=stripe_app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        yield Api(client, runtime)


async def _plan(api: Api, org: Org) -> str:
    async with unit_of_work(api.runtime.sessions) as session:
        found = await session.get(Organisation, org.id)
        assert found is not None
        return found.plan


async def _customer(api: Api, org: Org) -> str | None:
    async with unit_of_work(api.runtime.sessions) as session:
        found = await session.get(Organisation, org.id)
        assert found is not None
        return found.stripe_customer_id


async def _audit(api: Api, org: Org) -> list[AuditEvent]:
    async with unit_of_work(api.runtime.sessions) as session:
        rows = await session.scalars(
            select(AuditEvent).where(
                AuditEvent.org_id == org.id, AuditEvent.action == "organization.plan_changed"
            )
        )
        return list(rows)


async def _post_event(
    api: Api, value: dict[str, Any], secret: str = WEBHOOK_SECRET, **headers: str
) -> httpx.Response:
    payload = body_of(value)
    sent = {"Stripe-Signature": sign(payload, secret), "Content-Type": "application/json"}
    return await api.client.post(WEBHOOK, content=payload, headers={**sent, **headers})


async def _subscribed(api: Api, org: Org) -> str:
    """Check out once, so the organisation has its Stripe customer; returns its id."""
    await api.ok("POST", "/v1/billing/checkout", org, json={"plan": "pro"})
    customer = await _customer(api, org)
    assert customer is not None and customer.startswith("cus_")
    return customer


# --- checkout and portal ------------------------------------------------------------------


async def test_checkout_creates_one_customer_and_a_subscription_session(
    sapi: Api, stand_in: StripeStandInServer
) -> None:
    org = await sapi.org("free")
    first = await sapi.ok("POST", "/v1/billing/checkout", org, json={"plan": "pro"})
    assert set(first) == {"checkout_url"}
    assert first["checkout_url"].startswith("https://checkout.stripe.com/c/pay/cs_test_")
    second = await sapi.ok(
        "POST",
        "/v1/billing/checkout",
        org,
        json={
            "plan": "scale",
            "success_url": "https://app.example.com/paid?session={CHECKOUT_SESSION_ID}",
            "cancel_url": "http://localhost:3000/back",
        },
    )
    assert second["checkout_url"] != first["checkout_url"]
    mine = [
        r
        for r in stand_in.requests("/v1/customers")
        if r["params"]["metadata"]["launchgate_org_id"] == str(org.id)
    ]
    assert len(mine) == 1, "one customer per organisation"
    assert mine[0]["idempotency_key"] == f"launchgate-customer-{org.id}"
    customer = await _customer(sapi, org)
    assert customer is not None
    sessions = [
        r["params"]
        for r in stand_in.requests("/v1/checkout/sessions")
        if r["params"].get("client_reference_id") == str(org.id)
    ]
    assert len(sessions) == 2
    pro, scale = sessions
    assert pro["mode"] == scale["mode"] == "subscription"
    assert pro["customer"] == scale["customer"] == customer
    assert pro["line_items"] == [{"price": PRICE_PRO, "quantity": "1"}]
    assert scale["line_items"] == [{"price": PRICE_SCALE, "quantity": "1"}]
    assert pro["success_url"] == pro["cancel_url"] == "http://testserver/settings/usage"
    assert scale["success_url"] == "https://app.example.com/paid?session={CHECKOUT_SESSION_ID}"
    assert scale["cancel_url"] == "http://localhost:3000/back"
    assert pro["subscription_data"]["metadata"] == {
        "launchgate_org_id": str(org.id),
        "launchgate_plan": "pro",
    }
    # Still free: only Stripe's webhook changes the plan.
    assert await _plan(sapi, org) == "free"


async def test_portal_for_the_organisations_customer(
    sapi: Api, stand_in: StripeStandInServer
) -> None:
    org = await sapi.org("free")
    refused = await sapi.call("POST", "/v1/billing/portal", org, json={})
    assert "checkout" in assert_error(refused, 409, "CONFLICT")["message"]
    customer = await _subscribed(sapi, org)
    found = await sapi.ok(
        "POST", "/v1/billing/portal", org, json={"return_url": "https://app.example.com/x"}
    )
    assert found["portal_url"].startswith("https://billing.stripe.com/p/session/")
    default = await sapi.ok("POST", "/v1/billing/portal", org, json={})
    sent = [
        r["params"]
        for r in stand_in.requests("/v1/billing_portal/sessions")
        if r["params"]["customer"] == customer
    ]
    assert [s["return_url"] for s in sent] == [
        "https://app.example.com/x",
        "http://testserver/settings/usage",
    ]
    assert default["portal_url"] != found["portal_url"]


@pytest.mark.parametrize(
    "body",
    [
        {"plan": "enterprise"},
        {"plan": "free"},
        {},
        {"plan": "pro", "success_url": "ftp://example.com/x"},
        {"plan": "pro", "success_url": "javascript:alert(1)"},
        {"plan": "pro", "success_url": "/settings/usage"},
        {"plan": "pro", "cancel_url": "https://user:pw@example.com/"},
        {"plan": "pro", "cancel_url": "https://example.com/a b"},
        {"plan": "pro", "cancel_url": "https://example.com/" + "a" * 2000},
        {"plan": "pro", "cancel_url": "https://example.com:99999/"},
        {"plan": "pro", "success_url": 7},
        {"plan": "pro", "coupon": "FREE"},
    ],
)
async def test_bad_checkout_bodies_are_400_and_call_no_stripe(
    sapi: Api, stand_in: StripeStandInServer, body: dict[str, Any]
) -> None:
    org = await sapi.org("free")
    before = len(stand_in.requests())
    assert_error(
        await sapi.call("POST", "/v1/billing/checkout", org, json=body), 400, "VALIDATION_ERROR"
    )
    assert len(stand_in.requests()) == before
    assert await _customer(sapi, org) is None


async def test_only_owners_and_live_keys_may_buy(sapi: Api) -> None:
    org = await sapi.org("free")
    test_key = Org(org.id, await sapi.test_key(org))
    for path, body in (("/v1/billing/checkout", {"plan": "pro"}), ("/v1/billing/portal", {})):
        refused = await sapi.call("POST", path, test_key, json=body)
        assert "test key" in assert_error(refused, 403, "FORBIDDEN")["message"]
    member = f"{unique('member')}@example.com"
    async with unit_of_work(sapi.runtime.sessions) as session:
        await users.create_user(session, org.id, member, "correct horse battery", "member")
    owner = await sapi.user(org)
    tokens = {}
    for email in (member, owner):
        login = await sapi.client.post(
            "/v1/auth/login", json={"email": email, "password": "correct horse battery"}
        )
        tokens[email] = login.json()["data"]["access_token"]
    as_member = await sapi.client.post(
        "/v1/billing/checkout",
        json={"plan": "pro"},
        headers={"Authorization": f"Bearer {tokens[member]}"},
    )
    assert "owner" in assert_error(as_member, 403, "FORBIDDEN")["message"]
    assert await _customer(sapi, org) is None
    as_owner = await sapi.client.post(
        "/v1/billing/checkout",
        json={"plan": "pro"},
        headers={"Authorization": f"Bearer {tokens[owner]}"},
    )
    assert as_owner.status_code == 200, as_owner.text
    assert await _customer(sapi, org) is not None


# --- the webhook --------------------------------------------------------------------------


async def test_a_signed_subscription_update_moves_the_plan_once(sapi: Api) -> None:
    org = await sapi.org("free")
    customer = await _subscribed(sapi, org)
    updated = event("customer.subscription.updated", subscription(customer, PRICE_PRO))
    answer = await _post_event(sapi, updated)
    assert answer.status_code == 200, answer.text
    assert answer.json() == {"received": True, "outcome": "plan_changed"}
    assert await _plan(sapi, org) == "pro"
    usage = await sapi.ok("GET", "/v1/billing/usage", org)
    assert (usage["plan"], usage["monthly_limit"]) == ("pro", 15_000)
    # The same event again (Stripe retries): recorded once, changes nothing, audited once.
    again = await _post_event(sapi, updated)
    assert again.json() == {"received": True, "outcome": "duplicate"}
    audit = await _audit(sapi, org)
    assert len(audit) == 1
    assert audit[0].actor_type == "system"
    assert audit[0].details == {
        "plan": {"from": "free", "to": "pro"},
        "stripe_event_id": updated["id"],
        "stripe_event_type": "customer.subscription.updated",
    }
    async with unit_of_work(sapi.runtime.sessions) as session:
        recorded = await session.get(StripeEvent, updated["id"])
        assert recorded is not None
        assert (recorded.org_id, recorded.outcome, recorded.plan) == (org.id, "plan_changed", "pro")


async def test_bad_signatures_are_400_and_change_nothing(sapi: Api) -> None:
    org = await sapi.org("free")
    customer = await _subscribed(sapi, org)
    value = event("customer.subscription.updated", subscription(customer, PRICE_SCALE))
    payload = body_of(value)
    tampered = payload.replace(PRICE_SCALE.encode(), PRICE_PRO.encode())
    old = sign(payload, at=int(time.time()) - 301)
    wrong_secret = sign(payload, "whsec_AnotherSecret0123456789")
    cases = [
        (tampered, {"Stripe-Signature": sign(payload)}),
        (payload, {"Stripe-Signature": wrong_secret}),
        (payload, {"Stripe-Signature": old}),
        (payload, {}),
        (payload, {"Stripe-Signature": ""}),
        (payload, {"Stripe-Signature": "t=1,v1=" + "0" * 64}),
        (payload, {"Stripe-Signature": "garbage"}),
        (payload, {"Stripe-Signature": "x" * 5000}),
        (b"\xff\xfe" + payload, {"Stripe-Signature": sign(b"\xff\xfe" + payload)}),
    ]
    for body, headers in cases:
        response = await sapi.client.post(WEBHOOK, content=body, headers=headers)
        assert_error(response, 400, "VALIDATION_ERROR")
        assert WEBHOOK_SECRET not in response.text
    assert await _plan(sapi, org) == "free"
    async with unit_of_work(sapi.runtime.sessions) as session:
        assert await session.get(StripeEvent, value["id"]) is None
    # Signed right, it is taken — an Authorization header is neither needed nor checked.
    response = await sapi.client.post(
        WEBHOOK,
        content=payload,
        headers={"Stripe-Signature": sign(payload), "Authorization": "Bearer nonsense"},
    )
    assert response.json() == {"received": True, "outcome": "plan_changed"}
    assert await _plan(sapi, org) == "scale"


async def test_an_older_event_after_a_newer_one_is_ignored(sapi: Api) -> None:
    org = await sapi.org("free")
    customer = await _subscribed(sapi, org)
    now = int(time.time())
    newer = event("customer.subscription.updated", subscription(customer, PRICE_SCALE), now)
    older = event("customer.subscription.updated", subscription(customer, PRICE_PRO), now - 60)
    assert (await _post_event(sapi, newer)).json()["outcome"] == "plan_changed"
    assert (await _post_event(sapi, older)).json()["outcome"] == "stale"
    assert await _plan(sapi, org) == "scale"
    deleted = event(
        "customer.subscription.deleted",
        subscription(customer, PRICE_SCALE, status="canceled"),
        now + 1,
    )
    assert (await _post_event(sapi, deleted)).json()["outcome"] == "plan_changed"
    assert await _plan(sapi, org) == "free"
    usage = await sapi.ok("GET", "/v1/billing/usage", org)
    assert (usage["plan"], usage["monthly_limit"]) == ("free", 500)
    moves = [e.details["plan"] for e in sorted(await _audit(sapi, org), key=lambda e: e.created_at)]
    assert moves == [{"from": "free", "to": "scale"}, {"from": "scale", "to": "free"}]


async def test_checkout_completed_sets_the_plan_and_keeps_the_customer(sapi: Api) -> None:
    org = await sapi.org("free")
    completed = {
        "id": "cs_test_" + uuid.uuid4().hex,
        "object": "checkout.session",
        "mode": "subscription",
        "client_reference_id": str(org.id),
        "customer": "cus_" + uuid.uuid4().hex[:14],
        "payment_status": "unpaid",
        "metadata": {"launchgate_org_id": str(org.id), "launchgate_plan": "scale"},
    }
    # Not paid yet (a bank debit on its way): nothing changes until it is.
    unpaid = await _post_event(sapi, event("checkout.session.completed", completed))
    assert unpaid.json()["outcome"] == "ignored"
    assert await _plan(sapi, org) == "free"
    paid = await _post_event(
        sapi, event("checkout.session.completed", {**completed, "payment_status": "paid"})
    )
    assert paid.json()["outcome"] == "plan_changed"
    assert await _plan(sapi, org) == "scale"
    assert await _customer(sapi, org) == completed["customer"]
    # Subscribed: a second checkout is refused (plans change in the portal).
    again = await sapi.call("POST", "/v1/billing/checkout", org, json={"plan": "pro"})
    message = assert_error(again, 409, "CONFLICT")["message"]
    assert "already on the scale plan" in message and "POST /v1/billing/portal" in message


async def test_subscription_states_and_strangers(sapi: Api) -> None:
    org = await sapi.org("free")
    customer = await _subscribed(sapi, org)
    now = int(time.time())
    steps = [
        ("trialing", PRICE_PRO, "plan_changed", "pro"),
        ("past_due", PRICE_PRO, "ignored", "pro"),  # Stripe is retrying the payment
        ("active", "price_someone_elses", "unknown_price", "pro"),
        ("active", PRICE_SCALE, "plan_changed", "scale"),
        ("active", PRICE_SCALE, "plan_kept", "scale"),
        # The operator sells the customer something else, and that ends: not our plan.
        ("canceled", "price_someone_elses", "unknown_price", "scale"),
        ("deleted", "price_someone_elses", "unknown_price", "scale"),
        ("unpaid", PRICE_SCALE, "plan_changed", "free"),
    ]
    for offset, (status, price, outcome, plan) in enumerate(steps):
        kind = "customer.subscription." + ("deleted" if status == "deleted" else "updated")
        obj = subscription(customer, price, "canceled" if status == "deleted" else status)
        value = event(kind, obj, now + offset)
        assert (await _post_event(sapi, value)).json()["outcome"] == outcome, status
        assert await _plan(sapi, org) == plan
    stranger = event("customer.subscription.updated", subscription("cus_nobody", PRICE_PRO))
    assert (await _post_event(sapi, stranger)).json()["outcome"] == "unknown_organisation"
    other = event("invoice.paid", {"id": "in_1", "object": "invoice", "customer": customer})
    assert (await _post_event(sapi, other)).json()["outcome"] == "ignored"
    assert await _plan(sapi, org) == "free"


async def test_a_run_sees_the_new_plan_at_once(sapi: Api) -> None:
    """The embedded mode keeps plans in memory (orgs/cache.py): a downgrade must reach the
    next run, not the next restart."""
    org = await sapi.org("free")
    customer = await _subscribed(sapi, org)
    _, suite = await sapi.gated_suite(org)
    now = int(time.time())
    up = event("customer.subscription.created", subscription(customer, PRICE_PRO), now)
    assert (await _post_event(sapi, up)).json()["outcome"] == "plan_changed"
    async with unit_of_work(sapi.runtime.sessions) as session:
        await session.merge(UsageCounter(org_id=org.id, period=month_key(utcnow()), runs=600))
    await sapi.run(org, suite["slug"], "hello world")  # 601 runs: fine on pro
    if sapi.runtime.settings.embedded:
        cached = sapi.runtime.facts_cache.get(org.id) if sapi.runtime.facts_cache else None
        assert cached is not None and cached.plan == "pro", "the plan is cached"
    down = event(
        "customer.subscription.deleted",
        subscription(customer, PRICE_PRO, "canceled"),
        now + 1,
    )
    assert (await _post_event(sapi, down)).json()["outcome"] == "plan_changed"
    refused = await sapi.call(
        "POST", "/v1/run", org, json={"suite": suite["slug"], "output": "hello world"}
    )
    assert "500" in assert_error(refused, 402, "USAGE_LIMIT_EXCEEDED")["message"]
    usage = await sapi.ok("GET", "/v1/billing/usage", org)
    assert (usage["plan"], usage["monthly_limit"], usage["current_usage"]) == ("free", 500, 601)


async def test_stripe_refusing_is_503_and_stores_nothing(sapi: Api) -> None:
    org = await sapi.org("free")
    async with unit_of_work(sapi.runtime.sessions) as session:
        found = await session.get(Organisation, org.id)
        assert found is not None
        found.stripe_customer_id = "cus_unknown_" + uuid.uuid4().hex[:8]
    refused = await sapi.call("POST", "/v1/billing/portal", org, json={})
    error = assert_error(refused, 503, "SERVICE_UNAVAILABLE")
    assert error["details"]["code"] == "resource_missing"
    assert SECRET_KEY not in refused.text


# --- off unless configured ----------------------------------------------------------------


@pytest.mark.parametrize("method", ["POST", "GET", "PUT"])
@pytest.mark.parametrize("path", ["/v1/billing/checkout", "/v1/billing/portal", WEBHOOK])
async def test_unconfigured_the_routes_are_unknown_paths(api: Api, method: str, path: str) -> None:
    assert not api.runtime.settings.stripe_enabled
    org = await api.org("free")
    unknown = await api.call(method, "/v1/billing/no-such-thing", None)
    assert_error(unknown, 404, "NOT_FOUND")
    for caller in (org, None):
        response = await api.call(method, path, caller, json={"plan": "pro"})
        assert response.status_code == 404, response.text
        assert response.json()["error"]["code"] == unknown.json()["error"]["code"]
        assert response.json()["error"]["message"] == unknown.json()["error"]["message"]
    payload = body_of(event("customer.subscription.updated", subscription("cus_x", PRICE_PRO)))
    signed = await api.client.post(
        WEBHOOK, content=payload, headers={"Stripe-Signature": sign(payload)}
    )
    assert_error(signed, 404, "NOT_FOUND")
    assert await _plan(api, org) == "free"


async def test_the_schema_leaves_billing_routes_out_either_way(api: Api, sapi: Api) -> None:
    """One schema for every configuration (docs/billing.md documents the routes)."""
    for caller in (api, sapi):
        paths = (await caller.client.get("/openapi.json")).json()["paths"]
        assert "/v1/billing/usage" in paths
        assert not {"/v1/billing/checkout", "/v1/billing/portal", WEBHOOK} & set(paths)


async def test_concurrent_deliveries_and_checkouts_count_once(
    sapi: Api, stand_in: StripeStandInServer
) -> None:
    org = await sapi.org("free")
    checkouts = await asyncio.gather(
        *(sapi.call("POST", "/v1/billing/checkout", org, json={"plan": "pro"}) for _ in range(4))
    )
    assert [r.status_code for r in checkouts] == [200] * 4
    customers = {
        r["params"]["customer"]
        for r in stand_in.requests("/v1/checkout/sessions")
        if r["params"].get("client_reference_id") == str(org.id)
    }
    assert customers == {await _customer(sapi, org)}, "one customer however many at once"
    assert customers != {None}
    (customer,) = customers
    value = event("customer.subscription.created", subscription(customer, PRICE_PRO))
    answers = await asyncio.gather(*(_post_event(sapi, value) for _ in range(5)))
    assert all(a.status_code == 200 for a in answers), [a.text for a in answers]
    outcomes = sorted(a.json()["outcome"] for a in answers)
    assert outcomes == ["duplicate"] * 4 + ["plan_changed"]
    assert len(await _audit(sapi, org)) == 1
    assert await _plan(sapi, org) == "pro"


async def test_the_audit_log_shows_the_plan_change(sapi: Api) -> None:
    org = await sapi.org("free")
    customer = await _subscribed(sapi, org)
    value = event("customer.subscription.updated", subscription(customer, PRICE_SCALE))
    assert (await _post_event(sapi, value)).json()["outcome"] == "plan_changed"
    page = await sapi.ok("GET", "/v1/audit-log", org)
    (found,) = [e for e in page["data"] if e["action"] == "organization.plan_changed"]
    assert found["actor_type"] == "system"
    assert found["details"]["plan"] == {"from": "free", "to": "scale"}
    assert found["details"]["stripe_event_id"] == value["id"]


async def test_an_oversized_webhook_body_is_413_and_changes_nothing(sapi: Api) -> None:
    org = await sapi.org("free")
    customer = await _subscribed(sapi, org)
    value = event("customer.subscription.updated", subscription(customer, PRICE_PRO))
    value["data"]["object"]["padding"] = "x" * sapi.runtime.settings.max_body_bytes
    payload = body_of(value)
    response = await sapi.client.post(
        WEBHOOK, content=payload, headers={"Stripe-Signature": sign(payload)}
    )
    assert_error(response, 413, "PAYLOAD_TOO_LARGE")
    assert await _plan(sapi, org) == "free"


async def test_an_older_event_decided_beside_a_newer_one_still_loses(sapi: Api) -> None:
    """Two events of one organisation at once: the older one is held just before its first
    write until the newer one has been answered. Each must be decided against what the
    other committed — on SQLite too, where reads take no lock — so the older is stale."""
    org = await sapi.org("free")
    customer = await _subscribed(sapi, org)
    now = int(time.time())
    up = event("customer.subscription.updated", subscription(customer, PRICE_PRO), now - 120)
    assert (await _post_event(sapi, up)).json()["outcome"] == "plan_changed"
    older = event("customer.subscription.updated", subscription(customer, PRICE_SCALE), now - 60)
    newer = event(
        "customer.subscription.deleted", subscription(customer, PRICE_PRO, "canceled"), now
    )
    held, newer_answered = asyncio.Event(), asyncio.Event()

    def hold_the_older(_conn: Any, _cursor: Any, statement: str, parameters: Any, *_: Any) -> None:
        if statement.lstrip().upper().startswith("INSERT INTO STRIPE_EVENTS") and older[
            "id"
        ] in repr(parameters):
            held.set()
            # PostgreSQL before the fix held the organisation's row lock here, so the newer
            # event waited on it: the timeout lets both go on, in the right order anyway.
            with contextlib.suppress(TimeoutError):
                await_only(asyncio.wait_for(newer_answered.wait(), 5))

    engine = sapi.runtime.engine.sync_engine
    event_api.listen(engine, "before_cursor_execute", hold_the_older)
    try:
        late = asyncio.create_task(_post_event(sapi, older))
        await asyncio.wait_for(held.wait(), 10)
        first = asyncio.create_task(_post_event(sapi, newer))
        await asyncio.wait({first}, timeout=6)  # answered while the older one is held
        newer_answered.set()
        answers = {"newer": (await first).json(), "older": (await late).json()}
    finally:
        event_api.remove(engine, "before_cursor_execute", hold_the_older)
    assert answers["newer"]["outcome"] == "plan_changed"
    assert answers["older"]["outcome"] == "stale"
    assert await _plan(sapi, org) == "free"
    moves = [e.details["plan"] for e in sorted(await _audit(sapi, org), key=lambda e: e.created_at)]
    assert moves == [{"from": "free", "to": "pro"}, {"from": "pro", "to": "free"}]


async def test_our_id_in_the_metadata_cannot_reach_another_customers_organisation(
    sapi: Api,
) -> None:
    """The organisation named in an event's metadata (or client_reference_id) is taken only
    when the event's customer is its own, or it has none yet: an event about another
    customer — a subscription the operator made by hand and tagged wrong, a copied
    metadata — changes nothing."""
    org = await sapi.org("free")
    customer = await _subscribed(sapi, org)
    stranger = "cus_" + uuid.uuid4().hex[:14]
    tagged = event(
        "customer.subscription.updated", subscription(stranger, PRICE_SCALE, org_id=org.id)
    )
    assert (await _post_event(sapi, tagged)).json()["outcome"] == "unknown_organisation"
    completed = {
        "id": "cs_test_" + uuid.uuid4().hex,
        "object": "checkout.session",
        "mode": "subscription",
        "client_reference_id": str(org.id),
        "customer": stranger,
        "payment_status": "paid",
        "metadata": {"launchgate_org_id": str(org.id), "launchgate_plan": "scale"},
    }
    answer = await _post_event(sapi, event("checkout.session.completed", completed))
    assert answer.json()["outcome"] == "unknown_organisation"
    assert (await _plan(sapi, org), await _customer(sapi, org)) == ("free", customer)
    # Its own customer, with or without our id in the metadata, is taken.
    own = event("customer.subscription.updated", subscription(customer, PRICE_PRO, org_id=org.id))
    assert (await _post_event(sapi, own)).json()["outcome"] == "plan_changed"
    assert await _plan(sapi, org) == "pro"


async def test_odd_but_signed_events_change_nothing(sapi: Api) -> None:
    """Signed by Stripe, yet naming no organisation of ours, or in a shape we do not
    expect: each is answered (200, so Stripe stops retrying, or 400 for a non-event) and
    no organisation's plan moves."""
    org = await sapi.org("free")
    customer = await _subscribed(sapi, org)
    up = event("customer.subscription.created", subscription(customer, PRICE_PRO), 1)
    assert (await _post_event(sapi, up)).json()["outcome"] == "plan_changed"
    checkout = {
        "object": "checkout.session",
        "mode": "subscription",
        "payment_status": "paid",
        "metadata": {"launchgate_plan": "pro"},
    }
    odd: list[tuple[str, Any, int, str | None]] = [
        (
            "checkout.session.completed",
            {**checkout, "client_reference_id": "not-a-uuid"},
            200,
            "unknown_organisation",
        ),
        (
            "checkout.session.completed",
            {**checkout, "client_reference_id": str(uuid.uuid4())},
            200,
            "unknown_organisation",
        ),
        (
            "checkout.session.completed",
            {**checkout, "client_reference_id": [str(org.id)]},
            200,
            "unknown_organisation",
        ),
        ("customer.subscription.updated", {}, 200, "unknown_price"),
        ("customer.subscription.deleted", {"customer": customer}, 200, "unknown_price"),
        (
            "customer.subscription.updated",
            {"customer": {"id": customer}, "items": "x"},
            200,
            "unknown_price",
        ),
        (
            "customer.subscription.updated",
            {**subscription(customer, PRICE_PRO), "status": ["active"]},
            200,
            "ignored",
        ),
        ("customer.subscription.updated", "not an object", 400, None),
    ]
    for kind, obj, status, outcome in odd:
        value = event(kind, {})
        value["data"]["object"] = obj
        answer = await _post_event(sapi, value)
        assert answer.status_code == status, (kind, obj, answer.text)
        if outcome is not None:
            assert answer.json()["outcome"] == outcome, (kind, obj)
    assert (await _plan(sapi, org), await _customer(sapi, org)) == ("pro", customer)
    assert len(await _audit(sapi, org)) == 1


async def test_nothing_is_held_while_stripe_makes_the_checkout_session(
    sapi: Api, stand_in: StripeStandInServer
) -> None:
    """The new customer is committed before Stripe is asked for the session: a slow Stripe
    must not hold the organisation's row (PostgreSQL) or the database's write lock
    (SQLite) — a config change of the same organisation goes through meanwhile."""
    org = await sapi.org("free")
    sessions = "/v1/checkout/sessions"
    stand_in.state.delays[sessions] = 5.0
    try:
        buying = asyncio.create_task(
            sapi.call("POST", "/v1/billing/checkout", org, json={"plan": "pro"})
        )
        deadline = time.monotonic() + 10
        while not [
            r
            for r in stand_in.state.requests
            if r["path"] == sessions and r["params"].get("client_reference_id") == str(org.id)
        ]:
            assert time.monotonic() < deadline and not buying.done()
            await asyncio.sleep(0.02)
        await sapi.project(org)  # bumps the organisation's config_version: a write to its row
        assert not buying.done(), "the write waited for Stripe"
        assert (await buying).status_code == 200
    finally:
        stand_in.state.delays.clear()
    assert await _customer(sapi, org) is not None


ORDERED_STEPS = [  # (event type, price, status, the plan it decides; None: none)
    ("customer.subscription.created", PRICE_PRO, "active", "pro"),
    ("customer.subscription.updated", PRICE_SCALE, "active", "scale"),
    ("customer.subscription.updated", PRICE_SCALE, "past_due", None),
    ("customer.subscription.updated", "price_someone_elses", "canceled", None),
    ("customer.subscription.deleted", PRICE_SCALE, "canceled", "free"),
    ("customer.subscription.created", PRICE_PRO, "trialing", "pro"),
]


@settings(
    max_examples=12,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    order=st.permutations(range(len(ORDERED_STEPS))),
    keep=st.lists(st.booleans(), min_size=len(ORDERED_STEPS), max_size=len(ORDERED_STEPS)),
)
async def test_in_any_order_the_newest_deciding_event_wins(
    sapi: Api, order: list[int], keep: list[bool]
) -> None:
    """Stripe delivers in any order, and may drop none or some: whatever arrives, in
    whatever order, the plan ends as the newest event that decides one says, each change
    is audited once, and every replay afterwards is a duplicate that changes nothing."""
    org = await sapi.org("free")
    customer = await _subscribed(sapi, org)
    base = int(time.time()) - 1000
    events = [
        event(kind, subscription(customer, price, status), base + index)
        for index, (kind, price, status, _) in enumerate(ORDERED_STEPS)
    ]
    arriving = [index for index in order if keep[index]]
    outcomes = [(await _post_event(sapi, events[index])).json()["outcome"] for index in arriving]
    deciding = [index for index in arriving if ORDERED_STEPS[index][3] is not None]
    expected = ORDERED_STEPS[max(deciding)][3] if deciding else "free"
    assert await _plan(sapi, org) == expected, (arriving, outcomes)
    assert len(await _audit(sapi, org)) == outcomes.count("plan_changed")
    for index in arriving:
        assert (await _post_event(sapi, events[index])).json()["outcome"] == "duplicate"
    assert await _plan(sapi, org) == expected


async def test_an_enterprise_organisation_cannot_check_out_into_a_smaller_plan(
    sapi: Api, stand_in: StripeStandInServer
) -> None:
    """Enterprise is the operator's to give (and the default of a self-hosted install, so
    every organisation of a server that turns billing on later): a checkout would trade its
    unlimited runs for Pro's or Scale's, so it is refused before Stripe hears of it."""
    org = await sapi.org("enterprise")
    for plan in ("pro", "scale"):
        refused = await sapi.call("POST", "/v1/billing/checkout", org, json={"plan": plan})
        assert "enterprise" in assert_error(refused, 409, "CONFLICT")["message"]
    assert all(
        r["params"].get("metadata", {}).get("launchgate_org_id") != str(org.id)
        for r in stand_in.requests()
    )
    assert (await _plan(sapi, org), await _customer(sapi, org)) == ("enterprise", None)


# --- one subscription per organisation (docs/billing.md#one-subscription-per-organisation) --


def _sessions_of(stand_in: StripeStandInServer, org: Org) -> dict[str, dict[str, Any]]:
    """The checkout sessions Stripe (the stand-in) holds for the organisation, by id."""
    return {
        ident: found
        for ident, found in stand_in.state.sessions.items()
        if found["client_reference_id"] == str(org.id)
    }


async def _subscription(api: Api, org: Org) -> str | None:
    async with unit_of_work(api.runtime.sessions) as session:
        found = await session.get(Organisation, org.id)
        assert found is not None
        return found.stripe_subscription_id


async def test_two_checkouts_before_the_webhook_leave_one_session_to_pay(
    sapi: Api, stand_in: StripeStandInServer
) -> None:
    """Two tabs, a double click, a change of mind: however many checkouts the
    organisation starts before Stripe's first webhook, at most one session can be paid,
    and once it is, no other is made."""
    org = await sapi.org("free")
    first = await sapi.ok("POST", "/v1/billing/checkout", org, json={"plan": "pro"})
    again = await sapi.ok("POST", "/v1/billing/checkout", org, json={"plan": "pro"})
    assert again == first, "the open session is handed back"
    assert len(_sessions_of(stand_in, org)) == 1
    # Another plan: the open session is ended at Stripe before the new one is made.
    scale = await sapi.ok("POST", "/v1/billing/checkout", org, json={"plan": "scale"})
    assert scale["checkout_url"] != first["checkout_url"]
    sessions = _sessions_of(stand_in, org)
    assert sorted(s["status"] for s in sessions.values()) == ["expired", "open"]
    (open_id,) = [ident for ident, s in sessions.items() if s["status"] == "open"]
    assert scale["checkout_url"].endswith(open_id)
    # The buyer pays it in one tab; before Stripe's webhook, another tab asks for Pro.
    paid = stand_in.state.complete(open_id)
    refused = await sapi.call("POST", "/v1/billing/checkout", org, json={"plan": "pro"})
    message = assert_error(refused, 409, "CONFLICT")["message"]
    assert "just been paid" in message and "POST /v1/billing/portal" in message
    assert len(_sessions_of(stand_in, org)) == 2, "no session was made for it"
    # The webhook: the plan and the subscription; a checkout is then refused outright.
    answer = await _post_event(sapi, event("checkout.session.completed", paid))
    assert answer.json()["outcome"] == "plan_changed"
    assert (await _plan(sapi, org), await _subscription(sapi, org)) == (
        "scale",
        paid["subscription"],
    )
    before = len(stand_in.requests("/v1/checkout/sessions"))
    for plan in ("pro", "scale"):
        refused = await sapi.call("POST", "/v1/billing/checkout", org, json={"plan": plan})
        assert_error(refused, 409, "CONFLICT")
    assert len(stand_in.requests("/v1/checkout/sessions")) == before


async def test_checkouts_at_once_share_one_session(
    sapi: Api, stand_in: StripeStandInServer
) -> None:
    org = await sapi.org("free")
    answers = await asyncio.gather(
        *(sapi.ok("POST", "/v1/billing/checkout", org, json={"plan": "pro"}) for _ in range(4))
    )
    assert len({a["checkout_url"] for a in answers}) == 1
    assert [s["status"] for s in _sessions_of(stand_in, org).values()] == ["open"]


async def test_a_checkout_paid_by_bank_debit_blocks_another_until_it_fails(
    sapi: Api, stand_in: StripeStandInServer
) -> None:
    """Completed but not paid yet (a debit on its way): the subscription exists, so a
    second checkout would be billed too; when the debit fails, the organisation may buy."""
    org = await sapi.org("free")
    url = (await sapi.ok("POST", "/v1/billing/checkout", org, json={"plan": "pro"}))["checkout_url"]
    ident = url.rsplit("/", 1)[1]
    completed = {**stand_in.state.complete(ident), "payment_status": "unpaid"}
    answer = await _post_event(sapi, event("checkout.session.completed", completed))
    assert answer.json()["outcome"] == "ignored"
    assert (await _plan(sapi, org), await _subscription(sapi, org)) == (
        "free",
        completed["subscription"],
    )
    refused = await sapi.call("POST", "/v1/billing/checkout", org, json={"plan": "scale"})
    message = assert_error(refused, 409, "CONFLICT")["message"]
    assert "already has a Stripe subscription" in message
    assert "POST /v1/billing/portal" in message
    customer = await _customer(sapi, org)
    assert customer is not None
    failed = subscription(
        customer, PRICE_PRO, "incomplete_expired", ident=completed["subscription"]
    )
    answer = await _post_event(sapi, event("customer.subscription.updated", failed))
    assert answer.json()["outcome"] == "plan_kept"
    assert await _subscription(sapi, org) is None
    fresh = await sapi.ok("POST", "/v1/billing/checkout", org, json={"plan": "pro"})
    assert fresh["checkout_url"] != url, "a spent session is never handed back"


async def test_a_second_subscription_is_reported_and_never_applied(sapi: Api) -> None:
    """Should a second subscription exist all the same (made by hand in Stripe, or bought
    before this server remembered subscriptions), its events do not move the plan: paid
    for, it is reported in the audit log for the operator to cancel and refund; its end
    (that cancellation) leaves the live subscription's plan alone."""
    org = await sapi.org("free")
    customer = await _subscribed(sapi, org)
    now = int(time.time())
    live, second = "sub_live_" + uuid.uuid4().hex[:8], "sub_second_" + uuid.uuid4().hex[:8]

    def completed(sub: str, plan: str) -> dict[str, Any]:
        return {
            "id": "cs_test_" + uuid.uuid4().hex,
            "object": "checkout.session",
            "mode": "subscription",
            "client_reference_id": str(org.id),
            "customer": customer,
            "subscription": sub,
            "payment_status": "paid",
            "metadata": {"launchgate_org_id": str(org.id), "launchgate_plan": plan},
        }

    steps = [
        ("checkout.session.completed", completed(live, "pro"), "plan_changed", "pro"),
        ("checkout.session.completed", completed(second, "scale"), "duplicate_subscription", "pro"),
        (
            "customer.subscription.created",
            subscription(customer, PRICE_SCALE, ident=second),
            "duplicate_subscription",
            "pro",
        ),
        (
            "customer.subscription.deleted",
            subscription(customer, PRICE_SCALE, "canceled", ident=second),
            "other_subscription",
            "pro",
        ),
        (
            "customer.subscription.deleted",
            subscription(customer, PRICE_PRO, "canceled", ident=live),
            "plan_changed",
            "free",
        ),
    ]
    for offset, (kind, obj, outcome, plan) in enumerate(steps):
        answer = await _post_event(sapi, event(kind, obj, now + offset))
        assert answer.json()["outcome"] == outcome, (kind, obj.get("id"))
        assert await _plan(sapi, org) == plan
    assert await _subscription(sapi, org) is None
    async with unit_of_work(sapi.runtime.sessions) as session:
        reports = list(
            await session.scalars(
                select(AuditEvent).where(
                    AuditEvent.org_id == org.id,
                    AuditEvent.action == "organization.duplicate_subscription",
                )
            )
        )
    assert len(reports) == 2
    assert {r.actor_type for r in reports} == {"system"}
    assert all(r.details["subscription"] == {"live": live, "duplicate": second} for r in reports)
    # The live one ended: the organisation may subscribe again.
    assert (await sapi.call("POST", "/v1/billing/checkout", org, json={"plan": "pro"})).is_success


# --- how long events are kept (docs/billing.md#how-long-events-are-kept) ------------------


async def test_the_retention_sweep_forgets_old_events_but_not_the_newest_decision(
    sapi: Api,
) -> None:
    """Events received more than 90 days ago go, except the organisation's newest
    decision: a late older event is still stale after the sweep, and a replay of the
    newest still a duplicate."""
    org = await sapi.org("free")
    customer = await _subscribed(sapi, org)
    now = int(time.time())
    up = event("customer.subscription.updated", subscription(customer, PRICE_PRO), now - 300)
    newest = event("customer.subscription.updated", subscription(customer, PRICE_SCALE), now - 200)
    retrying = event(
        "customer.subscription.updated", subscription(customer, PRICE_SCALE, "past_due"), now - 100
    )
    late = event("customer.subscription.updated", subscription(customer, PRICE_PRO), now - 400)
    other = event("invoice.paid", {"id": "in_1", "object": "invoice", "customer": customer})
    sent = [(up, "plan_changed"), (newest, "plan_changed"), (retrying, "ignored")]
    sent += [(late, "stale"), (other, "ignored")]
    for value, outcome in sent:
        assert (await _post_event(sapi, value)).json()["outcome"] == outcome
    received = {up["id"]: 91, newest["id"]: 91, late["id"]: 91, retrying["id"]: 89}
    async with unit_of_work(sapi.runtime.sessions) as session:
        for ident, days in received.items():
            await session.execute(
                update(StripeEvent)
                .where(StripeEvent.id == ident)
                .values(received_at=utcnow() - timedelta(days=days))
            )
    async with unit_of_work(sapi.runtime.sessions) as session:
        await billing.sweep_retention(session, None)
    async with unit_of_work(sapi.runtime.sessions) as session:
        ids = [value["id"] for value, _ in sent]
        kept = set(await session.scalars(select(StripeEvent.id).where(StripeEvent.id.in_(ids))))
    assert kept == {newest["id"], retrying["id"], other["id"]}
    assert (await _post_event(sapi, newest)).json()["outcome"] == "duplicate"
    assert (await _post_event(sapi, up)).json()["outcome"] == "stale", "forgotten, still old"
    assert await _plan(sapi, org) == "scale"
    assert len(await _audit(sapi, org)) == 2
