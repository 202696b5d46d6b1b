"""What every dashboard page shares: the signed-in caller, the session and CSRF cookies,
rendering, and one route class that turns our errors into pages.

The dashboard is a second face of the same services as the API, so its failures are the
services' own errors (``NotFound``, ``ValidationFailed``…); ``PageRoute`` renders them as
HTML where the API renders the JSON envelope. It also checks, before any handler runs,
the two things no page may forget: the lockout of SPEC §8 and, on every unsafe method,
the CSRF token.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import hashlib
import hmac
import json
import secrets
import uuid
from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any
from urllib.parse import quote, urlsplit

import structlog
from fastapi import Depends, Request, Response
from fastapi.responses import HTMLResponse, RedirectResponse
from fastapi.routing import APIRoute
from starlette.exceptions import HTTPException

from launchgate.auth import service as auth_service
from launchgate.dashboard import bars, dots, spend
from launchgate.deps import RuntimeDep, SessionDep
from launchgate.errors import LaunchGateError, NotFound, Unauthorized
from launchgate.kit.auth_context import AuthContext
from launchgate.kit.time import as_utc
from launchgate.runtime import ApiRuntime
from launchgate.users import service as users

if TYPE_CHECKING:
    from fastapi.templating import Jinja2Templates

log = structlog.get_logger(__name__)

HERE = Path(__file__).resolve().parent
SESSION_COOKIE = "lg_session"
CSRF_COOKIE = "lg_csrf"
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "x-csrf-token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
PUBLIC_POSTS = frozenset({"/sign-in"})
# Pages hold private data (and, once, a new API key): never cached, never framed, and
# nothing runs but our own vendored scripts.
SECURITY_HEADERS = {
    "Cache-Control": "no-store",
    "Content-Security-Policy": (
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        "form-action 'self'; frame-ancestors 'none'; base-uri 'none'; object-src 'none'"
    ),
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
}

# Messages after a redirect, by code: a URL never carries text of ours or of the user's.
NOTICES = {
    "scorer-created": "Scorer created.",
    "scorer-saved": "Scorer saved. Runs from now on use the new config; past runs keep theirs.",
    "suite-saved": "Suite settings saved.",
    "api-key-revoked": "API key revoked: requests made with it now get 401.",
    "byok-key-added": "Key added. Only its first 8 characters will ever be shown again.",
    "byok-default-set": "Default key changed.",
    "byok-key-revoked": "Key revoked: its ciphertext is destroyed and it is no longer used.",
    "budget-saved": "Judge budget saved. It applies to this month's spend at once.",
    "budget-removed": "Judge budget removed: the judge may spend without limit.",
}


class SignInRequired(Exception):
    """No valid session cookie: the page sends the browser to the sign-in form."""


class CsrfRefused(Exception):
    """An unsafe request without the CSRF token of this browser's session."""


@dataclass(frozen=True)
class Caller:
    """The signed-in user: the same ``AuthContext`` an API call with their JWT has, and
    their role (``owner`` or ``member``), which decides who may change the organisation's
    own settings."""

    auth: AuthContext
    email: str
    role: str = "member"

    @property
    def is_owner(self) -> bool:
        return self.role == "owner"


# --- cookies ------------------------------------------------------------------------------


def is_https(request: Request) -> bool:
    """Behind a TLS-terminating proxy the app sees http; the proxy's X-Forwarded-Proto
    says what the browser used. Trusting it is safe here: it only adds ``Secure``."""
    forwarded = request.headers.get("x-forwarded-proto", "").split(",")[0].strip().lower()
    return request.url.scheme == "https" or forwarded == "https"


def set_cookie(
    response: Response, request: Request, name: str, value: str, max_age: int | None = None
) -> None:
    response.set_cookie(
        name,
        value,
        max_age=max_age,
        path="/",
        httponly=True,
        samesite="lax",
        secure=is_https(request),
    )


def clear_cookie(response: Response, request: Request, name: str) -> None:
    response.delete_cookie(name, path="/", httponly=True, samesite="lax", secure=is_https(request))


# --- CSRF ---------------------------------------------------------------------------------
# A signed double-submit token: the browser holds a random HttpOnly cookie; forms carry
# HMAC(server secret, cookie | session). A page of another site can neither read the
# cookie nor compute the HMAC, and a token is bound to the session it was rendered for.


def _csrf_cookie(request: Request) -> str:
    value = request.cookies.get(CSRF_COOKIE) or getattr(request.state, "new_csrf", None)
    if not value:
        value = request.state.new_csrf = secrets.token_urlsafe(32)
    return str(value)


def csrf_token(request: Request, runtime: ApiRuntime) -> str:
    session_token = request.cookies.get(SESSION_COOKIE, "")
    key = hashlib.sha256(b"launchgate-dashboard-csrf|" + runtime.jwt_secret.encode()).digest()
    bound = _csrf_cookie(request) + "|" + hashlib.sha256(session_token.encode()).hexdigest()
    return hmac.new(key, bound.encode(), hashlib.sha256).hexdigest()


async def check_csrf(request: Request, runtime: ApiRuntime) -> None:
    sent = request.headers.get(CSRF_HEADER)
    if sent is None:
        form = await request.form()
        field = form.get(CSRF_FIELD)
        sent = field if isinstance(field, str) else None
    if not request.cookies.get(CSRF_COOKIE) or not sent:
        raise CsrfRefused()
    if not hmac.compare_digest(sent, csrf_token(request, runtime)):
        raise CsrfRefused()


# --- the caller -----------------------------------------------------------------------------


async def _caller(request: Request, runtime: RuntimeDep, session: SessionDep) -> Caller:
    token = request.cookies.get(SESSION_COOKIE)
    if not token:
        raise SignInRequired()
    try:
        auth = await auth_service.session_context(session, runtime, token)
        user = await users.get_user(session, auth)
    except (Unauthorized, NotFound):
        raise SignInRequired() from None
    return Caller(auth=auth, email=user.email, role=user.role)


CallerDep = Annotated[Caller, Depends(_caller)]


def client_ip(request: Request) -> str:
    return request.client.host if request.client else "unknown"


# --- rendering -----------------------------------------------------------------------------


def _when(value: datetime | None) -> str:
    return "—" if value is None else as_utc(value).strftime("%Y-%m-%d %H:%M UTC")


def _percent(value: float | None) -> str:
    return "—" if value is None else f"{value * 100:.4g}%"


def _pretty_json(value: Any) -> str:
    return json.dumps(value, indent=2, ensure_ascii=False, sort_keys=True)


def _compact_json(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(", ", ": "))


@functools.cache
def templates() -> Jinja2Templates:
    """The pages' Jinja2 environment, built on the first page served: a server that never
    serves the dashboard never imports jinja2 (~2 MB resident, bench/RESULTS.md)."""
    from fastapi.templating import Jinja2Templates

    built = Jinja2Templates(directory=HERE / "templates")
    built.env.filters.update(
        when=_when,
        percent=_percent,
        pretty_json=_pretty_json,
        compact_json=_compact_json,
        rate=bars.percent,
        p_value=bars.p_text,
        points=bars.points,
        interval=bars.interval_text,
        usd=spend.usd,
    )
    built.env.globals.update(
        samples_svg=dots.samples_svg,
        samples_summary=dots.summary,
        bars_svg=bars.bars_svg,
        bars_summary=bars.summary,
        run_cost=spend.run_cost,
        case_cost=spend.case_cost,
        spend_svg=spend.spend_svg,
        spend_summary=spend.summary,
    )
    return built


_templates_compiled = False


async def templates_ready() -> None:
    """Before the first page of a process: jinja2 imported and every template compiled, in
    a thread. On the event loop that was about 15 ms of import and 5 ms per template (far
    more on a loaded machine), held from every API request in flight, the first time each
    page was shown after a start."""
    global _templates_compiled
    if not _templates_compiled:
        await asyncio.to_thread(_compile_templates)
        _templates_compiled = True


def _compile_templates() -> None:
    env = templates().env
    for name in env.list_templates():
        # A template that does not compile fails where it is rendered, as it always did,
        # not every page of the dashboard.
        with contextlib.suppress(Exception):
            env.get_template(name)


def render(
    request: Request,
    template: str,
    context: dict[str, Any] | None = None,
    *,
    status: int = 200,
    headers: dict[str, str] | None = None,
) -> HTMLResponse:
    """A page or fragment, with the CSRF token its forms need and the security headers."""
    runtime: ApiRuntime = request.app.state.runtime
    values = {
        "csrf_token": csrf_token(request, runtime),
        "csrf_field": CSRF_FIELD,
        "path": request.url.path,
        "notice": NOTICES.get(request.query_params.get("notice", "")),
        **(context or {}),
    }
    response = templates().TemplateResponse(
        request,
        template,
        values,
        status_code=status,
        headers={**SECURITY_HEADERS, **(headers or {})},
    )
    new_csrf = getattr(request.state, "new_csrf", None)
    if new_csrf and not request.cookies.get(CSRF_COOKIE):
        set_cookie(response, request, CSRF_COOKIE, new_csrf)
    return response


def page_number(request: Request, name: str = "page") -> int:
    """A page of a list from the query string; anything but a sane number is page 1."""
    raw = request.query_params.get(name, "1")
    return int(raw) if raw.isdigit() and 0 < int(raw) < 1_000_000 else 1


def is_htmx(request: Request) -> bool:
    return request.headers.get("hx-request") == "true"


def redirect(request: Request, url: str) -> Response:
    """After a form: 303 (the browser GETs the page); an htmx request is told to navigate."""
    if is_htmx(request):
        return Response(status_code=200, headers={"HX-Redirect": url})
    return RedirectResponse(url, status_code=303)


def safe_next(value: str | None) -> str:
    """Only a path of this site: ``//evil.example`` and ``https://…`` are not followed."""
    if value and value.startswith("/") and not value.startswith(("//", "/\\")):
        return value
    return "/projects"


def sign_in_url(request: Request) -> str:
    """Where to come back to after signing in: this page, or for a form or an htmx call
    the page it was made from."""
    if request.method == "GET" and not is_htmx(request):
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    else:
        current = urlsplit(request.headers.get("hx-current-url", ""))
        target = current.path + (f"?{current.query}" if current.query else "")
    return "/sign-in?next=" + quote(safe_next(target), safe="/")


def error_page(
    request: Request, status: int, title: str, message: str, headers: dict[str, str] | None = None
) -> HTMLResponse:
    if is_htmx(request):
        return render(
            request,
            "fragments/error.html",
            {"title": title, "message": message},
            status=status,
            headers=headers,
        )
    return render(
        request,
        "error.html",
        {"title": title, "message": message, "status": status},
        status=status,
        headers=headers,
    )


def not_found(request: Request) -> HTMLResponse:
    return error_page(
        request, 404, "Not found", "There is nothing here, or it belongs to another organisation."
    )


# --- the route class -------------------------------------------------------------------------

Handler = Callable[[Request], Awaitable[Response]]


async def _guard(request: Request, handler: Handler) -> Response:
    runtime: ApiRuntime = request.app.state.runtime
    limits = runtime.limits
    if limits is not None and await limits.locked_out(client_ip(request)):
        return error_page(
            request,
            401,
            "Too many failed sign-ins",
            "Too many failed authentications from this address; try again later.",
        )
    if request.method not in SAFE_METHODS:
        # Signed out (a stale page's button): sign in first; nothing is done either way.
        if request.url.path not in PUBLIC_POSTS and not request.cookies.get(SESSION_COOKIE):
            raise SignInRequired()
        await check_csrf(request, runtime)
    return await handler(request)


class PageRoute(APIRoute):
    """Every dashboard route: lockout and CSRF checks first, then our errors as pages."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def page(request: Request) -> Response:
            await templates_ready()
            try:
                return await _guard(request, handler)
            except SignInRequired:
                url = sign_in_url(request)
                if is_htmx(request):
                    return Response(status_code=200, headers={"HX-Redirect": url})
                return RedirectResponse(url, status_code=303)
            except CsrfRefused:
                return error_page(
                    request,
                    403,
                    "Form expired",
                    "This form was not sent by a LaunchGate page of this session "
                    "(the CSRF token is missing or wrong). Reload the page and "
                    "try again.",
                )
            except NotFound:
                return not_found(request)
            except LaunchGateError as exc:
                return error_page(
                    request, exc.status_code, "Cannot do that", exc.message, exc.headers
                )
            except HTTPException as exc:
                # Starlette's own refusals while reading the form (a part over its 1 MiB
                # limit, a malformed multipart body, the body limit): the sender's fault.
                return error_page(
                    request, exc.status_code, "Cannot read that form", str(exc.detail)
                )
            except Exception as exc:
                request_id = uuid.uuid4().hex
                log.error(
                    "dashboard error",
                    request_id=request_id,
                    path=request.url.path,
                    error_type=type(exc).__name__,
                )
                return error_page(
                    request,
                    500,
                    "Something went wrong",
                    f"Internal error; quote this request id to support: {request_id}",
                )

        return page
