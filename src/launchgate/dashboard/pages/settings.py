"""Settings: API keys, BYOK keys (the guide's "Settings → BYOK Keys → Add Key"), usage
(the plan's runs and the judge's spend), the organisation (its monthly judge budget, which
only owners change) and the audit log.

Secrets cross this module once, inbound: a BYOK key goes from the form straight to
``byok.service.create_key`` (which seals it) and is never put back into a page, not even
into the form shown again after an error. A new API key is shown once, in the answer to
the form that created it, and never again.
"""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING, Any

from fastapi import APIRouter, Request, Response
from fastapi.responses import RedirectResponse

from launchgate.api_keys import service as api_keys
from launchgate.api_keys.schemas import ApiKeyCreate
from launchgate.audit import service as audit
from launchgate.billing import service as billing
from launchgate.billing import stripe_service
from launchgate.billing.plans import PLANS
from launchgate.billing.stripe_schemas import PAID_PLANS, CheckoutIn, PortalIn
from launchgate.byok import service as byok
from launchgate.byok.configs import AZURE_API_VERSION
from launchgate.byok.schemas import ByokKeyCreate, ByokKeyUpdate
from launchgate.dashboard import forms, spend
from launchgate.dashboard.forms import REFUSALS, FormErrors
from launchgate.dashboard.scorer_form import PROVIDERS
from launchgate.dashboard.web import (
    SECURITY_HEADERS,
    Caller,
    CallerDep,
    PageRoute,
    client_ip,
    error_page,
    redirect,
    render,
)
from launchgate.db import rollback
from launchgate.deps import RuntimeDep, SessionDep, end_unit
from launchgate.errors import Conflict, NotFound
from launchgate.kit.time import utcnow
from launchgate.orgs import service as orgs
from launchgate.orgs.schemas import OrganizationUpdate
from launchgate.orgs.service import OwnersOnly
from launchgate.runtime import ApiRuntime
from launchgate.users import service as users

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession

router = APIRouter(route_class=PageRoute)
MAX_KEYS = 100
AUDIT_PER_PAGE = 50
SECRET_FIELDS = ("key",)


def _uuid(value: str, what: str) -> uuid.UUID:
    try:
        return uuid.UUID(value)
    except ValueError:
        raise NotFound.of(what, value) from None


@router.get("/settings")
async def settings_home() -> Response:
    return RedirectResponse("/settings/api-keys", status_code=303)


# --- API keys -----------------------------------------------------------------------------


async def _api_keys_page(
    request: Request, caller: Caller, session: AsyncSession, status: int = 200, **extra: Any
) -> Response:
    keys, _ = await api_keys.list_keys(session, caller.auth, 0, MAX_KEYS)
    return render(
        request, "settings_api_keys.html", {"caller": caller, "keys": keys, **extra}, status=status
    )


@router.get("/settings/api-keys")
async def list_api_keys(request: Request, caller: CallerDep, session: SessionDep) -> Response:
    return await _api_keys_page(request, caller, session)


@router.post("/settings/api-keys")
async def create_api_key(
    request: Request, caller: CallerDep, session: SessionDep, runtime: RuntimeDep
) -> Response:
    """Creating a key is an auth endpoint of SPEC §8, here as in the API."""
    form = await request.form()
    wait = await _auth_limit(runtime, request)
    if wait is not None:
        return await _api_keys_page(
            request,
            caller,
            session,
            status=429,
            form=forms.values(form),
            errors=FormErrors(f"Too many requests; retry after {wait} s"),
        )
    try:
        expires = forms.optional_text(form, "expires_at")
        body = ApiKeyCreate.model_validate(
            {
                "name": forms.text(form, "name"),
                "mode": forms.text(form, "mode") or "live",
                **(
                    {"expires_at": f"{expires}T23:59:59Z" if len(expires) == 10 else expires}
                    if expires
                    else {}
                ),
            }
        )
        created = await api_keys.create_key(
            session,
            caller.auth.org_id,
            name=body.name,
            mode=body.mode,
            expires_at=body.expires_at,
            auth=caller.auth,
        )
    except REFUSALS as exc:
        await rollback(session)
        return await _api_keys_page(
            request, caller, session, status=400, errors=FormErrors.of(exc), form=forms.values(form)
        )
    return await _api_keys_page(request, caller, session, created=created)


async def _auth_limit(runtime: ApiRuntime, request: Request) -> int | None:
    limits = runtime.limits
    if limits is None:
        return None
    return await limits.hit(limits.auth, "auth:" + client_ip(request))


@router.post("/settings/api-keys/{key_id}/revoke")
async def revoke_api_key(
    key_id: str, request: Request, caller: CallerDep, session: SessionDep, runtime: RuntimeDep
) -> Response:
    await api_keys.revoke_key(session, caller.auth, _uuid(key_id, "API key"), runtime.key_cache)
    return redirect(request, "/settings/api-keys?notice=api-key-revoked")


# --- BYOK keys ----------------------------------------------------------------------------


async def _byok_keys(session: AsyncSession, caller: Caller) -> list[Any]:
    keys, _ = await byok.list_keys(session, caller.auth, None, 0, MAX_KEYS)
    return keys


@router.get("/settings/byok-keys")
async def list_byok_keys(request: Request, caller: CallerDep, session: SessionDep) -> Response:
    return render(
        request,
        "settings_byok.html",
        {"caller": caller, "keys": await _byok_keys(session, caller), "providers": PROVIDERS},
    )


@router.get("/settings/byok-keys/new")
async def new_byok_key(request: Request, caller: CallerDep) -> Response:
    return render(
        request,
        "settings_byok_new.html",
        {
            "caller": caller,
            "providers": PROVIDERS,
            "form": {"provider": "openai", "config.api_version": AZURE_API_VERSION},
        },
    )


def _byok_create(form: Any) -> ByokKeyCreate:
    provider = forms.text(form, "provider")
    body: dict[str, Any] = {
        "provider": provider,
        "name": forms.text(form, "name"),
        "key": forms.text(form, "key"),
        "is_default": forms.checkbox(form, "is_default"),
    }
    if provider == "azure_openai":
        body["config"] = {
            name: value
            for name in ("endpoint", "api_version")
            if (value := forms.optional_text(form, f"config.{name}"))
        }
    return ByokKeyCreate.model_validate(body)


@router.post("/settings/byok-keys")
async def add_byok_key(
    request: Request, caller: CallerDep, session: SessionDep, runtime: RuntimeDep
) -> Response:
    form = await request.form()
    try:
        await byok.create_key(session, runtime, caller.auth, _byok_create(form))
    except REFUSALS as exc:
        await rollback(session)
        return render(
            request,
            "settings_byok_new.html",
            {
                "caller": caller,
                "providers": PROVIDERS,
                "errors": FormErrors.of(exc),
                "form": forms.values(form, without=SECRET_FIELDS),
            },
            status=400,
        )
    return redirect(request, "/settings/byok-keys?notice=byok-key-added")


@router.post("/settings/byok-keys/{key_id}/test")
async def test_byok_key(
    key_id: str, request: Request, caller: CallerDep, session: SessionDep, runtime: RuntimeDep
) -> Response:
    """The worker tests the key and records the outcome in its own transaction, so the
    list shown with the answer is read afresh, after that commit."""
    parsed = _uuid(key_id, "BYOK key")
    result = await byok.test_key(session, runtime, caller.auth, parsed)
    async with runtime.sessions() as fresh:
        keys = await _byok_keys(fresh, caller)
    return render(
        request,
        "fragments/byok_list.html",
        {"keys": keys, "providers": PROVIDERS, "tested": parsed, "result": result},
    )


@router.post("/settings/byok-keys/{key_id}/default")
async def make_default(
    key_id: str, request: Request, caller: CallerDep, session: SessionDep, runtime: RuntimeDep
) -> Response:
    await byok.update_key(
        session, runtime, caller.auth, _uuid(key_id, "BYOK key"), ByokKeyUpdate(is_default=True)
    )
    return redirect(request, "/settings/byok-keys?notice=byok-default-set")


@router.post("/settings/byok-keys/{key_id}/revoke")
async def revoke_byok_key(
    key_id: str, request: Request, caller: CallerDep, session: SessionDep
) -> Response:
    await byok.revoke_key(session, caller.auth, _uuid(key_id, "BYOK key"))
    return redirect(request, "/settings/byok-keys?notice=byok-key-revoked")


# --- the organisation's own settings ------------------------------------------------------

BUDGET_FIELD = "judge_budget_usd_monthly"


async def _organization_page(
    request: Request, caller: Caller, session: AsyncSession, status: int = 200, **extra: Any
) -> Response:
    org = await orgs.organization(session, caller.auth)
    budget = org.get(BUDGET_FIELD)
    form = {BUDGET_FIELD: "" if budget is None else f"{budget:g}"}
    return render(
        request,
        "settings_organization.html",
        {"caller": caller, "org": org, "form": form, **extra},
        status=status,
    )


@router.get("/settings/organization")
async def organization(request: Request, caller: CallerDep, session: SessionDep) -> Response:
    return await _organization_page(request, caller, session)


@router.post("/settings/organization")
async def update_organization(request: Request, caller: CallerDep, session: SessionDep) -> Response:
    """``PATCH /v1/organization`` from the form: the same schema, then the same service,
    which refuses a member (only owners change the organisation's settings) — a forged
    form included, since the page shows members no form to send."""
    form = await request.form()
    cleared = form.get("action") == "clear"
    try:
        body = OrganizationUpdate.model_validate(
            {BUDGET_FIELD: None if cleared else forms.number(form, BUDGET_FIELD)}
        )
        await orgs.update_settings(session, caller.auth, body.model_dump())
    except OwnersOnly as exc:
        await rollback(session)
        return error_page(request, exc.status_code, "Cannot do that", exc.message)
    except REFUSALS as exc:
        await rollback(session)
        return await _organization_page(
            request,
            caller,
            session,
            status=400,
            errors=FormErrors.of(exc),
            form=forms.values(form),
        )
    return redirect(
        request,
        "/settings/organization?notice=" + ("budget-removed" if cleared else "budget-saved"),
    )


# --- usage and audit log ------------------------------------------------------------------


@router.get("/settings/usage")
async def usage(
    request: Request, caller: CallerDep, session: SessionDep, runtime: RuntimeDep
) -> Response:
    return await _usage_page(request, caller, session, runtime)


async def _usage_page(
    request: Request,
    caller: Caller,
    session: AsyncSession,
    runtime: ApiRuntime,
    status: int = 200,
    refused: str | None = None,
) -> Response:
    """The plan's runs, then the judge's spend this month (issue 16): the same figures as
    ``GET /v1/billing/usage``, its ``by_day`` drawn as a chart of every day of the month.
    ``refused``: why the checkout just sent was refused."""
    found = await billing.usage(
        session, caller.auth.org_id, runtime.settings.enterprise_retention_days
    )
    judge = found.judge_spend
    days = spend.days_of(judge.by_day, utcnow().date()) if judge is not None else []
    # The Upgrade / Manage billing buttons (docs/billing.md): owners, billing configured.
    # No Upgrade while the organisation has a Stripe subscription (the checkout would be
    # refused): one not paid for yet is on its way, and the webhook sets its plan.
    billing_on = runtime.settings.stripe_enabled and caller.is_owner
    customer, subscription = (
        await stripe_service.stripe_ids(session, caller.auth.org_id) if billing_on else (None, None)
    )
    return render(
        request,
        "settings_usage.html",
        {
            "caller": caller,
            "usage": found,
            "judge": judge,
            "spend_days": days,
            "billing_on": billing_on,
            "can_upgrade": billing_on
            and found.plan != "enterprise"
            and not (found.plan in PAID_PLANS and customer)
            and subscription is None,
            "can_manage": billing_on and customer is not None,
            "pending": subscription is not None and found.plan not in PAID_PLANS,
            "refused": refused,
        },
        status=status,
        headers=_STRIPE_FORMS if billing_on else None,
    )


# The page's Content-Security-Policy also governs where a form's answer may redirect the
# browser (``form-action``): the billing buttons' answers send it to Stripe's own hosted
# pages, so this page, and only while it shows them, lets a form lead there.
STRIPE_PAGES = ("https://checkout.stripe.com", "https://billing.stripe.com")
_CSP = "Content-Security-Policy"
_STRIPE_FORMS = {
    _CSP: SECURITY_HEADERS[_CSP].replace(
        "form-action 'self'", "form-action 'self' " + " ".join(STRIPE_PAGES)
    )
}


def _billing_page(request: Request, runtime: ApiRuntime) -> str:
    """Where Stripe sends the browser back: this Usage page, as the browser reached it."""
    if not runtime.settings.stripe_enabled:
        raise NotFound.of("Page", request.url.path)  # as an unknown page: billing is off
    return str(request.base_url).rstrip("/") + "/settings/usage"


def _refusal(exc: Conflict) -> str:
    """Why a checkout was refused, in this page's words: where the API's message names the
    portal's route, the page names its own Manage billing button (offered once the
    organisation has a Stripe customer, as it has after any checkout)."""
    if isinstance(exc, stripe_service.AlreadySubscribed):
        has = (
            f"is already on the {PLANS[exc.plan].name} plan"
            if exc.plan
            else "already has a Stripe subscription"
        )
        return (
            f"Nothing was bought: the organisation {has}, and a second subscription would "
            "be billed too. Change or cancel it with Manage billing."
        )
    if isinstance(exc, stripe_service.CheckoutPaid):
        return (
            "Nothing was bought: the organisation's open checkout has just been paid. Its "
            "plan changes as soon as Stripe confirms the payment; after that, change plan "
            "with Manage billing."
        )
    return exc.message


@router.post("/settings/billing/checkout")
async def billing_checkout(
    request: Request, caller: CallerDep, session: SessionDep, runtime: RuntimeDep
) -> Response:
    """The Upgrade buttons: ``POST /v1/billing/checkout`` from the form, then off to
    Stripe's page. The service refuses a member, whatever the page showed."""
    back = _billing_page(request, runtime)
    form = await request.form()
    plan = form.get("plan")
    if plan not in PAID_PLANS:
        return error_page(request, 400, "Cannot do that", "Choose the Pro or the Scale plan")
    body = CheckoutIn(plan=plan)  # type: ignore[arg-type]
    try:
        url = await stripe_service.checkout(
            session, runtime.settings, caller.auth, body, back, lambda: end_unit(session)
        )
    except Conflict as exc:
        # Refused (409): on the enterprise plan, already subscribed — a page loaded before
        # Stripe's webhook still offers Upgrade — or a checkout just paid or started in
        # another tab. The Usage page as it now stands, saying why.
        await rollback(session)
        return await _usage_page(
            request, caller, session, runtime, status=exc.status_code, refused=_refusal(exc)
        )
    return redirect(request, url)


@router.post("/settings/billing/portal")
async def billing_portal(
    request: Request, caller: CallerDep, session: SessionDep, runtime: RuntimeDep
) -> Response:
    """The Manage billing button: Stripe's Customer Portal for the organisation."""
    back = _billing_page(request, runtime)
    url = await stripe_service.portal(
        session, runtime.settings, caller.auth, PortalIn(), back, lambda: end_unit(session)
    )
    return redirect(request, url)


@router.get("/settings/audit-log")
async def audit_log(request: Request, caller: CallerDep, session: SessionDep) -> Response:
    raw = request.query_params.get("page", "1")
    page = int(raw) if raw.isdigit() and 0 < int(raw) < 1_000_000 else 1
    events, total = await audit.list_events(
        session, caller.auth, (page - 1) * AUDIT_PER_PAGE, AUDIT_PER_PAGE
    )
    user_ids = {e.actor_id for e in events if e.actor_type == "user" and e.actor_id}
    emails = await users.emails_by_id(session, caller.auth, user_ids)
    keys, _ = await api_keys.list_keys(session, caller.auth, 0, MAX_KEYS)
    actors: dict[uuid.UUID, str] = {k.id: f"API key {k.key_prefix}…" for k in keys}
    actors.update(emails)
    return render(
        request,
        "settings_audit.html",
        {
            "caller": caller,
            "events": events,
            "actors": actors,
            "page": page,
            "pages": max(1, -(-total // AUDIT_PER_PAGE)),
            "total": total,
        },
    )
