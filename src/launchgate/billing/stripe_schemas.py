"""Wire models of the Stripe billing endpoints (docs/billing.md)."""

from __future__ import annotations

from typing import Annotated, Literal
from urllib.parse import urlsplit

from pydantic import AfterValidator, Field

from launchgate.kit.schema import StrictModel, WireModel

MAX_URL_LENGTH = 2000
PAID_PLANS = ("pro", "scale")


def check_url(value: str) -> str:
    """An absolute http(s) URL, for Stripe to send the browser back to. We never fetch it;
    Stripe refuses anything else, and we would rather say so ourselves, naming the field,
    than pass Stripe's refusal on as a 503."""
    if len(value) > MAX_URL_LENGTH:
        raise ValueError(f"must be at most {MAX_URL_LENGTH} characters")
    if any(char.isspace() or ord(char) < 32 or ord(char) == 127 for char in value):
        raise ValueError("must not contain spaces or control characters")
    try:
        parts = urlsplit(value)
        if parts.port is not None and parts.port < 1:
            raise ValueError("port 0")
    except ValueError:  # urlsplit and .port refuse a malformed host or port this way
        raise ValueError("is not a URL") from None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError("must be an absolute http:// or https:// URL")
    if parts.username is not None or parts.password is not None:
        raise ValueError("must not carry a user name or password")
    return value


ReturnUrl = Annotated[
    str,
    Field(max_length=MAX_URL_LENGTH, description="An absolute http(s) URL; never fetched"),
    AfterValidator(check_url),
]


class CheckoutIn(StrictModel):
    plan: Literal["pro", "scale"]
    success_url: ReturnUrl | None = Field(
        default=None,
        description="Where Stripe sends the browser after payment; default: the dashboard's "
        "Usage page on this server",
    )
    cancel_url: ReturnUrl | None = Field(
        default=None, description="Where Stripe sends the browser when the buyer goes back"
    )


class CheckoutOut(WireModel):
    checkout_url: str = Field(description="Stripe Checkout's page; send the browser there")


class PortalIn(StrictModel):
    return_url: ReturnUrl | None = Field(
        default=None, description="Where the portal's back link leads; default: the Usage page"
    )


class PortalOut(WireModel):
    portal_url: str = Field(description="Stripe's Customer Portal for the organisation")


class WebhookOut(WireModel):
    received: bool
    outcome: str = Field(
        description="plan_changed, plan_kept, duplicate, stale, ignored, "
        "unknown_organisation, unknown_price, duplicate_subscription or other_subscription "
        "(docs/billing.md)"
    )
