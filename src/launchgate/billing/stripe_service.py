"""Paid plans through Stripe (docs/billing.md): Checkout and the Customer Portal for an
organisation's owners, and the signed webhook that moves the organisation between plans.

The webhook is the only way a plan changes here, and each event is judged on its own:
verified on the raw bytes before anything is parsed, recorded by its Stripe id before it
changes anything (a replay finds it and stops), and compared with the newest event that
already decided the organisation's plan (Stripe does not deliver in order; an older event
arriving late is recorded as ``stale`` and changes nothing). Services never commit: the
endpoint does, then forgets the embedded mode's cached plan.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import structlog
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from launchgate.api_keys.scope import TestKeyNotAllowed
from launchgate.audit import service as audit
from launchgate.billing import stripe_client
from launchgate.billing import stripe_repository as repository
from launchgate.billing.stripe_schemas import PAID_PLANS, CheckoutIn, PortalIn
from launchgate.config import Settings
from launchgate.errors import Conflict, NotFound, ValidationFailed
from launchgate.kit.auth_context import AuthContext
from launchgate.kit.time import utcnow
from launchgate.models import Organisation, StripeCheckout
from launchgate.orgs import service as orgs
from launchgate.orgs.service import OwnersOnly
from launchgate.users import service as users

log = structlog.get_logger(__name__)

# A subscription in these states is paid for (trialing: a trial the operator offers).
PAYING = ("active", "trialing")
# These end it: the organisation goes back to free. ``paused`` is a trial that ended
# without a payment method.
ENDED = ("canceled", "unpaid", "incomplete_expired", "paused")
# ``past_due`` (a renewal failed and Stripe is retrying) and ``incomplete`` (the first
# payment is not through yet) change nothing: Stripe's retries end in active, or in
# canceled/unpaid, and that event decides.
SUBSCRIPTION_EVENTS = (
    "customer.subscription.created",
    "customer.subscription.updated",
    "customer.subscription.deleted",
)
CHECKOUT_COMPLETED = "checkout.session.completed"
MAX_SIGNATURE_HEADER = 4096
PLAN_CHANGED = orgs.PLAN_CHANGED
DUPLICATE_SUBSCRIPTION = "organization.duplicate_subscription"  # the audit action


class BadSignature(ValidationFailed):
    """A webhook call that Stripe did not sign with our secret, or signed too long ago."""


# --- who may buy --------------------------------------------------------------------------


async def check_buyer(session: Any, auth: AuthContext) -> None:
    """Owners of the organisation from the dashboard, and live API keys: a member cannot
    commit the organisation to a payment, nor can a test key (which may leak from CI)."""
    if auth.auth_mode == "jwt":
        try:
            role = (await users.get_user(session, auth)).role
        except NotFound:  # an external OIDC token names no user of ours: not an owner
            role = None
        if role != "owner":
            raise OwnersOnly("Only an owner of the organisation may manage its billing")
    elif auth.key_mode == "test":
        raise TestKeyNotAllowed(
            "A test key (lg_test_) cannot manage billing: use a live key (lg_live_) or sign "
            "in to the dashboard as an owner"
        )


Release = Callable[[], Awaitable[None]]


# A stored checkout session is handed back only while the buyer has at least this long
# to pay on it; closer to its end it is ended and replaced.
TIME_TO_PAY = timedelta(minutes=15)


# Where an API caller changes or cancels a subscription. Only the API's messages name it:
# the dashboard words the refusals below itself, pointing to its Manage billing button.
PORTAL_ROUTE = "the billing portal (POST /v1/billing/portal)"


class CheckoutPaid(Conflict):
    """The organisation's open checkout session was paid; its subscription is on its way."""

    def __init__(self) -> None:
        super().__init__(
            "The organisation's open checkout has just been paid: its plan changes as soon "
            f"as Stripe confirms it; after that, change plan in {PORTAL_ROUTE}"
        )


class AlreadySubscribed(Conflict):
    """A checkout refused because the organisation has a subscription: ``plan`` is the paid
    plan it is on through Stripe, or None while the subscription has set no plan yet."""

    def __init__(self, plan: str | None) -> None:
        self.plan = plan
        has = f"is already on the {plan} plan" if plan else "already has a Stripe subscription"
        super().__init__(f"The organisation {has}: change or cancel it in {PORTAL_ROUTE}")


async def checkout(
    session: Any,
    settings: Settings,
    auth: AuthContext,
    body: CheckoutIn,
    default_url: str,
    release: Release,
) -> str:
    """A Stripe Checkout session in subscription mode for the plan's price, for the
    organisation's customer (created once, on the first checkout, and stored).

    One open session per organisation, so that two tabs or a double click cannot pay for
    two subscriptions: while the stored one is open, the same checkout again (plan, return
    URLs) gets it back, and another one ends it at Stripe first — refused (409) when it
    was paid meanwhile. Two requests at once make the same session (one idempotency key).

    ``release`` is the endpoint's ``end_unit``: called before each call to Stripe, so that
    nothing is held while Stripe answers (up to ``stripe_client.CALL_DEADLINE_S``) — not
    the new customer's row lock on PostgreSQL, not the write lock of the whole SQLite
    database, not a pooled connection. The customer is kept even if the session fails."""
    await check_buyer(session, auth)
    org = await orgs.get_org(session, auth.org_id)
    _check_may_subscribe(org)
    org_id, name, customer = org.id, org.name, org.stripe_customer_id
    held = await repository.open_checkout(session, org_id)
    open_now = _Held.of(held) if held else None
    await release()
    if customer is None:
        created = await stripe_client.create_customer(settings, org_id, name)
        customer = await repository.store_customer(session, org_id, created)
        await release()
    params = _checkout_params(settings, org_id, customer, body, default_url)
    fingerprint = hashlib.sha256(json.dumps(params, sort_keys=True).encode()).hexdigest()
    if open_now is not None and open_now.expires_at > utcnow():
        if open_now.fingerprint == fingerprint and open_now.expires_at - utcnow() > TIME_TO_PAY:
            return open_now.url
        await _end_open(settings, open_now.session_id)
    replacing = open_now.session_id if open_now else None
    # The same organisation, open session and parameters: the same key, so requests at
    # once get one session from Stripe; any of them changed, another.
    key = hashlib.sha256(f"{replacing}|{fingerprint}".encode()).hexdigest()[:40]
    made = await stripe_client.create_checkout_session(
        settings, params, f"launchgate-checkout-{org_id}-{key}"
    )
    row = {
        "org_id": org_id,
        "session_id": made.id,
        "fingerprint": fingerprint,
        "url": made.url,
        "expires_at": made.expires_at,
        "created_at": utcnow(),
    }
    if await repository.store_checkout(session, row, replacing) != made.id:
        # Another checkout of the organisation (other parameters) stored its session
        # first: it stays the only one, and this one is ended before anyone sees it.
        await release()
        await stripe_client.end_checkout_session(settings, made.id)
        raise Conflict(
            "Another checkout of the organisation was started at the same moment: "
            "try again to get its page"
        )
    return made.url


@dataclass(frozen=True)
class _Held:
    """The stored open checkout, read before the transaction ends."""

    session_id: str
    fingerprint: str
    url: str
    expires_at: datetime

    @classmethod
    def of(cls, row: StripeCheckout) -> _Held:
        return cls(row.session_id, row.fingerprint, row.url, row.expires_at)


async def _end_open(settings: Settings, session_id: str) -> None:
    """End the organisation's open session before another is made, so that only one can
    be paid; refused when it has just been paid (its webhook is on its way)."""
    if await stripe_client.end_checkout_session(settings, session_id) == "complete":
        raise CheckoutPaid()


def _check_may_subscribe(org: Organisation) -> None:
    if org.plan == "enterprise":
        # The operator's to give, and a self-hosted install's default: paying for Pro or
        # Scale would trade unlimited runs for fewer.
        raise Conflict(
            "The organisation is on the enterprise plan, which the server's operator sets; "
            "a Pro or Scale subscription would lower its limits"
        )
    if org.plan in PAID_PLANS and org.stripe_customer_id:
        raise AlreadySubscribed(org.plan)
    if org.stripe_subscription_id:
        # Paid for and not ended, perhaps still waiting for its first payment (a bank
        # debit) or for the operator to set the plan: a second one would be billed too.
        raise AlreadySubscribed(None)


def _checkout_params(
    settings: Settings,
    org_id: uuid.UUID,
    customer: str,
    body: CheckoutIn,
    default_url: str,
) -> dict[str, Any]:
    price = settings.stripe_price_pro if body.plan == "pro" else settings.stripe_price_scale
    tags = {"launchgate_org_id": str(org_id), "launchgate_plan": body.plan}
    return {
        "mode": "subscription",
        "customer": customer,
        "client_reference_id": str(org_id),
        "line_items": [{"price": price, "quantity": 1}],
        "success_url": body.success_url or default_url,
        "cancel_url": body.cancel_url or default_url,
        "metadata": tags,
        "subscription_data": {"metadata": tags},
    }


async def portal(
    session: Any,
    settings: Settings,
    auth: AuthContext,
    body: PortalIn,
    default_url: str,
    release: Release,
) -> str:
    """Stripe's Customer Portal for the organisation's customer: change plan, cancel,
    update the card, read invoices. An organisation that never checked out has none.
    ``release``: as for ``checkout``."""
    await check_buyer(session, auth)
    customer = await repository.customer_of(session, auth.org_id)
    if customer is None:
        raise Conflict(
            "The organisation has no Stripe customer yet: subscribe first "
            "(POST /v1/billing/checkout)"
        )
    await release()
    return await stripe_client.create_portal_session(
        settings, customer, body.return_url or default_url
    )


async def customer_of(session: Any, org_id: uuid.UUID) -> str | None:
    return await repository.customer_of(session, org_id)


async def stripe_ids(session: Any, org_id: uuid.UUID) -> tuple[str | None, str | None]:
    """The organisation's Stripe customer, and its live subscription, paid for or still
    waiting for its first payment (docs/billing.md#one-subscription-per-organisation):
    None for each it has not. While it has a subscription, ``checkout`` is refused."""
    return await repository.stripe_ids(session, org_id)


# --- the webhook --------------------------------------------------------------------------

# How long a received event is kept (docs/billing.md#how-long-events-are-kept): well past
# Stripe's retries (3 days) and the 30 days of events its dashboard can resend, so a
# repeat within them is a ``duplicate``. The newest decision of each organisation is kept
# longer, for as long as it is the newest: the order check needs it, not the others.
EVENT_RETENTION = timedelta(days=90)


async def prune_events(session: Any, now: datetime) -> int:
    """Forget the events received more than ``EVENT_RETENTION`` ago that no check needs
    (the retention sweep); returns how many."""
    pruned = await repository.prune_events(session, now - EVENT_RETENTION)
    if pruned:
        log.info("stripe events pruned", deleted=pruned)
    return pruned


class _EventData(BaseModel):
    model_config = ConfigDict(extra="ignore")
    object: dict[str, Any]


class _Event(BaseModel):
    """The parts of a Stripe event we read; Stripe adds fields freely."""

    model_config = ConfigDict(extra="ignore")
    id: str = Field(min_length=1, max_length=255, pattern=r"^[A-Za-z0-9_]+$")
    type: str = Field(min_length=1, max_length=100)
    created: int = Field(ge=0, le=2**37)
    data: _EventData


@dataclass(frozen=True)
class Reading:
    """What one event says: whose plan (by our id or Stripe's customer id) and which plan
    (None: nothing, with ``outcome`` saying why); which subscription it is about, and for
    a completed checkout, which checkout session."""

    org_id: uuid.UUID | None
    customer: str | None
    plan: str | None
    outcome: str = "ignored"
    subscription: str | None = None
    session: str | None = None


@dataclass(frozen=True)
class WebhookResult:
    outcome: str
    org_id: uuid.UUID | None = None
    plan_changed: bool = False


def verified_event(settings: Settings, payload: bytes, header: str | None) -> _Event:
    """The event, once its signature checks out on the exact bytes received."""
    assert settings.stripe_webhook_secret is not None
    if not header or len(header) > MAX_SIGNATURE_HEADER:
        raise BadSignature("The Stripe-Signature header is missing")
    try:
        text = payload.decode("utf-8")
    except UnicodeDecodeError:
        raise BadSignature("The body is not UTF-8, so Stripe did not sign it") from None
    secret = settings.stripe_webhook_secret.get_secret_value()
    if not stripe_client.signature_ok(text, header, secret):
        raise BadSignature(
            "The Stripe-Signature header does not match the body and the webhook secret, "
            "or is more than 300 seconds old"
        )
    try:
        return _Event.model_validate(json.loads(text))
    except (ValueError, ValidationError, RecursionError):  # nested deeper than json reads
        raise ValidationFailed("The body is not a Stripe event") from None


def _text(value: Any, limit: int = 255) -> str | None:
    return value if isinstance(value, str) and 0 < len(value) <= limit else None


def _org_id(value: Any) -> uuid.UUID | None:
    text = _text(value, 64)
    try:
        return uuid.UUID(text) if text else None
    except ValueError:
        return None


def _customer(obj: dict[str, Any], field: str = "customer") -> str | None:
    """A customer (or other object's) id, whether Stripe sent it as a string or an
    expanded object."""
    value = obj.get(field)
    return _text(value.get("id") if isinstance(value, dict) else value)


def _metadata(obj: dict[str, Any]) -> dict[str, Any]:
    found = obj.get("metadata")
    return found if isinstance(found, dict) else {}


def _prices(obj: dict[str, Any]) -> list[str]:
    items = obj.get("items")
    rows = items.get("data") if isinstance(items, dict) else None
    prices = []
    for row in rows if isinstance(rows, list) else []:
        price = row.get("price") if isinstance(row, dict) else None
        found = _text(price.get("id") if isinstance(price, dict) else price)
        if found:
            prices.append(found)
    return prices


def read_event(event_type: str, obj: dict[str, Any], prices: dict[str, str]) -> Reading:
    """Pure: what an event of ``event_type`` about ``obj`` says about a plan; ``prices``
    maps our Stripe price ids to plans."""
    if event_type == CHECKOUT_COMPLETED:
        plan = _metadata(obj).get("launchgate_plan")
        paid = obj.get("payment_status") in ("paid", "no_payment_required")
        org, customer = _org_id(obj.get("client_reference_id")), _customer(obj)
        if obj.get("mode") != "subscription" or plan not in PAID_PLANS:
            return Reading(org, customer, None)
        # Paid or not (a bank debit still on its way), the subscription exists: it is the
        # organisation's, and the checkout session is spent.
        return Reading(
            org,
            customer,
            str(plan) if paid else None,
            subscription=_customer(obj, "subscription"),
            session=_text(obj.get("id")),
        )
    if event_type not in SUBSCRIPTION_EVENTS:
        return Reading(None, None, None)
    org, customer = _org_id(_metadata(obj).get("launchgate_org_id")), _customer(obj)
    # Only a subscription to one of our prices speaks for the plan: the operator's Stripe
    # account may sell other things to the same customer, and ending one of those must not
    # end the organisation's Pro or Scale.
    plans = [prices[price] for price in _prices(obj) if price in prices]
    if not plans:
        return Reading(org, customer, None, "unknown_price")
    status, subscription = obj.get("status"), _text(obj.get("id"))
    if event_type == "customer.subscription.deleted" or status in ENDED:
        return Reading(org, customer, "free", subscription=subscription)
    if status not in PAYING:
        return Reading(org, customer, None)
    # Both prices on one subscription: the larger plan is what is paid for.
    plan = "scale" if "scale" in plans else "pro"
    return Reading(org, customer, plan, subscription=subscription)


async def _whose(session: Any, reading: Reading) -> uuid.UUID | None:
    """Stripe's customer id first (stored at checkout), then our id in the metadata."""
    if reading.customer:
        found = await repository.org_id_by_customer(session, reading.customer)
        if found is not None:
            return found
    return reading.org_id


def _theirs(org: Organisation | None, reading: Reading) -> Organisation | None:
    """The organisation, unless the event is about another Stripe customer than the one it
    has: our id in the metadata (which anyone with the operator's Stripe dashboard can
    type) never reaches an organisation through a customer that is not its own."""
    if org is None or not reading.customer or org.stripe_customer_id is None:
        return org
    return org if org.stripe_customer_id == reading.customer else None


def _another(org: Organisation, reading: Reading) -> bool:
    """The event is about a subscription of the organisation's customer other than the
    live one it has."""
    stored = org.stripe_subscription_id
    return bool(reading.subscription and stored and reading.subscription != stored)


def _outcome(org: Organisation, reading: Reading, stale: bool) -> str:
    """What the event does to the organisation's plan: an event older than the newest
    that already decided it is ``stale``, whatever it says; one about a second
    subscription while the organisation has a live one changes nothing — reported as
    ``duplicate_subscription`` when that one is paid for (or bought) too, else
    ``other_subscription`` (the operator cancelling the duplicate)."""
    if reading.plan is None:
        return (
            "duplicate_subscription"
            if reading.session and _another(org, reading)
            else reading.outcome
        )
    if stale:
        return "stale"
    if _another(org, reading):
        return "duplicate_subscription" if reading.plan in PAID_PLANS else "other_subscription"
    return "plan_kept" if org.plan == reading.plan else "plan_changed"


async def _keep_track(
    session: Any, org: Organisation, reading: Reading, outcome: str, stale: bool
) -> None:
    """The organisation's live subscription and open checkout, after the event: a
    completed checkout's session is spent; a completed checkout, or a subscription paid
    for, becomes the live one when it has none; the live one ending clears it."""
    if reading.session:
        await repository.retire_checkout(session, org.id, reading.session, utcnow())
    if (
        stale
        or not reading.subscription
        or outcome in ("duplicate_subscription", "other_subscription")
    ):
        return
    if reading.plan == "free":
        if outcome in repository.DECIDED:
            org.stripe_subscription_id = None
    elif org.stripe_subscription_id is None and (reading.session or outcome in repository.DECIDED):
        org.stripe_subscription_id = reading.subscription


def _report_duplicate(session: Any, org: Organisation, reading: Reading, event: _Event) -> None:
    """Two subscriptions for one organisation: the operator cancels (and refunds) one in
    Stripe; the audit log and the server's log say which."""
    details = {
        "subscription": {"live": org.stripe_subscription_id, "duplicate": reading.subscription},
        "stripe_event_id": event.id,
        "stripe_event_type": event.type,
    }
    log.warning("stripe duplicate subscription", org_id=str(org.id), **details)
    audit.record(session, org.id, None, DUPLICATE_SUBSCRIPTION, "organization", org.id, details)


async def handle_webhook(
    session: Any, settings: Settings, payload: bytes, header: str | None
) -> WebhookResult:
    await stripe_client.library()  # the signature check is the library's: loaded off the loop
    event = verified_event(settings, payload, header)
    if await repository.is_recorded(session, event.id):
        return WebhookResult("duplicate")
    prices = {
        str(settings.stripe_price_pro): "pro",
        str(settings.stripe_price_scale): "scale",
    }
    reading = read_event(event.type, event.data.object, prices)
    created = datetime.fromtimestamp(event.created, UTC)
    # Recorded before anything is read: this insert is the transaction's first write, so on
    # SQLite it takes the database's write lock (reads there lock nothing), and on
    # PostgreSQL a concurrent copy of the same event waits on it. What follows is decided
    # against every event committed before, never beside one being decided at once.
    row = {
        "id": event.id,
        "type": event.type,
        "created": created,
        "received_at": utcnow(),
        "org_id": None,
        "outcome": "received",
        "plan": reading.plan,
    }
    if not await repository.record_event(session, row):
        return WebhookResult("duplicate")
    wanted = reading.plan or reading.session or reading.outcome != "ignored"
    org_id = await _whose(session, reading) if wanted else None
    org = _theirs(await repository.locked_org(session, org_id), reading) if org_id else None
    if org is None:
        outcome = "unknown_organisation" if reading.plan else reading.outcome
        await repository.set_outcome(session, event.id, None, outcome)
        return WebhookResult(outcome)
    newest = await repository.newest_decision(session, org.id)
    stale = newest is not None and created < newest
    outcome = _outcome(org, reading, stale)
    await repository.set_outcome(session, event.id, org.id, outcome)
    if event.type == CHECKOUT_COMPLETED and reading.customer and org.stripe_customer_id is None:
        await repository.store_customer(session, org.id, reading.customer)
    if outcome == "duplicate_subscription":
        _report_duplicate(session, org, reading, event)
    await _keep_track(session, org, reading, outcome, stale)
    if outcome != "plan_changed":
        return WebhookResult(outcome, org.id)
    before, org.plan = org.plan, str(reading.plan)
    audit.record(
        session,
        org.id,
        None,
        PLAN_CHANGED,
        "organization",
        org.id,
        {
            "plan": {"from": before, "to": org.plan},
            "stripe_event_id": event.id,
            "stripe_event_type": event.type,
        },
    )
    await session.flush()
    return WebhookResult(outcome, org.id, plan_changed=True)
