"""Shared by the Stripe billing tests: the configured app against the local stand-in, and
events signed the way Stripe signs them — computed here with hmac, not with the library
under test, so a test can fail when the library is used wrongly."""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
import time
import uuid
from typing import Any

# Recognisable values: the canary test looks for them in everything printable.
SECRET_KEY = "sk_test_CanaryStripeKey" + secrets.token_hex(8)
WEBHOOK_SECRET = "whsec_CanaryWebhookSecret" + secrets.token_hex(8)
PRICE_PRO = "price_pro_test_1"
PRICE_SCALE = "price_scale_test_1"


def stripe_overrides(api_base: str) -> dict[str, Any]:
    return {
        "stripe_secret_key": SECRET_KEY,
        "stripe_webhook_secret": WEBHOOK_SECRET,
        "stripe_price_pro": PRICE_PRO,
        "stripe_price_scale": PRICE_SCALE,
        "stripe_api_base": api_base,
    }


def sign(payload: bytes, secret: str = WEBHOOK_SECRET, at: int | None = None) -> str:
    """``t=<unix time>,v1=<hex HMAC-SHA256 of "<t>.<payload>">``, as Stripe sends it."""
    stamp = int(time.time()) if at is None else at
    digest = hmac.new(secret.encode(), f"{stamp}.".encode() + payload, hashlib.sha256)
    return f"t={stamp},v1={digest.hexdigest()}"


def event(kind: str, obj: dict[str, Any], created: int | None = None) -> dict[str, Any]:
    return {
        "id": "evt_" + uuid.uuid4().hex,
        "object": "event",
        "api_version": "2025-01-27.acacia",
        "created": int(time.time()) if created is None else created,
        "livemode": False,
        "type": kind,
        "data": {"object": obj},
    }


def subscription(
    customer: str,
    price: str,
    status: str = "active",
    org_id: uuid.UUID | None = None,
    ident: str | None = None,
) -> dict[str, Any]:
    """A subscription of ``customer``: the same one (its id derived from the customer's)
    whatever its price or status, as Stripe's events about one subscription carry its id,
    unless ``ident`` names another."""
    return {
        "id": ident or "sub_" + hashlib.sha256(customer.encode()).hexdigest()[:14],
        "object": "subscription",
        "customer": customer,
        "status": status,
        "metadata": {"launchgate_org_id": str(org_id)} if org_id else {},
        "items": {
            "object": "list",
            "data": [{"id": "si_1", "object": "subscription_item", "price": {"id": price}}],
        },
    }


def body_of(value: dict[str, Any]) -> bytes:
    return json.dumps(value).encode()
