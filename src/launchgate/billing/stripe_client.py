"""The boundary with Stripe: the only module that calls Stripe's API, through Stripe's
official library, and turns its failures into our small error tree.

A client is made per call and closed after it: checkout and portal sessions are rare (a
person clicking a button), and a client held for the process would tie its connections to
one event loop for nothing. The library's async methods (over httpx) keep the event loop
free while Stripe answers. Nothing printable here carries the secret key: errors name
Stripe's error type, code and request id, never its message or our request.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from types import ModuleType
from typing import TYPE_CHECKING, Any, TypeVar

import structlog

from launchgate.config import Settings
from launchgate.errors import ServiceUnavailable
from launchgate.kit.deferred import imported

if TYPE_CHECKING:
    import stripe

log = structlog.get_logger(__name__)
T = TypeVar("T")


def _lib() -> ModuleType:
    """The stripe library, imported on the first Stripe call: a server that does not sell
    never loads it (importing it imports httpx, and httpx's command line pygments: ~5 MB
    resident at start for nothing, issue 17)."""
    import stripe

    return stripe


async def library() -> ModuleType:
    """``_lib()``, imported in a thread the first time (about 50 ms of CPU on a quiet
    machine, kit/deferred.py). Every async path calls it before it touches the library."""
    return await imported("stripe")


# One attempt (connect + answer) may take this long; the library retries a failed
# connection or a 409/429/5xx twice, with an idempotency key, so one request is never made
# twice. The whole call, retries and their pauses included, ends by CALL_DEADLINE_S: a
# checkout (two calls) answers within a minute, before a proxy in front gives up on it.
TIMEOUT_S = 10.0
RETRIES = 2
CALL_DEADLINE_S = 25.0
UNREACHABLE = "Stripe could not be reached; nothing was changed, try again in a minute"


class StripeUnavailable(ServiceUnavailable):
    """Stripe could not be reached, or refused the call: nothing was changed (503)."""


@asynccontextmanager
async def client(settings: Settings) -> AsyncIterator[stripe.StripeClient]:
    assert settings.stripe_secret_key is not None, "only called with billing configured"
    # Built in a thread: it loads the CA bundle into an SSL context (~40 ms of CPU), which
    # on the event loop would hold every request in flight that long.
    lib = await library()
    http = await asyncio.to_thread(lib.HTTPXClient, timeout=TIMEOUT_S)
    try:
        yield lib.StripeClient(
            settings.stripe_secret_key.get_secret_value(),
            base_addresses={"api": settings.stripe_api_base},
            http_client=http,
            max_network_retries=RETRIES,
        )
    finally:
        await http.close_async()


async def _call(
    what: str, call: Callable[[], Awaitable[T]], keep: type[Exception] | None = None
) -> T:
    """Run one Stripe call; its failures become ours, described without Stripe's message
    (which may quote what we sent). ``keep``: a Stripe error the caller handles itself."""
    lib = _lib()
    try:
        async with asyncio.timeout(CALL_DEADLINE_S):
            return await call()
    except (lib.APIConnectionError, lib.RateLimitError, TimeoutError) as exc:
        log.warning("stripe unreachable", call=what, error_type=type(exc).__name__)
        raise StripeUnavailable(UNREACHABLE, headers={"Retry-After": "60"}) from None
    except lib.StripeError as exc:
        if keep is not None and isinstance(exc, keep):
            raise
        raise _refused(what, exc) from None


def _refused(what: str, exc: stripe.StripeError) -> StripeUnavailable:
    details = {
        "stripe_error": type(exc).__name__,
        "code": exc.code,
        "request_id": exc.request_id,
    }
    log.warning("stripe refused", call=what, **details, status=exc.http_status)
    if exc.http_status is not None and exc.http_status >= 500:
        return StripeUnavailable(
            "Stripe answered with an error; nothing was changed, try again in a minute",
            details=details,
            headers={"Retry-After": "60"},
        )
    # A 4xx: Stripe does not know a price or customer we named, or refuses the key — the
    # operator's settings need a look (the log line above says which).
    return StripeUnavailable(
        f"Stripe refused to {what}; the server's Stripe settings need a look (docs/billing.md)",
        details=details,
    )


async def create_customer(settings: Settings, org_id: uuid.UUID, name: str) -> str:
    """A customer for the organisation. The idempotency key is the organisation's: two
    checkouts at once (or one retried after our transaction failed) get the same customer
    from Stripe for 24 hours, not two."""
    async with client(settings) as stripe_client:
        customer = await _call(
            "create a customer",
            lambda: stripe_client.v1.customers.create_async(
                {"name": name, "metadata": {"launchgate_org_id": str(org_id)}},
                {"idempotency_key": f"launchgate-customer-{org_id}"},
            ),
        )
    return str(customer.id)


@dataclass(frozen=True)
class CheckoutSession:
    id: str
    url: str
    expires_at: datetime


# Stripe's default lifetime of a Checkout session, when its answer names none.
SESSION_LIFETIME = timedelta(hours=24)


async def create_checkout_session(
    settings: Settings, params: dict[str, Any], idempotency_key: str
) -> CheckoutSession:
    """A Checkout session. Requests with the same ``idempotency_key`` (two clicks at once:
    the same organisation, state and parameters) get the same session from Stripe."""
    async with client(settings) as stripe_client:
        session = await _call(
            "create a checkout session",
            lambda: stripe_client.v1.checkout.sessions.create_async(
                params,  # type: ignore[arg-type]
                {"idempotency_key": idempotency_key},
            ),
        )
    ident, expires = getattr(session, "id", None), getattr(session, "expires_at", None)
    if not isinstance(ident, str) or not ident:
        raise StripeUnavailable("Stripe's answer held no session id; nothing was changed")
    ends = (
        datetime.fromtimestamp(expires, UTC)
        if isinstance(expires, int) and 0 < expires < 2**37
        else datetime.now(UTC) + SESSION_LIFETIME
    )
    return CheckoutSession(ident, _url(session), ends)


async def end_checkout_session(settings: Settings, session_id: str) -> str:
    """Expire an open Checkout session, so that it can no longer be paid; returns its
    status afterwards: ``expired`` (now, before, or unknown to Stripe), or ``complete``
    when the buyer paid (or is paying) before it could be ended."""
    lib = await library()
    async with client(settings) as stripe_client:
        sessions = stripe_client.v1.checkout.sessions
        try:
            ended = await _call(
                "expire a checkout session",
                lambda: sessions.expire_async(session_id),
                keep=lib.InvalidRequestError,
            )
        except lib.InvalidRequestError:
            # Stripe expires only an open session: read what it is instead.
            try:
                ended = await _call(
                    "read a checkout session",
                    lambda: sessions.retrieve_async(session_id),
                    keep=lib.InvalidRequestError,
                )
            except lib.InvalidRequestError as exc:
                if exc.http_status != 404:
                    raise _refused("read a checkout session", exc) from None
                return "expired"  # not in this Stripe account (another key since): gone
    status = getattr(ended, "status", None)
    if status not in ("expired", "complete"):
        raise StripeUnavailable(
            "Stripe did not end the open checkout session; nothing was changed, try again "
            "in a minute",
            headers={"Retry-After": "60"},
        )
    return str(status)


async def create_portal_session(settings: Settings, customer: str, return_url: str) -> str:
    async with client(settings) as stripe_client:
        session = await _call(
            "create a billing portal session",
            lambda: stripe_client.v1.billing_portal.sessions.create_async(
                {"customer": customer, "return_url": return_url}
            ),
        )
    return _url(session)


def _url(session: Any) -> str:
    url = getattr(session, "url", None)
    if not isinstance(url, str) or not url.startswith(("https://", "http://")):
        raise StripeUnavailable("Stripe's answer held no session URL; nothing was changed")
    return url


def signature_ok(payload: str, header: str, secret: str) -> bool:
    """True when Stripe signed ``payload`` with ``secret`` within the library's tolerance
    (300 s); the comparison is the library's, in constant time."""
    lib = _lib()
    try:
        lib.WebhookSignature.verify_header(
            payload, header, secret, tolerance=lib.Webhook.DEFAULT_TOLERANCE
        )
    except lib.SignatureVerificationError:
        return False
    return True
