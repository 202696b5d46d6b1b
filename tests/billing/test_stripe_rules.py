"""The pure rules of Stripe billing under generated input (hypothesis): the URL check,
what an event says about a plan, and the signature check on the raw bytes."""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from launchgate.billing.stripe_schemas import MAX_URL_LENGTH, check_url
from launchgate.billing.stripe_service import (
    BadSignature,
    _prices,
    read_event,
    verified_event,
)
from launchgate.config import Settings
from launchgate.errors import ValidationFailed
from tests.billing.stripe_helpers import (
    PRICE_PRO,
    PRICE_SCALE,
    WEBHOOK_SECRET,
    event,
    sign,
    stripe_overrides,
    subscription,
)

PRICES = {PRICE_PRO: "pro", PRICE_SCALE: "scale"}
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner, max_size=4)
    ),
    max_leaves=20,
)


@pytest.fixture(scope="module")
def configured(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    return Settings(data_dir=tmp_path_factory.mktemp("d"), **stripe_overrides("http://127.0.0.1:9"))


@given(st.text(max_size=300))
def test_check_url_takes_only_absolute_http_urls(value: str) -> None:
    try:
        accepted = check_url(value)
    except ValueError:
        return
    assert accepted == value and value.startswith(("http://", "https://"))
    assert len(value) <= MAX_URL_LENGTH and not any(c.isspace() for c in value)


@given(
    scheme=st.sampled_from(["http", "https"]),
    host=st.from_regex(r"[a-z][a-z0-9-]{0,20}(\.[a-z]{2,6}){0,2}", fullmatch=True),
    path=st.from_regex(r"(/[A-Za-z0-9_.~{}-]{0,12}){0,4}", fullmatch=True),
)
def test_check_url_keeps_ordinary_urls(scheme: str, host: str, path: str) -> None:
    url = f"{scheme}://{host}{path}"
    assert check_url(url) == url


@given(
    kind=st.text(max_size=40)
    | st.sampled_from(
        [
            "checkout.session.completed",
            "customer.subscription.updated",
            "customer.subscription.deleted",
        ]
    ),
    obj=st.dictionaries(
        st.sampled_from(
            [
                "customer",
                "status",
                "items",
                "metadata",
                "mode",
                "payment_status",
                "client_reference_id",
            ]
        ),
        json_values,
        max_size=7,
    ),
)
def test_read_event_never_fails_and_only_names_plans(kind: str, obj: dict[str, Any]) -> None:
    reading = read_event(kind, obj, PRICES)
    assert reading.plan in (None, "free", "pro", "scale")
    assert reading.outcome in ("ignored", "unknown_price")
    if kind.startswith("customer.subscription.") and not set(_prices(obj)) & set(PRICES):
        assert reading.plan is None, "a subscription to none of our prices names no plan"


@given(
    kind=st.sampled_from(["customer.subscription.updated", "customer.subscription.deleted"]),
    status=st.sampled_from(["active", "trialing", "canceled", "unpaid", "paused", "past_due"]),
    price=st.text(max_size=30).filter(lambda p: p not in PRICES),
)
def test_a_subscription_to_another_price_never_moves_the_plan(
    kind: str, status: str, price: str
) -> None:
    """The operator's Stripe account may sell the same customer something else: its
    subscription ending (deleted, canceled, unpaid) leaves the plan alone."""
    reading = read_event(kind, subscription("cus_1", price, status), PRICES)
    assert (reading.plan, reading.outcome) == (None, "unknown_price")


@pytest.mark.parametrize(
    ("status", "price", "plan"),
    [
        ("active", PRICE_PRO, "pro"),
        ("trialing", PRICE_SCALE, "scale"),
        ("past_due", PRICE_PRO, None),
        ("incomplete", PRICE_PRO, None),
        ("canceled", PRICE_PRO, "free"),
        ("unpaid", PRICE_SCALE, "free"),
        ("incomplete_expired", PRICE_PRO, "free"),
        ("paused", PRICE_PRO, "free"),
    ],
)
def test_subscription_status_to_plan(status: str, price: str, plan: str | None) -> None:
    obj = subscription("cus_1", price, status)
    assert read_event("customer.subscription.updated", obj, PRICES).plan == plan
    assert read_event("customer.subscription.deleted", obj, PRICES).plan == "free"


def _hmac(payload: bytes, stamp: int, secret: str = WEBHOOK_SECRET) -> str:
    return hmac.new(secret.encode(), f"{stamp}.".encode() + payload, hashlib.sha256).hexdigest()


@settings(max_examples=200)
@given(header=st.text(max_size=200) | st.binary(max_size=100).map(lambda b: b.hex()))
def test_any_forged_header_is_refused(configured: Settings, header: str) -> None:
    payload = json.dumps(event("customer.subscription.updated", {"id": "sub_1"})).encode()
    with pytest.raises(BadSignature):
        verified_event(configured, payload, header)


@given(flip=st.integers(min_value=0, max_value=10_000))
def test_a_changed_byte_breaks_the_signature(configured: Settings, flip: int) -> None:
    payload = json.dumps(event("customer.subscription.updated", {"id": "sub_1"})).encode()
    header = sign(payload)
    index = flip % len(payload)
    changed = payload[:index] + bytes([payload[index] ^ 1]) + payload[index + 1 :]
    with pytest.raises(BadSignature):
        verified_event(configured, changed, header)


def test_the_signature_is_checked_against_stripes_scheme(configured: Settings) -> None:
    value = event("customer.subscription.updated", {"id": "sub_1"})
    payload = json.dumps(value).encode()
    now = int(time.time())
    header = f"t={now},v1={'0' * 64},v1={_hmac(payload, now)}"  # any v1 may match (rotation)
    assert verified_event(configured, payload, header).id == value["id"]
    stale = now - 301  # older than the library's 300 s tolerance
    with pytest.raises(BadSignature):
        verified_event(configured, payload, f"t={stale},v1={_hmac(payload, stale)}")
    with pytest.raises(BadSignature):  # v0 is not the scheme Stripe signs with
        verified_event(configured, payload, f"t={now},v0={_hmac(payload, now)}")


@pytest.mark.parametrize(
    "payload",
    [
        b"[]",
        b"not json",
        b'{"id": "evt_1"}',
        b'{"id": "evt 1", "type": "x", "created": 1, "data": {"object": {}}}',
        b"[" * 5000 + b"]" * 5000,  # deeper than the decoder's recursion limit
        b'{"id": "evt_1", "type": "x", "created": 1, "data": {"object": {"a": '
        + b"[" * 5000
        + b"]" * 5000
        + b"}}}",
    ],
)
def test_signed_garbage_is_refused_as_no_event(configured: Settings, payload: bytes) -> None:
    with pytest.raises(ValidationFailed) as info:
        verified_event(configured, payload, sign(payload))
    assert not isinstance(info.value, BadSignature)
