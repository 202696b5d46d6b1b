"""Settings → API Keys (the key shown exactly once, with a copy button; listed by prefix;
revoked), Usage (the plan and this month's runs against its limit) and the Audit log."""

from __future__ import annotations

import re

import httpx
from playwright.sync_api import BrowserContext, Page, expect

from tests.dashboard.live import LiveServer, api, new_member, screenshot, sign_in


def test_an_api_key_is_shown_once_works_and_is_revoked(
    context: BrowserContext, page: Page, server: LiveServer
) -> None:
    context.grant_permissions(["clipboard-read", "clipboard-write"], origin=server.url)
    member = new_member(server)
    sign_in(page, server, member)
    page.get_by_role("link", name="Settings", exact=True).click()
    page.get_by_role("link", name="API Keys").click()
    expect(page.locator("tbody tr")).to_have_count(1)  # the organisation's first key

    page.get_by_label("Name", exact=True).fill("CI")
    page.get_by_label("Mode").select_option("test")
    page.get_by_role("button", name="Create API key").click()
    shown = page.locator("#new-key-value")
    expect(shown).to_have_text(re.compile(r"^lg_test_[A-Za-z0-9]{32}$"))
    secret = shown.inner_text()
    page.get_by_role("button", name="Copy").click()
    expect(page.get_by_role("button", name="Copied")).to_be_visible()
    assert page.evaluate("navigator.clipboard.readText()") == secret
    row = page.locator("tbody tr", has_text=secret[:12])
    expect(row).to_contain_text(secret[:12] + "…")
    expect(row).to_contain_text("test")
    screenshot(page, "api-keys")

    # It works, and it is never shown again.
    assert (
        httpx.get(
            server.url + "/v1/projects", headers={"Authorization": f"Bearer {secret}"}
        ).status_code
        == 200
    )
    page.goto(server.url + "/settings/api-keys")
    expect(page.locator("#new-key-value")).to_have_count(0)
    assert secret[12:] not in page.content()

    page.once("dialog", lambda dialog: dialog.accept())
    page.locator("tbody tr", has_text=secret[:12]).get_by_role("button", name="Revoke").click()
    expect(page).to_have_url(re.compile(r"notice=api-key-revoked"))
    expect(page.locator("tbody tr", has_text=secret[:12])).to_contain_text("revoked")
    assert (
        httpx.get(
            server.url + "/v1/projects", headers={"Authorization": f"Bearer {secret}"}
        ).status_code
        == 401
    )

    page.get_by_role("link", name="Audit log").click()
    events = page.locator("tbody tr")
    expect(events.filter(has_text="api_key.created").filter(has_text=member.email)).to_have_count(1)
    expect(events.filter(has_text="api_key.revoked").filter(has_text=member.email)).to_have_count(1)
    expect(events.first).to_contain_text("api_key.revoked")  # newest first
    expect(events.first).to_contain_text(secret[:12])


def test_an_api_key_form_refuses_in_the_apis_words(page: Page, server: LiveServer) -> None:
    member = new_member(server)
    sign_in(page, server, member, start="/settings/api-keys")
    page.get_by_label("Expires (optional)").fill("2001-01-01")
    page.get_by_label("Name", exact=True).fill("Old")
    page.get_by_role("button", name="Create API key").click()
    expect(page.locator("#f-expires_at-error")).to_have_text("in the past")
    expect(page.locator(".alert.error")).to_have_text("expires_at must be in the future")
    expect(page.locator("#new-key-value")).to_have_count(0)
    with api(server, member) as client:
        assert len(client.get("/v1/api-keys").json()["data"]) == 1


def test_usage_against_the_plan(page: Page, server: LiveServer) -> None:
    member = new_member(server, plan="free")
    sign_in(page, server, member, start="/settings/usage")
    expect(page.locator("#plan")).to_have_text("Free")
    expect(page.locator("#runs-used")).to_have_text("0 of 500 (0.0%)")
    with api(server, member) as client:
        client.post("/v1/projects", json={"name": "P", "slug": "p"}).raise_for_status()
        scorer = client.post(
            "/v1/projects/p/scorers",
            json={"name": "Hi", "type": "contains", "config": {"values": ["hi"]}},
        ).json()["data"]
        suite = client.post("/v1/projects/p/suites", json={"name": "S", "slug": "s"}).json()["data"]
        client.post(
            f"/v1/suites/{suite['id']}/cases", json={"name": "Greets", "scorer_id": scorer["id"]}
        ).raise_for_status()
        for output in ("hi", "bye", "hi"):
            client.post("/v1/run", json={"suite": "s", "output": output}).raise_for_status()
    page.reload()
    expect(page.locator("#runs-used")).to_have_text("3 of 500 (0.6%)")
    expect(page.locator("progress.usage")).to_have_attribute("value", "3")
    screenshot(page, "usage")
