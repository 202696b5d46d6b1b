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

import json
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

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
from launchgate.models import Organisation
from launchgate.orgs import service as orgs
from launchgate.orgs.service import OwnersOnly
from launchgate.users import service as users

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

    ``release`` is the endpoint's ``end_unit``: called before each call to Stripe, so that
    nothing is held while Stripe answers (up to ``stripe_client.CALL_DEADLINE_S``) — not
    the new customer's row lock on PostgreSQL, not the write lock of the whole SQLite
    database, not a pooled connection. The customer is kept even if the session fails."""
    await check_buyer(session, auth)
    org = await orgs.get_org(session, auth.org_id)
    if org.plan == "enterprise":
        # The operator's to give, and a self-hosted install's default: paying for Pro or
        # Scale would trade unlimited runs for fewer.
        raise Conflict(
            "The organisation is on the enterprise plan, which the server's operator sets; "
            "a Pro or Scale subscription would lower its limits"
        )
    if org.plan in PAID_PLANS and org.stripe_customer_id:
        raise Conflict(
            f"The organisation is already on the {org.plan} plan: change or cancel it in "
            "the billing portal (POST /v1/billing/portal)"
        )
    org_id, name, customer = org.id, org.name, org.stripe_customer_id
    await release()
    if customer is None:
        created = await stripe_client.create_customer(settings, org_id, name)
        customer = await repository.store_customer(session, org_id, created)
        await release()
    price = settings.stripe_price_pro if body.plan == "pro" else settings.stripe_price_scale
    tags = {"launchgate_org_id": str(org_id), "launchgate_plan": body.plan}
    return await stripe_client.create_checkout_session(
        settings,
        {
            "mode": "subscription",
            "customer": customer,
            "client_reference_id": str(org_id),
            "line_items": [{"price": price, "quantity": 1}],
            "success_url": body.success_url or default_url,
            "cancel_url": body.cancel_url or default_url,
            "metadata": tags,
            "subscription_data": {"metadata": tags},
        },
    )


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


# --- the webhook --------------------------------------------------------------------------


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
    (None: nothing, with ``outcome`` saying why)."""

    org_id: uuid.UUID | None
    customer: str | None
    plan: str | None
    outcome: str = "ignored"


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


def _customer(obj: dict[str, Any]) -> str | None:
    """A customer id, whether Stripe sent it as a string or an expanded object."""
    value = obj.get("customer")
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
        org = _org_id(obj.get("client_reference_id"))
        if obj.get("mode") != "subscription" or not paid or plan not in PAID_PLANS:
            return Reading(org, _customer(obj), None)
        return Reading(org, _customer(obj), str(plan))
    if event_type not in SUBSCRIPTION_EVENTS:
        return Reading(None, None, None)
    org = _org_id(_metadata(obj).get("launchgate_org_id"))
    # Only a subscription to one of our prices speaks for the plan: the operator's Stripe
    # account may sell other things to the same customer, and ending one of those must not
    # end the organisation's Pro or Scale.
    plans = [prices[price] for price in _prices(obj) if price in prices]
    if not plans:
        return Reading(org, _customer(obj), None, "unknown_price")
    status = obj.get("status")
    if event_type == "customer.subscription.deleted" or status in ENDED:
        return Reading(org, _customer(obj), "free")
    if status not in PAYING:
        return Reading(org, _customer(obj), None)
    # Both prices on one subscription: the larger plan is what is paid for.
    return Reading(org, _customer(obj), "scale" if "scale" in plans else "pro")


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


async def _outcome(session: Any, org: Organisation, reading: Reading, created: datetime) -> str:
    """What the event does to the organisation's plan: an event older than the newest
    that already decided it is ``stale``, whatever it says."""
    if reading.plan is None:
        return reading.outcome
    newest = await repository.newest_decision(session, org.id)
    if newest is not None and created < newest:
        return "stale"
    return "plan_kept" if org.plan == reading.plan else "plan_changed"


async def handle_webhook(
    session: Any, settings: Settings, payload: bytes, header: str | None
) -> WebhookResult:
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
    org_id = (
        await _whose(session, reading) if reading.plan or reading.outcome != "ignored" else None
    )
    org = _theirs(await repository.locked_org(session, org_id), reading) if org_id else None
    if org is None:
        outcome = "unknown_organisation" if reading.plan else reading.outcome
        await repository.set_outcome(session, event.id, None, outcome)
        return WebhookResult(outcome)
    outcome = await _outcome(session, org, reading, created)
    await repository.set_outcome(session, event.id, org.id, outcome)
    if event.type == CHECKOUT_COMPLETED and reading.customer and org.stripe_customer_id is None:
        await repository.store_customer(session, org.id, reading.customer)
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
