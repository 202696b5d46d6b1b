"""Sign-in and sign-out. The session is the built-in login's JWT, kept in an HttpOnly
cookie; the sign-in form is an auth endpoint of SPEC §8 (its rate limit, the lockout, and
every failure counted), sharing one budget per address with ``POST /v1/auth/login``."""

from __future__ import annotations

import secrets

from fastapi import APIRouter, Request, Response
from fastapi.responses import RedirectResponse
from pydantic import ValidationError

from launchgate.auth import service as auth_service
from launchgate.auth.schemas import LoginRequest
from launchgate.dashboard import forms
from launchgate.dashboard.web import (
    CSRF_COOKIE,
    SESSION_COOKIE,
    PageRoute,
    clear_cookie,
    client_ip,
    render,
    safe_next,
    set_cookie,
)
from launchgate.deps import RuntimeDep, SessionDep
from launchgate.errors import Unauthorized

router = APIRouter(route_class=PageRoute)


@router.get("/")
async def home(request: Request) -> Response:
    target = "/projects" if request.cookies.get(SESSION_COOKIE) else "/sign-in"
    return RedirectResponse(target, status_code=303)


@router.get("/sign-in")
async def sign_in_form(request: Request) -> Response:
    return render(request, "sign_in.html", {"next": safe_next(request.query_params.get("next"))})


def _refused(
    request: Request,
    email: str,
    next_url: str,
    status: int,
    message: str,
    headers: dict[str, str] | None = None,
) -> Response:
    return render(
        request,
        "sign_in.html",
        {"next": next_url, "email": email, "error": message},
        status=status,
        headers=headers,
    )


@router.post("/sign-in")
async def sign_in(request: Request, runtime: RuntimeDep, session: SessionDep) -> Response:
    form = await request.form()
    email, password = forms.text(form, "email"), forms.text(form, "password")
    next_url = safe_next(forms.text(form, "next"))
    limits, ip = runtime.limits, client_ip(request)
    if limits is not None:
        # The same key as the API's login: one budget per address, whichever door is used.
        wait = await limits.hit(limits.auth, "auth:" + ip)
        if wait is not None:
            return _refused(
                request,
                email,
                next_url,
                429,
                f"Too many sign-in attempts; try again in {wait} s.",
                {"Retry-After": str(wait)},
            )
    try:
        body = LoginRequest.model_validate({"email": email, "password": password})
    except ValidationError as exc:
        return _refused(request, email, next_url, 400, forms.FormErrors.of(exc).message or "")
    try:
        token = await auth_service.login(session, runtime, body.email, body.password)
    except Unauthorized as exc:
        if limits is not None:
            await limits.record_auth_failure(ip)
        return _refused(request, email, next_url, 401, exc.message)
    response = RedirectResponse(next_url, status_code=303)
    set_cookie(response, request, SESSION_COOKIE, token, max_age=runtime.settings.jwt_ttl_s)
    # A fresh CSRF cookie with the new session: a token seen before sign-in is worth nothing.
    set_cookie(response, request, CSRF_COOKIE, secrets.token_urlsafe(32))
    return response


@router.post("/sign-out")
async def sign_out(request: Request) -> Response:
    response = RedirectResponse("/sign-in", status_code=303)
    clear_cookie(response, request, SESSION_COOKIE)
    clear_cookie(response, request, CSRF_COOKIE)
    return response
