"""Fixtures of the dashboard tests: one real server (SQLite, the embedded mode) with the
fake provider behind it, one headless Debian chromium per test module, and a fresh browser
context per test. Each test signs in as the user of its own organisation, so no
test sees another's rows."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, Playwright, sync_playwright

from launchgate.testing.fake_provider import FakeProviderServer
from tests.dashboard.live import CHROMIUM, LiveServer, start_server, stop_server

TIMEOUT_MS = 15_000


@pytest.fixture(scope="session")
def dashboard_fake_provider() -> Iterator[FakeProviderServer]:
    with FakeProviderServer() as fake:
        yield fake


@pytest.fixture(scope="session")
def server(
    tmp_path_factory: pytest.TempPathFactory, dashboard_fake_provider: FakeProviderServer
) -> Iterator[LiveServer]:
    live = start_server(tmp_path_factory.mktemp("dashboard"), fake=dashboard_fake_provider)
    try:
        yield live
    finally:
        stop_server(live)


# Module scope: while Playwright's sync API is started, its event loop counts as running in
# this thread, and the asyncio tests of other modules (and folders) could not run.
@pytest.fixture(scope="module")
def playwright() -> Iterator[Playwright]:
    with sync_playwright() as driver:
        yield driver


@pytest.fixture(scope="module")
def browser(playwright: Playwright) -> Iterator[Browser]:
    chromium = playwright.chromium.launch(executable_path=CHROMIUM, headless=True)
    try:
        yield chromium
    finally:
        chromium.close()


@pytest.fixture
def context(browser: Browser) -> Iterator[BrowserContext]:
    ctx = browser.new_context(viewport={"width": 1280, "height": 900}, locale="en-GB")
    ctx.set_default_timeout(TIMEOUT_MS)
    try:
        yield ctx
    finally:
        ctx.close()


@pytest.fixture
def page(context: BrowserContext) -> Iterator[Page]:
    """A tab that fails its test on a script error or a Content-Security-Policy violation
    (an inline script or style the pages must not have). A 4xx page a test asks for is
    logged by chromium as "Failed to load resource", which is expected."""
    tab = context.new_page()
    problems: list[str] = []
    tab.on("pageerror", lambda error: problems.append(str(error)))
    tab.on(
        "console",
        lambda message: (
            problems.append(message.text)
            if message.type == "error" and "Failed to load resource" not in message.text
            else None
        ),
    )
    yield tab
    assert problems == []
