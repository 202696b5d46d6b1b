"""The Usage page's billing buttons (issue 18, docs/billing.md) on a real ``launchgate
serve`` pointed at the local Stripe stand-in, driven over HTTP the way a browser sends the
forms (cookies and CSRF token included): owners get Upgrade, then Manage billing once
subscribed, each answered with a redirect to Stripe's page; members and servers without
Stripe get neither, and a forged form is refused."""

from __future__ import annotations

import html
import re
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

import httpx
import pytest
from playwright.sync_api import Page, Route, expect

from launchgate.cli.operations import create_user
from launchgate.testing.stripe_stand_in import StripeStandInServer
from tests.billing.stripe_helpers import (
    PRICE_PRO,
    PRICE_SCALE,
    SECRET_KEY,
    body_of,
    event,
    sign,
    stripe_overrides,
)
from tests.dashboard.live import (
    PASSWORD,
    LiveServer,
    _run,
    new_member,
    sign_in,
    start_server,
    stop_server,
)

TOKEN = re.compile(r'name="csrf_token" value="([^"]+)"')
REFUSED = re.compile(r'id="billing-refused">([^<]*)<')


@pytest.fixture(scope="module")
def stand_in() -> Iterator[StripeStandInServer]:
    with StripeStandInServer(SECRET_KEY, [PRICE_PRO, PRICE_SCALE]) as server:
        yield server


@pytest.fixture(scope="module")
def billing_server(
    tmp_path_factory: pytest.TempPathFactory, stand_in: StripeStandInServer
) -> Iterator[LiveServer]:
    env = {
        f"LAUNCHGATE_{name.upper()}": value
        for name, value in stripe_overrides(stand_in.base_url).items()
    }
    live = start_server(tmp_path_factory.mktemp("billing"), **env)
    try:
        yield live
    finally:
        stop_server(live)


@contextmanager
def _signed_in(server: LiveServer, email: str) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=server.url, timeout=30) as client:
        page = client.get("/sign-in")
        token = TOKEN.search(page.text)
        assert token, page.text
        form = {"email": email, "password": PASSWORD, "csrf_token": token.group(1)}
        done = client.post("/sign-in", data=form)
        assert done.status_code == 303, done.text
        yield client


def _usage(client: httpx.Client) -> tuple[str, str]:
    """The Usage page and the CSRF token its forms carry."""
    page = client.get("/settings/usage")
    assert page.status_code == 200, page.text
    token = TOKEN.search(page.text)
    assert token
    return page.text, html.unescape(token.group(1))


def test_an_owner_upgrades_and_then_manages_billing(
    billing_server: LiveServer, stand_in: StripeStandInServer
) -> None:
    owner = new_member(billing_server, plan="free")
    with _signed_in(billing_server, owner.email) as client:
        page, token = _usage(client)
        assert 'id="upgrade-pro"' in page and 'id="upgrade-scale"' in page
        assert 'id="manage-billing"' not in page
        refused = client.post("/settings/billing/checkout", data={"plan": "scale"})
        assert refused.status_code == 403  # no CSRF token: a forged form
        bad = client.post(
            "/settings/billing/checkout", data={"plan": "enterprise", "csrf_token": token}
        )
        assert bad.status_code == 400
        assert not stand_in.requests("/v1/customers") or all(
            r["params"]["metadata"]["launchgate_org_id"] != owner.org_id
            for r in stand_in.requests("/v1/customers")
        )
        sent = client.post(
            "/settings/billing/checkout", data={"plan": "scale", "csrf_token": token}
        )
        assert sent.status_code == 303, sent.text
        assert sent.headers["location"].startswith("https://checkout.stripe.com/c/pay/cs_test_")
        params = [
            r["params"]
            for r in stand_in.requests("/v1/checkout/sessions")
            if r["params"].get("client_reference_id") == owner.org_id
        ]
        assert len(params) == 1
        assert params[0]["line_items"] == [{"price": PRICE_SCALE, "quantity": "1"}]
        assert params[0]["success_url"] == billing_server.url + "/settings/usage"
        page, token = _usage(client)
        assert 'id="manage-billing"' in page
        portal = client.post("/settings/billing/portal", data={"csrf_token": token})
        assert portal.status_code == 303, portal.text
        assert portal.headers["location"].startswith("https://billing.stripe.com/p/session/")
        sent_portal = stand_in.requests("/v1/billing_portal/sessions")[-1]["params"]
        assert sent_portal["return_url"] == billing_server.url + "/settings/usage"


def test_a_member_sees_no_billing_buttons_and_cannot_post_them(
    billing_server: LiveServer, stand_in: StripeStandInServer
) -> None:
    owner = new_member(billing_server, plan="free")
    email = f"member-{uuid.uuid4().hex[:8]}@example.com"
    _run(create_user(billing_server.settings(), owner.org_id, email, PASSWORD, "member"))
    with _signed_in(billing_server, email) as client:
        page, token = _usage(client)
        assert 'id="plan">Free<' in page
        assert "billing-actions" not in page
        policy = client.get("/settings/usage").headers["content-security-policy"]
        assert "form-action 'self';" in policy, "forms lead nowhere else without the buttons"
        _checkout_refused(client, token, 403, "owner")
    _no_checkout_session(stand_in, owner.org_id)


def test_without_stripe_the_usage_page_has_no_billing(server: LiveServer) -> None:
    owner = new_member(server, plan="free")
    with _signed_in(server, owner.email) as client:
        page, token = _usage(client)
        assert 'id="plan">Free<' in page
        assert "billing-actions" not in page
        assert "stripe.com" not in client.get("/settings/usage").headers["content-security-policy"]
        for path in ("/settings/billing/checkout", "/settings/billing/portal"):
            answer = client.post(path, data={"plan": "pro", "csrf_token": token})
            assert answer.status_code == 404, path


def test_in_a_browser_the_buttons_lead_to_stripe(
    page: Page, billing_server: LiveServer, stand_in: StripeStandInServer
) -> None:
    """Chromium, not a form posted by hand: the page's Content-Security-Policy
    (``form-action 'self'``) also governs where a form's answer may send the browser, so
    the Upgrade and Manage billing buttons must reach Stripe's pages in a real browser."""
    reached: list[str] = []

    def stripe_page(route: Route) -> None:
        reached.append(route.request.url)
        route.fulfill(status=200, content_type="text/html", body="<title>Stripe</title>")

    page.route(re.compile(r"^https://(checkout|billing)\.stripe\.com/.*"), stripe_page)
    owner = new_member(billing_server, plan="free")
    sign_in(page, billing_server, owner, "/settings/usage")
    page.get_by_role("button", name="Upgrade to Pro").click()
    expect(page).to_have_url(re.compile(r"^https://checkout\.stripe\.com/c/pay/cs_test_"))
    page.goto(billing_server.url + "/settings/usage")
    page.get_by_role("button", name="Manage billing").click()
    expect(page).to_have_url(re.compile(r"^https://billing\.stripe\.com/p/session/"))
    assert [url.split("/")[2] for url in reached] == ["checkout.stripe.com", "billing.stripe.com"]


def test_an_enterprise_owner_is_offered_no_downgrade(
    billing_server: LiveServer, stand_in: StripeStandInServer
) -> None:
    owner = new_member(billing_server, plan="enterprise")
    with _signed_in(billing_server, owner.email) as client:
        page, token = _usage(client)
        assert 'id="plan">Enterprise<' in page
        assert "upgrade-pro" not in page and "upgrade-scale" not in page
        _checkout_refused(client, token, 409, "enterprise")
    _no_checkout_session(stand_in, owner.org_id)


def _checked_out(
    server: LiveServer,
    stand_in: StripeStandInServer,
    client: httpx.Client,
    token: str,
    payment_status: str = "unpaid",
) -> None:
    """The owner checks out for Pro and pays, and Stripe's webhook says so. Unpaid (a bank
    debit, the payment still on its way): the organisation has a subscription and stays on
    Free; paid: it is on Pro."""
    sent = client.post("/settings/billing/checkout", data={"plan": "pro", "csrf_token": token})
    assert sent.status_code == 303, sent.text
    ident = sent.headers["location"].rsplit("/", 1)[1]
    completed = {**stand_in.state.complete(ident), "payment_status": payment_status}
    payload = body_of(event("checkout.session.completed", completed))
    answer = httpx.post(
        server.url + "/v1/billing/webhook",
        content=payload,
        headers={"Stripe-Signature": sign(payload), "Content-Type": "application/json"},
        timeout=30,
    )
    outcome = "ignored" if payment_status == "unpaid" else "plan_changed"
    assert answer.status_code == 200 and answer.json()["outcome"] == outcome, answer.text


def _refused_on_the_page(answer: httpx.Response) -> str:
    """A refused checkout (409) answered with the Usage page: the reason in its alert, which
    points to the page's Manage billing button, never to the API's portal route."""
    assert answer.status_code == 409, answer.text
    assert 'id="usage-title"' in answer.text, "the Usage page, not an error page"
    found = REFUSED.search(answer.text)
    assert found, answer.text
    reason = html.unescape(found.group(1))
    assert "Manage billing" in reason
    assert "/v1/billing/portal" not in answer.text
    assert 'id="manage-billing"' in answer.text, "the button the reason names is there"
    assert "Traceback" not in answer.text
    return reason


def test_a_subscription_waiting_for_its_payment_offers_no_upgrade(
    billing_server: LiveServer, stand_in: StripeStandInServer
) -> None:
    """Another checkout would be refused (409) and, were it not, billed a second time: the
    page says the subscription is on its way and offers Manage billing, not Upgrade."""
    owner = new_member(billing_server, plan="free")
    with _signed_in(billing_server, owner.email) as client:
        _, token = _usage(client)
        _checked_out(billing_server, stand_in, client, token)
        page, _ = _usage(client)
    assert 'id="plan">Free<' in page
    assert "upgrade-pro" not in page and "upgrade-scale" not in page
    assert 'id="subscription-pending"' in page
    assert "plan changes when Stripe confirms its payment" in page
    assert 'id="manage-billing"' in page


def test_an_upgrade_from_a_page_loaded_before_the_webhook_is_refused_on_the_page(
    billing_server: LiveServer, stand_in: StripeStandInServer
) -> None:
    """The page still showed Upgrade to Scale when Stripe's webhook stored the
    subscription: the click is refused (409) on the Usage page, saying why, and Stripe is
    asked for nothing."""
    owner = new_member(billing_server, plan="free")
    with _signed_in(billing_server, owner.email) as client:
        page, token = _usage(client)
        assert 'id="upgrade-scale"' in page
        _checked_out(billing_server, stand_in, client, token)
        before = len(stand_in.requests("/v1/checkout/sessions"))
        refused = client.post(
            "/settings/billing/checkout", data={"plan": "scale", "csrf_token": token}
        )
    assert "already has a Stripe subscription" in _refused_on_the_page(refused)
    assert 'id="subscription-pending"' in refused.text
    assert "upgrade-scale" not in refused.text
    assert len(stand_in.requests("/v1/checkout/sessions")) == before


def test_an_upgrade_once_subscribed_is_refused_naming_manage_billing(
    billing_server: LiveServer, stand_in: StripeStandInServer
) -> None:
    """The page still showed Upgrade to Scale when the paid checkout's webhook put the
    organisation on Pro: the refusal says so and points to Manage billing, where the API's
    message names ``POST /v1/billing/portal``."""
    owner = new_member(billing_server, plan="free")
    with _signed_in(billing_server, owner.email) as client:
        page, token = _usage(client)
        assert 'id="upgrade-scale"' in page
        _checked_out(billing_server, stand_in, client, token, payment_status="paid")
        refused = client.post(
            "/settings/billing/checkout", data={"plan": "scale", "csrf_token": token}
        )
    assert "already on the Pro plan" in _refused_on_the_page(refused)
    assert 'id="plan">Pro<' in refused.text
    assert "upgrade-scale" not in refused.text


def test_a_checkout_paid_before_its_webhook_is_refused_naming_manage_billing(
    billing_server: LiveServer, stand_in: StripeStandInServer
) -> None:
    """The owner paid for Pro in one tab and, before Stripe's webhook, asks for Scale in
    another: the open session cannot be ended, and the page says it was just paid."""
    owner = new_member(billing_server, plan="free")
    with _signed_in(billing_server, owner.email) as client:
        _, token = _usage(client)
        sent = client.post("/settings/billing/checkout", data={"plan": "pro", "csrf_token": token})
        assert sent.status_code == 303, sent.text
        stand_in.state.complete(sent.headers["location"].rsplit("/", 1)[1])
        refused = client.post(
            "/settings/billing/checkout", data={"plan": "scale", "csrf_token": token}
        )
    assert "just been paid" in _refused_on_the_page(refused)
    assert 'id="plan">Free<' in refused.text, "the plan waits for the webhook"


def _checkout_refused(client: httpx.Client, token: str, status: int, why: str) -> None:
    """A checkout posted by hand (the page offers no button for it) is refused."""
    forged = client.post("/settings/billing/checkout", data={"plan": "pro", "csrf_token": token})
    assert forged.status_code == status and why in forged.text


def _no_checkout_session(stand_in: StripeStandInServer, org_id: str) -> None:
    """Stripe was never asked for a checkout session for this organisation."""
    assert all(
        r["params"].get("client_reference_id") != org_id
        for r in stand_in.requests("/v1/checkout/sessions")
    )
