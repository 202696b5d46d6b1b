"""Settings → BYOK Keys → Add Key, as the seed guide tells users, with a canary key.

Once added, the key's first 8 characters may appear (the guide promises the dashboard shows
the ``key_prefix``), the rest never: not in the page, not in any later page, not in any
network response the browser received, not in the server's log. Test reaches the fake
provider over real HTTP; Make default moves the badge; Revoke takes the key out of use.
"""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass, field

from playwright.sync_api import Locator, Page, Response, expect

from launchgate.testing.fake_provider import FakeProviderServer
from tests.dashboard.live import LiveServer, Member, api, new_member, screenshot, sign_in


@dataclass
class Recorder:
    """Every response the browser receives, with its body where it has one."""

    bodies: list[tuple[str, bytes]] = field(default_factory=list)
    without_body: list[tuple[str, int, str]] = field(default_factory=list)

    def __call__(self, response: Response) -> None:
        try:
            self.bodies.append((response.url, response.body()))
        except Exception as exc:  # a redirect has no body the browser could read
            self.without_body.append((response.url, response.status, str(exc)[:200]))


def add_key(
    page: Page,
    provider: str,
    name: str,
    key: str,
    default: bool = False,
    endpoint: str | None = None,
) -> None:
    page.get_by_role("link", name="Settings", exact=True).click()
    page.get_by_role("link", name="BYOK Keys").click()
    page.get_by_role("link", name="Add Key").click()
    page.get_by_label("Provider").select_option(label=provider)
    page.get_by_label("Name", exact=True).fill(name)
    page.get_by_label("Key", exact=True).fill(key)
    if default:
        page.get_by_label("Make default").check()
    if endpoint is not None:
        page.get_by_label("Azure endpoint").fill(endpoint)
    page.get_by_role("button", name="Add Key").click()


def key_row(page: Page, name: str) -> Locator:
    return page.locator("#byok-list tbody tr", has_text=name)


def judge_suite(page: Page, server: LiveServer) -> None:
    """A project whose suite has one llm_judge case (the scorer form adapts to the type)."""
    page.goto(server.url + "/projects")
    page.get_by_label("Name", exact=True).fill("Judged")
    page.get_by_role("button", name="Create project").click()
    form = page.locator("#scorer-form")
    form.get_by_label("Name", exact=True).fill("Helpful")
    form.get_by_label("Type").select_option("llm_judge")
    expect(form.get_by_label("Rubric")).to_be_visible()
    expect(form.get_by_label("Pattern")).to_have_count(0)
    form.get_by_label("Rubric").fill("Is the answer helpful and polite?")
    form.get_by_label("Provider").select_option("openai")
    form.get_by_role("button", name="Create scorer").click()
    page.locator("#suite-form").get_by_label("Name", exact=True).fill("Tone")
    page.get_by_role("button", name="Create suite").click()
    page.locator("#add-case summary").click()
    case = page.locator("#add-case form")
    case.get_by_label("Name", exact=True).fill("Is helpful")
    case.get_by_label("Scorer").select_option(label="Helpful (llm_judge)")
    case.get_by_role("button", name="Add case").click()
    expect(page.locator("#cases tbody tr")).to_have_count(1)


def run_judged(page: Page, server: LiveServer) -> None:
    page.goto(server.url + "/projects/judged/suites/tone")
    page.get_by_label("Output").fill("Happy to help: your refund is on its way.")
    # The runs panel reloads itself after a run: let it finish before the next page, so
    # the recorder reads every body (one left in flight cannot be read any more).
    with page.expect_response(lambda r: "/runs-panel" in r.url) as panel:
        page.get_by_role("button", name="Run", exact=True).click()
    panel.value.finished()
    expect(page.locator("#run-result .verdict")).to_be_visible()


def visit_everything(page: Page, server: LiveServer, member: Member) -> list[str]:
    """Every kind of page, after the key was added; returns their HTML."""
    with api(server, member) as client:
        run_id = client.get(
            "/v1/suites/"
            + client.get("/v1/projects/judged/suites/tone").json()["data"]["id"]
            + "/runs"
        ).json()["data"][0]["id"]
    pages = []
    for path in (
        "/projects",
        "/projects/judged",
        "/projects/judged/suites/tone",
        f"/runs/{run_id}",
        "/settings/api-keys",
        "/settings/byok-keys",
        "/settings/byok-keys/new",
        "/settings/usage",
        "/settings/audit-log",
    ):
        page.goto(server.url + path)
        expect(page.locator("main")).to_be_visible()
        pages.append(page.content())
    return pages


def test_a_canary_key_never_shows_beyond_its_prefix(page: Page, server: LiveServer) -> None:
    canary = "sk-test-" + secrets.token_hex(24)  # valid for the fake provider
    secret_part = canary[8:]
    recorder = Recorder()
    page.on("response", recorder)
    member = new_member(server)
    sign_in(page, server, member)
    judge_suite(page, server)

    page.goto(server.url + "/projects")
    page.get_by_role("link", name="Settings", exact=True).click()
    page.get_by_role("link", name="BYOK Keys").click()
    expect(page.get_by_text("No provider keys yet.")).to_be_visible()

    # A refused form comes back without the key in it: the endpoint is missing.
    azure_canary = "azure-test-" + secrets.token_hex(24)
    add_key(page, "Azure OpenAI", "Azure", azure_canary)
    expect(page.locator(".field-error")).to_have_text("required for azure_openai keys")
    expect(page.get_by_label("Key", exact=True)).to_have_value("")
    assert azure_canary[8:] not in page.content()

    add_key(page, "OpenAI", "Primary", canary, default=True)
    expect(page).to_have_url(re.compile(r"/settings/byok-keys\?notice=byok-key-added$"))
    row = key_row(page, "Primary")
    expect(row).to_contain_text(canary[:8] + "…")
    expect(row).to_contain_text("OpenAI")
    expect(row.locator(".badge.default")).to_have_text("default")
    expect(row).to_contain_text("active")
    expect(row.locator("td[data-label='Last used']")).to_have_text("never")
    expect(row.locator("td[data-label='Last tested']")).to_have_text("never")
    assert secret_part not in page.content()

    run_judged(page, server)  # the judge uses the default key, through the worker
    expect(page.locator("#run-result .verdict")).to_contain_text("Cleared for launch")

    htmls = visit_everything(page, server, member)
    for html in htmls:
        assert secret_part not in html and azure_canary[8:] not in html
    assert any(canary[:8] in html for html in htmls)

    page.goto(server.url + "/settings/byok-keys")
    expect(key_row(page, "Primary").locator("td[data-label='Last used']")).not_to_have_text("never")
    screenshot(page, "byok-keys")

    # Everything the browser received: the prefix is there, the rest nowhere.
    assert len(recorder.bodies) > 20
    assert any(canary[:8].encode() in body for _, body in recorder.bodies)
    leaks = [
        url
        for url, body in recorder.bodies
        if secret_part.encode() in body or azure_canary[8:].encode() in body
    ]
    assert leaks == []
    # Unread: redirects (no body), and static files whose download a navigation cut short
    # (files of the package, the same for everyone). Any other unread answer fails the test.
    unread = [
        entry
        for entry in recorder.without_body
        if entry[1] not in (302, 303, 307) and "/static/" not in entry[0]
    ]
    assert unread == []
    assert secret_part not in server.log() and azure_canary[8:] not in server.log()


def test_test_make_default_and_revoke(page: Page, server: LiveServer) -> None:
    member = new_member(server)
    sign_in(page, server, member)
    judge_suite(page, server)
    good = "sk-test-" + secrets.token_hex(16)
    add_key(page, "OpenAI", "Primary", good)
    add_key(page, "OpenAI", "Spare", "sk-wrong-" + secrets.token_hex(16))
    # The first key of a provider is its default; the second one is not.
    expect(key_row(page, "Primary").locator(".badge.default")).to_have_count(1)
    expect(key_row(page, "Spare").locator(".badge.default")).to_have_count(0)

    key_row(page, "Primary").get_by_role("button", name="Test").click()
    result = key_row(page, "Primary").locator(".test-result")
    expect(result).to_contain_text("Valid")
    expect(result).to_contain_text("The provider accepted the key")
    expect(key_row(page, "Primary").locator("td[data-label='Last tested']")).not_to_have_text(
        "never"
    )

    key_row(page, "Spare").get_by_role("button", name="Test").click()
    result = key_row(page, "Spare").locator(".test-result")
    expect(result).to_contain_text("Invalid")
    expect(result).to_contain_text("rejected")
    expect(key_row(page, "Spare").locator("td[data-label='Status']")).to_have_text("invalid")

    key_row(page, "Spare").get_by_role("button", name="Make default").click()
    expect(page).to_have_url(re.compile(r"notice=byok-default-set"))
    expect(key_row(page, "Spare").locator(".badge.default")).to_have_count(1)
    expect(key_row(page, "Primary").locator(".badge.default")).to_have_count(0)
    expect(page.locator("#byok-list .badge.default")).to_have_count(1)
    with api(server, member) as client:
        keys = {k["name"]: k for k in client.get("/v1/byok-keys").json()["data"]}
    assert keys["Spare"]["is_default"] and not keys["Primary"]["is_default"]

    # The default now is the key the provider refuses: the judge cannot score.
    run_judged(page, server)
    expect(page.locator("#run-result .verdict")).to_contain_text("Run ended in error")

    page.goto(server.url + "/settings/byok-keys")
    key_row(page, "Primary").get_by_role("button", name="Make default").click()
    expect(key_row(page, "Primary").locator(".badge.default")).to_have_count(1)
    run_judged(page, server)
    expect(page.locator("#run-result .verdict")).to_contain_text("Cleared for launch")

    page.goto(server.url + "/settings/byok-keys")
    page.once("dialog", lambda dialog: dialog.accept())
    key_row(page, "Primary").get_by_role("button", name="Revoke").click()
    expect(page).to_have_url(re.compile(r"notice=byok-key-revoked"))
    revoked = key_row(page, "Primary")
    expect(revoked.locator("td[data-label='Status']")).to_have_text("revoked")
    expect(revoked.locator(".badge.default")).to_have_count(0)
    expect(revoked.get_by_role("button")).to_have_count(0)

    # Out of use: no default key for OpenAI any more, so the judge case ends in error.
    run_judged(page, server)
    expect(page.locator("#run-result .verdict")).to_contain_text("Run ended in error")
    expect(page.locator("#run-result .reason")).to_contain_text(
        "No active BYOK key for provider openai"
    )


def test_a_run_being_judged_updates_itself(
    page: Page, server: LiveServer, dashboard_fake_provider: FakeProviderServer
) -> None:
    member = new_member(server)
    with api(server, member) as client:
        client.post(
            "/v1/byok-keys",
            json={
                "provider": "anthropic",
                "name": "Claude",
                "key": "sk-ant-test-" + secrets.token_hex(8),
            },
        ).raise_for_status()
        client.post("/v1/projects", json={"name": "P", "slug": "p"}).raise_for_status()
        judge = client.post(
            "/v1/projects/p/scorers",
            json={
                "name": "Judge",
                "type": "llm_judge",
                "config": {"rubric": "Kind?", "_provider": "anthropic"},
            },
        ).json()["data"]
        suite = client.post("/v1/projects/p/suites", json={"name": "S", "slug": "s"}).json()["data"]
        client.post(
            f"/v1/suites/{suite['id']}/cases", json={"name": "Kind", "scorer_id": judge["id"]}
        ).raise_for_status()
        # The judge takes its time: the run page is seen while the run is being scored,
        # even if signing in takes a slow machine a few seconds (the server gives up on a
        # provider after 5 s).
        dashboard_fake_provider.configure(providers={"anthropic": {"latency_ms": 3500}})
        try:
            accepted = client.post(
                "/v1/run", json={"suite": "s", "output": "Sure, gladly!", "async": True}
            ).json()
            sign_in(page, server, member, start=f"/runs/{accepted['id']}")
            expect(page.locator(".verdict")).to_contain_text("Scoring…")
            expect(page.locator(".verdict")).to_contain_text("Cleared for launch", timeout=30_000)
        finally:
            dashboard_fake_provider.configure(providers={"anthropic": {"latency_ms": 0}})
    judged = page.locator("table.scores tr", has_text="Kind")
    expect(judged.locator("details.judge summary")).to_contain_text("anthropic")
    judged.locator("details.judge summary").click()
    expect(judged.locator("details.judge pre")).to_contain_text("Fake judge")
