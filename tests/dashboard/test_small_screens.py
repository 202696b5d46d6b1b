"""Every page stays usable on a 360 px wide phone: nothing wider than the screen (tables
become stacked cards), and the main actions can be reached and used there."""

from __future__ import annotations

from playwright.sync_api import Browser, Page, expect

from tests.dashboard.live import LiveServer, api, new_member, screenshot, sign_in

WIDTH = 360


def assert_fits(page: Page, path: str) -> None:
    overflow = page.evaluate("document.documentElement.scrollWidth")
    assert overflow <= WIDTH, f"{path} is {overflow} px wide"


def assert_reachable(page: Page, locator_name: str, role: str = "button") -> None:
    target = page.get_by_role(role, name=locator_name, exact=True).first  # type: ignore[arg-type]
    target.scroll_into_view_if_needed()
    expect(target).to_be_visible()
    box = target.bounding_box()
    assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= WIDTH, locator_name


def test_pages_fit_a_360_px_screen(browser: Browser, server: LiveServer) -> None:
    member = new_member(server)
    with api(server, member) as client:
        client.post(
            "/v1/projects", json={"name": "Support bot", "slug": "support-bot"}
        ).raise_for_status()
        client.post(
            "/v1/projects/support-bot/suites/from-template",
            json={"template_slug": "structured-output"},
        ).raise_for_status()
        run = client.post(
            "/v1/run",
            json={
                "suite": "structured-output",
                "output": '{"answer": "A refund is on its way"}',
                "trigger": "github_action",
                "trigger_meta": {"commit": "0123456789abcdef0123456789abcdef01234567"},
            },
        ).json()
        client.post(
            "/v1/byok-keys",
            json={
                "provider": "azure_openai",
                "name": "Azure prod",
                "key": "azure-test-0123456789abcdef",
                "config": {"endpoint": server.url},
            },
        ).raise_for_status()
    context = browser.new_context(
        viewport={"width": WIDTH, "height": 740},
        is_mobile=True,
        has_touch=True,
        device_scale_factor=2,
    )
    context.set_default_timeout(15_000)
    try:
        page = context.new_page()
        sign_in(page, server, member)
        suite = "/projects/support-bot/suites/structured-output"
        pages = {
            "/projects": "Create project",
            "/projects/support-bot": "Create scorer",
            suite: "Run",
            f"/runs/{run['id']}": "Sign out",
            "/settings/api-keys": "Create API key",
            "/settings/byok-keys": "Test Azure prod",
            "/settings/byok-keys/new": "Add Key",
            "/settings/usage": "Sign out",
            "/settings/audit-log": "Sign out",
        }
        for path, action in pages.items():
            page.goto(server.url + path)
            assert_fits(page, path)
            assert_reachable(page, action)

        # Used there, not just seen: a run by hand, a case switched off and on.
        page.goto(server.url + suite)
        page.get_by_label("Output").fill('{"answer": "Your refund is on its way"}')
        page.get_by_role("button", name="Run", exact=True).click()
        expect(page.locator("#run-result .verdict")).to_be_visible()
        assert_fits(page, suite + " after a run")
        switch = page.get_by_role("switch").first
        switch.click()
        expect(page.get_by_role("switch").first).to_have_attribute("aria-checked", "false")
        page.get_by_role("switch").first.click()
        expect(page.get_by_role("switch").first).to_have_attribute("aria-checked", "true")
        page.locator("#run-result").scroll_into_view_if_needed()
        screenshot(page, "suite-360px", full_page=False)
    finally:
        context.close()
