"""The interactive API reference at /docs works on a machine without internet access
(issue 12): a real ``launchgate serve``, Debian's headless Chromium, and every request to
a host other than this machine aborted. The page must render the operations, under the
dashboard's Content-Security-Policy, without one request leaving the machine."""

from __future__ import annotations

from collections.abc import Iterator
from urllib.parse import urlsplit

import httpx
import pytest
from playwright.sync_api import Browser, Page, Route, expect, sync_playwright

from launchgate.api_reference import ASSETS
from launchgate.dashboard.web import SECURITY_HEADERS
from tests.dashboard.live import CHROMIUM, LiveServer, start_server, stop_server

LOCAL_HOSTS = {"127.0.0.1", "::1", "localhost"}


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    live = start_server(tmp_path_factory.mktemp("docs-page"))
    try:
        yield live
    finally:
        stop_server(live)


# Module scope, as in tests/dashboard/conftest.py: Playwright's sync API holds an event loop
# on this thread while it runs, which the asyncio tests of other modules must not meet.
@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with sync_playwright() as driver:
        chromium = driver.chromium.launch(executable_path=CHROMIUM, headless=True)
        try:
            yield chromium
        finally:
            chromium.close()


class Offline:
    """A browser tab on a machine without internet: what it asked of other hosts is
    aborted and recorded, and every script error or policy violation is kept."""

    def __init__(self, browser: Browser) -> None:
        self.context = browser.new_context(viewport={"width": 1280, "height": 900})
        self.context.set_default_timeout(15_000)
        self.left: list[str] = []
        self.local: list[str] = []
        self.problems: list[str] = []
        self.context.route("**/*", self._route)
        self.page: Page = self.context.new_page()
        self.page.on("pageerror", lambda error: self.problems.append(str(error)))
        self.page.on(
            "console",
            lambda message: self.problems.append(message.text) if message.type == "error" else None,
        )

    def _route(self, route: Route) -> None:
        url = route.request.url
        if urlsplit(url).hostname in LOCAL_HOSTS:
            self.local.append(url)
            route.continue_()
        else:
            self.left.append(url)
            route.abort("internetdisconnected")


@pytest.fixture
def offline(browser: Browser) -> Iterator[Offline]:
    tab = Offline(browser)
    try:
        yield tab
    finally:
        tab.context.close()


def test_docs_render_the_operations_offline(server: LiveServer, offline: Offline) -> None:
    response = offline.page.goto(server.url + "/docs")
    assert response is not None and response.status == 200
    run = offline.page.locator(".opblock-post", has_text="/v1/run")
    expect(run).to_be_visible()
    expect(offline.page.locator(".opblock").first).to_be_visible()
    expect(offline.page.locator(".opblock-get", has_text="/health").first).to_be_visible()
    run.locator(".opblock-summary").click()  # Swagger UI's own code answers a click
    expect(run.get_by_text("allow_empty_output").first).to_be_visible()
    assert offline.left == []  # nothing was even attempted outside this machine
    assert offline.problems == []  # no script error, no Content-Security-Policy violation
    assert any(url.endswith("/openapi.json") for url in offline.local)
    assert any("/docs/assets/swagger-ui-bundle.js" in url for url in offline.local)


def test_docs_are_served_under_the_dashboards_policy(server: LiveServer) -> None:
    page = httpx.get(server.url + "/docs")
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    policy = page.headers["content-security-policy"]
    expected = SECURITY_HEADERS["Content-Security-Policy"]
    # The dashboard's policy, with only the hash of the page's start-up script added.
    script_src = next(d for d in policy.split("; ") if d.startswith("script-src"))
    assert script_src.startswith("script-src 'self' 'sha256-") and "unsafe" not in policy
    assert policy.replace(script_src, "script-src 'self'") == expected
    for name in ("X-Frame-Options", "X-Content-Type-Options", "Referrer-Policy"):
        assert page.headers[name] == SECURITY_HEADERS[name]
    assert "http://" not in page.text and "https://" not in page.text


def test_the_assets_and_their_licence_ship_with_the_package(server: LiveServer) -> None:
    for name, kind in (
        ("swagger-ui-bundle.js", "javascript"),
        ("swagger-ui.css", "text/css"),
    ):
        asset = httpx.get(f"{server.url}/docs/assets/{name}")
        assert asset.status_code == 200 and kind in asset.headers["content-type"]
        assert asset.content == (ASSETS / name).read_bytes()
    assert "Apache License" in (ASSETS / "LICENSE").read_text()
    assert "SmartBear" in (ASSETS / "NOTICE").read_text()


def test_redoc_is_not_served(server: LiveServer) -> None:
    """It needs inline styles and blob: workers, which the policy forbids (docs/api.md)."""
    assert httpx.get(server.url + "/redoc").status_code == 404
