"""Tenancy, CSRF and the session, against a server on PostgreSQL (the other tests use the
embedded SQLite): another organisation's ids are the 404 page, a form without its CSRF
token is refused, the session cookie is HttpOnly and SameSite=Lax (Secure behind https),
and after sign-out every page sends the browser to sign-in."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from playwright.sync_api import Browser, Page, expect

from tests.dashboard.live import (
    LiveServer,
    Member,
    api,
    new_member,
    sign_in,
    start_server,
    stop_server,
)
from tests.pg import empty_database


@pytest.fixture(scope="module")
def pg_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    with empty_database("lg_dash") as url:
        live = start_server(tmp_path_factory.mktemp("dashboard-pg"), database_url=url)
        try:
            yield live
        finally:
            stop_server(live)


def seed(server: LiveServer, member: Member) -> dict[str, Any]:
    """A project with a scorer, a suite, a case and a run, a BYOK key and an API key."""
    with api(server, member) as client:
        client.post("/v1/projects", json={"name": "Alpha", "slug": "alpha"}).raise_for_status()
        scorer = client.post(
            "/v1/projects/alpha/scorers",
            json={"name": "Says hi", "type": "contains", "config": {"values": ["hi"]}},
        ).json()["data"]
        suite = client.post("/v1/projects/alpha/suites", json={"name": "S", "slug": "s"}).json()[
            "data"
        ]
        case = client.post(
            f"/v1/suites/{suite['id']}/cases",
            json={"name": "Greets", "scorer_id": scorer["id"], "threshold": 1.0},
        ).json()["data"]
        run = client.post("/v1/run", json={"suite": "s", "output": "hi there"}).json()
        byok = client.post(
            "/v1/byok-keys",
            json={"provider": "anthropic", "name": "Theirs", "key": "sk-ant-test-0123456789"},
        ).json()["data"]
        key = client.post("/v1/api-keys", json={"name": "CI"}).json()["data"]
    return {"suite": suite, "case": case, "run": run, "byok": byok, "api_key": key}


def csrf_of(page: Page) -> str:
    token = page.locator("input[name=csrf_token]").first.get_attribute("value")
    assert token
    return token


def assert_404_page(page: Page, path: str, server: LiveServer) -> None:
    response = page.goto(server.url + path)
    assert response is not None and response.status == 404, path
    expect(page.locator("h1")).to_have_text("404 — Not found")
    expect(page.locator("main")).to_contain_text("belongs to another organisation")


def test_another_organisations_ids_give_the_404_page(page: Page, pg_server: LiveServer) -> None:
    theirs = new_member(pg_server)
    seeded = seed(pg_server, theirs)
    mine = new_member(pg_server)
    # The same slugs exist in my organisation too: only the ids are theirs.
    seed(pg_server, mine)
    sign_in(page, pg_server, mine)
    case_id, run_id = seeded["case"]["id"], seeded["run"]["id"]
    for path in (
        f"/runs/{run_id}",
        f"/projects/alpha/suites/s/cases/{case_id}/edit",
        "/projects/not-mine",
        "/projects/not-mine/suites/s",
        "/runs/run_00000000000000000000000000",
        "/projects/alpha/suites/s/cases/x/edit",
    ):
        assert_404_page(page, path, pg_server)

    page.goto(pg_server.url + "/projects")
    token = csrf_of(page)
    posts = (
        f"/settings/byok-keys/{seeded['byok']['id']}/revoke",
        f"/settings/byok-keys/{seeded['byok']['id']}/default",
        f"/settings/byok-keys/{seeded['byok']['id']}/test",
        f"/settings/api-keys/{seeded['api_key']['id']}/revoke",
        f"/projects/alpha/suites/s/cases/{case_id}/active",
        f"/projects/alpha/suites/s/cases/{case_id}/delete",
        f"/projects/alpha/suites/s/cases/{case_id}",
    )
    for path in posts:
        response = page.request.post(
            pg_server.url + path, form={"csrf_token": token, "name": "Hijacked"}
        )
        assert response.status == 404, (path, response.status)
        assert "404 — Not found" in response.text()

    with api(pg_server, theirs) as client:  # nothing of theirs changed
        byok = client.get(f"/v1/byok-keys/{seeded['byok']['id']}").json()["data"]
        assert byok["status"] == "active" and byok["name"] == "Theirs"
        case = client.get(f"/v1/cases/{case_id}").json()["data"]
        assert case["is_active"] and case["name"] == "Greets"
    key = seeded["api_key"]["key"]
    assert (
        httpx.get(
            pg_server.url + "/v1/projects", headers={"Authorization": f"Bearer {key}"}
        ).status_code
        == 200
    )


def test_a_form_without_its_csrf_token_is_refused(
    page: Page, browser: Browser, pg_server: LiveServer
) -> None:
    member = new_member(pg_server)
    sign_in(page, pg_server, member)
    # The browser's own form, with the hidden token taken out before it is sent.
    page.locator("form[action='/projects'] input[name=csrf_token]").evaluate("e => e.remove()")
    page.get_by_label("Name", exact=True).fill("Sneaky")
    page.get_by_role("button", name="Create project").click()
    expect(page.locator("h1")).to_have_text("Form expired")
    # A token rendered for another session is refused too.
    other = browser.new_context()
    try:
        other_page = other.new_page()
        sign_in(other_page, pg_server, new_member(pg_server))
        foreign = csrf_of(other_page)
    finally:
        other.close()
    for form in ({}, {"csrf_token": ""}, {"csrf_token": foreign}, {"csrf_token": "0" * 64}):
        response = page.request.post(pg_server.url + "/projects", form={"name": "Sneaky", **form})
        assert response.status == 403, form
    response = page.request.post(
        pg_server.url + "/settings/api-keys",
        form={"name": "x"},
        headers={"X-CSRF-Token": foreign, "HX-Request": "true"},
    )
    assert response.status == 403
    with api(pg_server, member) as client:
        assert client.get("/v1/projects").json()["data"] == []
        assert len(client.get("/v1/api-keys").json()["data"]) == 1  # the first key only
    # With the token, the same form goes through.
    page.goto(pg_server.url + "/projects")
    response = page.request.post(
        pg_server.url + "/projects", form={"name": "Honest", "csrf_token": csrf_of(page)}
    )
    assert response.ok and "Honest" in response.text()


def test_the_session_cookie_and_sign_out(page: Page, pg_server: LiveServer) -> None:
    member = new_member(pg_server)
    sign_in(page, pg_server, member, start="/settings/usage")
    expect(page).to_have_url(pg_server.url + "/settings/usage")  # back where it was asked
    cookies = {c["name"]: c for c in page.context.cookies()}
    session = cookies["lg_session"]
    assert session["httpOnly"] is True and session["sameSite"] == "Lax"
    assert session["secure"] is False  # plain http on 127.0.0.1
    assert "lg_session" not in page.evaluate("document.cookie")

    page.get_by_role("button", name="Sign out").click()
    expect(page).to_have_url(pg_server.url + "/sign-in")
    assert "lg_session" not in {c["name"] for c in page.context.cookies()}
    for path in ("/projects", "/settings/byok-keys", "/settings/api-keys", "/projects/x"):
        page.goto(pg_server.url + path)
        expect(page).to_have_url(re.compile(r"/sign-in\?next="))
        expect(page.get_by_role("button", name="Sign in")).to_be_visible()
    page.go_back()
    expect(page).to_have_url(re.compile(r"/sign-in"))
    # An htmx call without a session is told where to go rather than given a page.
    response = page.request.post(
        pg_server.url + "/projects/x/suites/y/run",
        headers={"HX-Request": "true", "HX-Current-URL": pg_server.url + "/projects/x/suites/y"},
    )
    assert response.headers.get("hx-redirect", "").startswith("/sign-in?next=/projects/x")


def test_the_session_cookie_is_secure_behind_https(pg_server: LiveServer) -> None:
    member = new_member(pg_server)
    https = {"X-Forwarded-Proto": "https"}
    with httpx.Client(base_url=pg_server.url, headers=https) as client:
        form = client.get("/sign-in")
        assert "; Secure" in form.headers["set-cookie"]
        token = re.search(r'name="csrf_token" value="([0-9a-f]+)"', form.text)
        assert token
        # httpx, like a browser, keeps a Secure cookie off plain http: the proxy's leg is.
        cookie = form.headers["set-cookie"].split(";")[0]
        signed_in = client.post(
            "/sign-in",
            headers={"Cookie": cookie},
            data={
                "email": member.email,
                "password": member.password,
                "csrf_token": token[1],
                "next": "/projects",
            },
        )
    assert signed_in.status_code == 303
    cookies = signed_in.headers.get_list("set-cookie")
    session = next(c for c in cookies if c.startswith("lg_session="))
    assert "; Secure" in session and "; HttpOnly" in session and "SameSite=lax" in session


def test_sign_in_goes_nowhere_but_this_site(page: Page, pg_server: LiveServer) -> None:
    member = new_member(pg_server)
    page.goto(pg_server.url + "/sign-in?next=//evil.example/x")
    page.get_by_label("Email").fill(member.email)
    page.get_by_label("Password").fill("wrong password")
    page.get_by_role("button", name="Sign in").click()
    expect(page.locator(".alert.error")).to_have_text("Email or password is incorrect")
    page.get_by_label("Password").fill(member.password)
    page.get_by_role("button", name="Sign in").click()
    expect(page).to_have_url(pg_server.url + "/projects")


def test_the_api_keeps_its_answers(pg_server: LiveServer) -> None:
    """The pages are added after the API and hidden from its schema: an unknown API path is
    still the JSON 404, a wrong method still the 405."""
    paths = httpx.get(pg_server.url + "/openapi.json").json()["paths"]
    assert all(p.startswith("/v1/") or p == "/health" for p in paths)
    missing = httpx.get(pg_server.url + "/v1/nothing-here")
    assert missing.status_code == 404 and missing.json()["error"]["code"] == "NOT_FOUND"
    assert httpx.get(pg_server.url + "/v1/run").status_code == 405
