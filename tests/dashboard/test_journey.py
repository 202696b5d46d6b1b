"""The first thing a new user does, end to end in a real browser: sign in, make a project,
a scorer of each deterministic type, a suite of three cases, run it by hand and see
"Cleared for launch"; then change a case so it fails and see "Launch aborted" with the
reason. The screenshots of the README are taken on the way."""

from __future__ import annotations

import json
import re

from playwright.sync_api import Page, expect

from tests.dashboard.live import LiveServer, api, cli_member, screenshot, sign_in

GOOD_OUTPUT = '{"answer": "Your refund is on its way.", "ticket": 42}'
TICKET_SCHEMA = {
    "type": "object",
    "required": ["answer", "ticket"],
    "properties": {"answer": {"type": "string"}, "ticket": {"type": "integer"}},
}
EMAIL_PATTERN = r"[a-z0-9._%+-]+@[a-z0-9.-]+\.[a-z]{2,}"


def create_scorer(
    page: Page,
    name: str,
    kind: str,
    fill: dict[str, str] | None = None,
    untick: tuple[str, ...] = (),
) -> None:
    form = page.locator("#scorer-form")
    form.get_by_label("Name", exact=True).fill(name)
    # The config fields of the chosen type are swapped in by htmx (choosing the type
    # already shown would reload them over what is typed next).
    if form.get_by_label("Type").input_value() != kind:
        form.get_by_label("Type").select_option(kind)
    expect(form.locator("#scorer-fields")).to_have_attribute("data-kind", kind)
    for label, value in (fill or {}).items():
        form.get_by_label(label, exact=True).fill(value)
    for label in untick:
        form.get_by_label(label, exact=True).uncheck()
    form.get_by_role("button", name="Create scorer").click()


def add_case(page: Page, name: str, scorer: str, expected: str = "") -> None:
    page.locator("#add-case summary").click()
    form = page.locator("#add-case form")
    form.get_by_label("Name", exact=True).fill(name)
    form.get_by_label("Scorer").select_option(label=scorer)
    form.get_by_label("Threshold").fill("1")
    if expected:
        form.get_by_label("Expected", exact=True).fill(expected)
    form.get_by_role("button", name="Add case").click()
    expect(page.locator("#cases tr", has_text=name)).to_be_visible()


def run_by_hand(page: Page, output: str) -> None:
    page.get_by_label("Output").fill(output)
    page.get_by_role("button", name="Run", exact=True).click()


def test_a_new_user_is_cleared_for_launch_then_aborted(page: Page, server: LiveServer) -> None:
    member = cli_member(server)  # `launchgate orgs create` and `launchgate users create`
    page.goto(server.url + "/")
    expect(page).to_have_url(re.compile(r"/sign-in"))
    sign_in(page, server, member)

    expect(page.get_by_text("No projects yet.")).to_be_visible()
    page.get_by_label("Name", exact=True).fill("Support bot")
    page.get_by_role("button", name="Create project").click()
    expect(page).to_have_url(server.url + "/projects/support-bot")
    expect(page.get_by_text("No suites yet.")).to_be_visible()
    expect(page.get_by_text("No scorers yet.")).to_be_visible()

    create_scorer(page, "Valid ticket", "json_schema", {"JSON schema": json.dumps(TICKET_SCHEMA)})
    create_scorer(page, "Mentions", "contains", untick=("Case sensitive",))
    create_scorer(
        page,
        "No email address",
        "regex",
        {"Pattern": EMAIL_PATTERN, "Flags": "i"},
        untick=("The output should match",),
    )
    create_scorer(page, "Same ticket", "exact_match")
    scorers = page.locator("#scorers tbody tr")
    expect(scorers).to_have_count(4)
    for kind in ("json_schema", "contains", "regex", "exact_match"):
        expect(scorers.filter(has_text=kind)).to_have_count(1)
    with api(server, member) as client:
        listed = client.get("/v1/projects/support-bot/scorers").json()["data"]
    configs = {s["name"]: s["config"] for s in listed}
    assert configs["Mentions"]["case_sensitive"] is False
    assert configs["No email address"] == {
        "pattern": EMAIL_PATTERN,
        "flags": "i",
        "should_match": False,
    }
    assert configs["Valid ticket"]["schema"] == TICKET_SCHEMA
    screenshot(page, "project")

    page.locator("#suite-form").get_by_label("Name", exact=True).fill("Refund replies")
    page.get_by_role("button", name="Create suite").click()
    expect(page).to_have_url(server.url + "/projects/support-bot/suites/refund-replies")
    expect(page.get_by_text("No cases yet.")).to_be_visible()
    expect(page.get_by_text("No runs yet.").first).to_be_visible()
    add_case(page, "Valid ticket JSON", "Valid ticket (json_schema)")
    add_case(page, "Offers a refund", "Mentions (contains)", expected="REFUND")
    add_case(page, "Keeps addresses private", "No email address (regex)")
    expect(page.locator("#cases tbody tr")).to_have_count(3)

    run_by_hand(page, GOOD_OUTPUT)
    verdict = page.locator("#run-result .verdict")
    expect(verdict).to_contain_text("Cleared for launch")
    expect(verdict).to_contain_text("Pass rate 100% (3/3 passed)")
    suite_url = server.url + "/projects/support-bot/suites/refund-replies"
    expect(page).to_have_url(re.compile(re.escape(suite_url) + "(#cases)?$"))  # not left
    # The runs list and the trend reload in place once the run is stored.
    expect(page.locator("#runs tbody tr")).to_have_count(1)
    expect(page.locator("svg.trend .mark-cleared")).to_have_count(1)
    screenshot(page, "suite")

    page.locator("#run-result").get_by_role("link", name=re.compile("Open run")).click()
    expect(page.locator(".verdict")).to_contain_text("Cleared for launch")
    expect(page.locator("table.scores tbody tr")).to_have_count(3)
    expect(page.locator("dl.facts")).to_contain_text("dashboard")
    expect(page.locator("dl.facts")).to_contain_text(member.email)
    screenshot(page, "run-cleared")
    page.go_back()

    # Change a case so that it fails: it now expects a word the output does not have.
    page.get_by_role("link", name="Edit: Offers a refund").click()
    expect(page.get_by_label("Expected", exact=True)).to_have_value("REFUND")
    page.get_by_label("Expected", exact=True).fill("discount")
    page.get_by_role("button", name="Save case").click()
    expect(page.locator("#cases")).to_be_visible()

    run_by_hand(page, GOOD_OUTPUT)
    expect(verdict).to_contain_text("Launch aborted")
    failing = page.locator("#run-result tr", has_text="Offers a refund")
    expect(failing).to_contain_text("failed")
    expect(failing.locator(".reason")).to_contain_text("discount")
    expect(page.locator("#runs tbody tr")).to_have_count(2)
    expect(page.locator("svg.trend .mark-aborted")).to_have_count(1)

    page.locator("#run-result").get_by_role("link", name=re.compile("Open run")).click()
    expect(page.locator(".verdict")).to_contain_text("Launch aborted")
    expect(page.locator(".verdict")).to_contain_text("2/3 passed")
    row = page.locator("table.scores tr", has_text="Offers a refund")
    expect(row).to_contain_text("0")
    expect(row.locator(".reason")).to_contain_text("discount")
    screenshot(page, "run-aborted")
