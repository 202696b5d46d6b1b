"""The sign-in form is an auth endpoint of SPEC §8: it shares the API login's rate limit per
address, its failures count towards the lockout, and a locked-out address gets 401 on the
pages as on the API. Its own server, with small limits (all tests come from 127.0.0.1)."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest
from playwright.sync_api import Page, expect

from tests.dashboard.live import LiveServer, Member, new_member, start_server, stop_server

AUTH_LIMIT = 4
LOCKOUT = 3


@pytest.fixture(scope="module")
def limited(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    live = start_server(
        tmp_path_factory.mktemp("dashboard-limits"),
        LAUNCHGATE_AUTH_RATE_LIMIT=f"{AUTH_LIMIT}/15 minutes",
        LAUNCHGATE_LOCKOUT_LIMIT=f"{LOCKOUT}/15 minutes",
    )
    try:
        yield live
    finally:
        stop_server(live)


def attempt(page: Page, server: LiveServer, member: Member, password: str) -> int:
    page.goto(server.url + "/sign-in")
    page.get_by_label("Email").fill(member.email)
    page.get_by_label("Password").fill(password)
    with page.expect_response(
        lambda r: r.url.endswith("/sign-in") and r.request.method == "POST"
    ) as answer:
        page.get_by_role("button", name="Sign in").click()
    return answer.value.status


def test_sign_in_is_rate_limited_then_locked_out(page: Page, limited: LiveServer) -> None:
    member = new_member(limited)
    # One wrong password (a failure the lockout counts), then good ones up to the limit.
    assert attempt(page, limited, member, "wrong password") == 401
    expect(page.locator(".alert.error")).to_have_text("Email or password is incorrect")
    for _ in range(AUTH_LIMIT - 1):
        assert attempt(page, limited, member, member.password) == 303
    # Over the limit: refused before the password is even looked at.
    with page.expect_response(lambda r: r.request.method == "POST") as answer:
        page.goto(limited.url + "/sign-in")
        page.get_by_label("Email").fill(member.email)
        page.get_by_label("Password").fill(member.password)
        page.get_by_role("button", name="Sign in").click()
    assert answer.value.status == 429
    assert int(answer.value.headers["retry-after"]) > 0
    expect(page.locator(".alert.error")).to_contain_text("Too many sign-in attempts")
    # The API's login shares the budget of this address.
    login = httpx.post(
        limited.url + "/v1/auth/login", json={"email": member.email, "password": member.password}
    )
    assert login.status_code == 429

    # The browser is still signed in (its earlier sign-in succeeded): pages work ...
    page.goto(limited.url + "/projects")
    expect(page.get_by_text(member.email)).to_be_visible()
    # ... until this address fails to authenticate LOCKOUT times in all (the sign-in form's
    # failure counted): then pages and API alike answer 401.
    for _ in range(LOCKOUT - 1):
        bad = httpx.get(
            limited.url + "/v1/projects", headers={"Authorization": "Bearer lg_live_" + "x" * 32}
        )
        assert bad.status_code == 401
    response = page.goto(limited.url + "/projects")
    assert response is not None and response.status == 401
    expect(page.locator("h1")).to_contain_text("Too many failed sign-ins")
    good = httpx.get(limited.url + "/v1/projects", headers=member.headers)
    assert good.status_code == 401
