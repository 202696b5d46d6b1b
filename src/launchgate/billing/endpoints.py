from __future__ import annotations

from dataclasses import asdict
from typing import Any

from fastapi import APIRouter, Request
from fastapi.routing import APIRoute
from pydantic import BaseModel, Field
from starlette.routing import Match
from starlette.types import Scope

from launchgate.billing import service, stripe_service
from launchgate.billing.stripe_schemas import (
    CheckoutIn,
    CheckoutOut,
    PortalIn,
    PortalOut,
    WebhookOut,
)
from launchgate.deps import CurrentAuth, RuntimeDep, SessionDep, end_unit

router = APIRouter(prefix="/billing", tags=["billing"])


class ModelSpend(BaseModel):
    provider: str
    model: str
    calls: int
    input_tokens: int
    output_tokens: int
    cost_usd: float | None = Field(description="null when the model has no price")


class DaySpend(BaseModel):
    date: str = Field(description="YYYY-MM-DD (UTC)")
    cost_usd: float = Field(description="The priced calls' cost; unpriced ones count 0")
    calls: int


class JudgeSpendOut(BaseModel):
    """This calendar month's (UTC) judge spend, and the budget (docs/cost.md)."""

    month_usd: float
    budget_usd: float | None = Field(description="judge_budget_usd_monthly; null: no budget")
    budget_used: float | None = Field(description="month_usd / budget_usd, e.g. 0.83")
    warning: str | None = Field(description="Set from 80% of the budget on")
    by_model: list[ModelSpend]
    by_day: list[DaySpend]


class UsageOut(BaseModel):
    """Not wrapped in ``data``: clients depend on this shape (SPEC §2)."""

    plan: str
    plan_name: str
    monthly_limit: int | None
    current_usage: int
    retention_days: int | None
    usage_percentage: float
    judge_spend: JudgeSpendOut


@router.get("/usage", response_model=UsageOut)
async def get_usage(auth: CurrentAuth, session: SessionDep, runtime: RuntimeDep) -> UsageOut:
    found = await service.usage(session, auth.org_id, runtime.settings.enterprise_retention_days)
    return UsageOut.model_validate(asdict(found))


# --- paid plans through Stripe (docs/billing.md) ------------------------------------------


class StripeRoute(APIRoute):
    """A route that exists only while Stripe billing is configured: otherwise it matches
    nothing, so the request is answered exactly as an unknown path is (404, before any
    credential is checked, whatever the method), and self-hosters see no billing at all."""

    def matches(self, scope: Scope) -> tuple[Match, Scope]:
        match, child = super().matches(scope)
        if match is not Match.NONE and not _stripe_enabled(scope):
            return Match.NONE, {}
        return match, child


def _stripe_enabled(scope: Scope) -> bool:
    runtime = getattr(getattr(scope.get("app"), "state", None), "runtime", None)
    return bool(runtime is not None and runtime.settings.stripe_enabled)


def _usage_page(request: Request) -> str:
    """Where Stripe sends the browser back when the caller names no URL: the dashboard's
    Usage page on this server, as the request reached it (behind a proxy, as the proxy
    forwarded it: run uvicorn with --proxy-headers)."""
    return str(request.base_url).rstrip("/") + "/settings/usage"


BUYER_ERRORS: dict[int | str, dict[str, Any]] = {
    403: {"description": "FORBIDDEN: a signed-in member (not an owner), or a test key"},
    409: {"description": "CONFLICT: already subscribed (checkout) or never subscribed (portal)"},
    503: {"description": "SERVICE_UNAVAILABLE: Stripe could not be reached or refused"},
}
OFF = "Answers 404 unless the server's operator configured Stripe (docs/billing.md)."

# Left out of the OpenAPI schema (docs/billing.md documents them): one schema serves every
# configuration, and the auth middleware takes a documented parameter-free path as routed
# without matching it, which would answer 401, not 404, while billing is off.
stripe_routes = APIRouter(route_class=StripeRoute, include_in_schema=False)


@stripe_routes.post(
    "/checkout", response_model=CheckoutOut, responses=BUYER_ERRORS, description=OFF
)
async def checkout(
    body: CheckoutIn,
    request: Request,
    auth: CurrentAuth,
    session: SessionDep,
    runtime: RuntimeDep,
) -> CheckoutOut:
    """A Stripe Checkout page to subscribe the organisation to Pro or Scale."""
    url = await stripe_service.checkout(
        session, runtime.settings, auth, body, _usage_page(request), lambda: end_unit(session)
    )
    return CheckoutOut(checkout_url=url)


@stripe_routes.post("/portal", response_model=PortalOut, responses=BUYER_ERRORS, description=OFF)
async def portal(
    body: PortalIn,
    request: Request,
    auth: CurrentAuth,
    session: SessionDep,
    runtime: RuntimeDep,
) -> PortalOut:
    """Stripe's Customer Portal: change or cancel the plan, update the card, invoices."""
    url = await stripe_service.portal(
        session, runtime.settings, auth, body, _usage_page(request), lambda: end_unit(session)
    )
    return PortalOut(portal_url=url)


@stripe_routes.post(
    "/webhook",
    response_model=WebhookOut,
    description=OFF + " Needs no API key: the Stripe-Signature header is checked instead; "
    "unsigned, badly signed or older than 300 s is 400 and changes nothing.",
)
async def webhook(request: Request, session: SessionDep, runtime: RuntimeDep) -> WebhookOut:
    """Stripe's events: the raw body is verified before it is parsed."""
    payload = await request.body()
    result = await stripe_service.handle_webhook(
        session, runtime.settings, payload, request.headers.get("stripe-signature")
    )
    if result.plan_changed and result.org_id is not None:
        # Committed first, then forgotten: a run that reads the plan after this reads
        # the new one (the embedded mode keeps organisations' plans in memory).
        await end_unit(session)
        if runtime.facts_cache is not None:
            runtime.facts_cache.invalidate({result.org_id})
    return WebhookOut(received=True, outcome=result.outcome)


router.include_router(stripe_routes)
