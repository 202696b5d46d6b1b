"""Editing in the browser: forms refuse what the API refuses, in the API's words, next to
the field; cases are added, edited, switched off, reordered and deleted in place; a suite
is made from a template; the runs list and the trend chart mark cleared, aborted and
error runs; a run shows its trigger and trigger_meta."""

from __future__ import annotations

from typing import Any

from playwright.sync_api import Page, expect

from tests.dashboard.live import LiveServer, Member, api, new_member, sign_in


def api_error(
    server: LiveServer, member: Member, path: str, body: dict[str, Any]
) -> dict[str, Any]:
    with api(server, member) as client:
        response = client.post(path, json=body)
    assert response.status_code in (400, 409), response.text
    error: dict[str, Any] = response.json()["error"]
    return error


def scorer_form(page: Page, name: str, kind: str) -> Any:
    form = page.locator("#scorer-form")
    form.get_by_label("Name", exact=True).fill(name)
    # Choosing the type already shown would reload its fields over what is typed next.
    if form.get_by_label("Type").input_value() != kind:
        form.get_by_label("Type").select_option(kind)
    expect(form.locator("#scorer-fields")).to_have_attribute("data-kind", kind)
    return form


def test_scorer_forms_refuse_in_the_apis_words(page: Page, server: LiveServer) -> None:
    member = new_member(server)
    with api(server, member) as client:
        client.post("/v1/projects", json={"name": "P", "slug": "p"}).raise_for_status()
    sign_in(page, server, member, start="/projects/p")

    form = scorer_form(page, "Broken regex", "regex")
    form.get_by_label("Pattern").fill("(unclosed")
    form.get_by_role("button", name="Create scorer").click()
    expected = api_error(
        server,
        member,
        "/v1/projects/p/scorers",
        {
            "name": "Broken regex",
            "type": "regex",
            "config": {"pattern": "(unclosed", "should_match": True},
        },
    )
    error = page.locator("#scorer-config-pattern-error")
    expect(error).to_have_text(expected["details"][0]["message"])
    expect(page.locator("#scorers .alert.error")).to_have_text(expected["message"])
    # The form comes back as it was sent: same type, same pattern.
    expect(page.locator("#scorer-fields")).to_have_attribute("data-kind", "regex")
    expect(page.locator("#scorer-form").get_by_label("Pattern")).to_have_value("(unclosed")

    form = scorer_form(page, "Bad schema", "json_schema")
    form.get_by_label("JSON schema").fill('{"type": "nope"}')
    form.get_by_role("button", name="Create scorer").click()
    expected = api_error(
        server,
        member,
        "/v1/projects/p/scorers",
        {"name": "Bad schema", "type": "json_schema", "config": {"schema": {"type": "nope"}}},
    )
    expect(page.locator("#scorer-config-schema-error")).to_have_text(
        expected["details"][0]["message"]
    )

    form = scorer_form(page, "Not JSON", "json_schema")
    form.get_by_label("JSON schema").fill("{nope")
    form.get_by_role("button", name="Create scorer").click()
    expect(page.locator("#scorer-config-schema-error")).to_contain_text("not valid JSON")

    form = scorer_form(page, "Both ways", "contains")
    form.get_by_label("Dual-sided", exact=False).check()
    form.get_by_label("Mode").select_option("any")
    form.get_by_role("button", name="Create scorer").click()
    expected = api_error(
        server,
        member,
        "/v1/projects/p/scorers",
        {
            "name": "Both ways",
            "type": "contains",
            "dual_sided": True,
            "config": {"mode": "any", "case_sensitive": True, "should_contain": True},
        },
    )
    expect(page.locator("#scorer-config-mode-error")).to_have_text(
        expected["details"][0]["message"]
    )

    form = scorer_form(page, "Judge", "llm_judge")
    form.get_by_label("Rubric").fill("Is it kind?")
    form.get_by_label("Temperature").fill("warm")
    form.get_by_role("button", name="Create scorer").click()
    expected = api_error(
        server,
        member,
        "/v1/projects/p/scorers",
        {
            "name": "Judge",
            "type": "llm_judge",
            "config": {
                "rubric": "Is it kind?",
                "_provider": "openai",
                "temperature": "warm",
                "samples": 1,
            },
        },
    )
    expect(page.locator("#scorer-config-temperature-error")).to_have_text(
        expected["details"][0]["message"]
    )

    scorer_form(page, "Exact", "exact_match").get_by_role("button", name="Create scorer").click()
    expect(page.locator("#scorers tbody tr")).to_have_count(1)
    scorer_form(page, "Exact", "exact_match").get_by_role("button", name="Create scorer").click()
    expected = api_error(
        server, member, "/v1/projects/p/scorers", {"name": "Exact", "type": "exact_match"}
    )
    expect(page.locator("#scorer-name-error")).to_have_text(expected["message"])
    expect(page.locator("#scorers tbody tr")).to_have_count(1)  # nothing half-made


def test_cases_in_place_and_the_apis_words(page: Page, server: LiveServer) -> None:
    member = new_member(server)
    with api(server, member) as client:
        client.post("/v1/projects", json={"name": "P", "slug": "p"}).raise_for_status()
        client.post(
            "/v1/projects/p/scorers", json={"name": "Same", "type": "exact_match"}
        ).raise_for_status()
        client.post("/v1/projects/p/suites", json={"name": "S", "slug": "s"}).raise_for_status()
    sign_in(page, server, member, start="/projects/p/suites/s")
    expect(page.get_by_text("No cases yet.")).to_be_visible()

    page.locator("#add-case summary").click()
    add = page.locator("#add-case form")
    add.get_by_label("Name", exact=True).fill("Bad threshold")
    add.get_by_label("Scorer").select_option(label="Same (exact_match)")
    add.get_by_label("Threshold").fill("1.5")
    add.get_by_role("button", name="Add case").click()
    with api(server, member) as client:
        suite_id = client.get("/v1/projects/p/suites/s").json()["data"]["id"]
        scorer_id = client.get("/v1/projects/p/scorers").json()["data"][0]["id"]
    expected = api_error(
        server,
        member,
        f"/v1/suites/{suite_id}/cases",
        {"name": "Bad threshold", "scorer_id": scorer_id, "threshold": 1.5},
    )
    expect(page.locator("#f-threshold-error")).to_have_text(expected["details"][0]["message"])
    expect(page.get_by_text("No cases yet.")).to_be_visible()

    # Three cases: a structural (JSON) expectation, a text one, and one to delete.
    add = page.locator("#add-case form")
    add.get_by_label("Name", exact=True).fill("Same object")
    add.get_by_label("Threshold").fill("1")
    add.get_by_label("Expected is").select_option("json")
    add.get_by_label("Expected", exact=True).fill('{"ok": true, "n": 1}')
    add.get_by_role("button", name="Add case").click()
    for name in ("Same text", "Doomed"):
        page.locator("#add-case summary").click()
        add = page.locator("#add-case form")
        add.get_by_label("Name", exact=True).fill(name)
        add.get_by_label("Scorer").select_option(label="Same (exact_match)")
        add.get_by_label("Expected", exact=True).fill("never")
        add.get_by_role("button", name="Add case").click()
    rows = page.locator("#cases tbody tr")
    expect(rows).to_have_count(3)

    page.on("dialog", lambda dialog: dialog.accept())
    page.get_by_role("button", name="Delete: Doomed").click()
    expect(rows).to_have_count(2)
    page.get_by_role("button", name="Move up: Same text").click()
    expect(rows.first).to_have_attribute("data-case", "Same text")
    page.get_by_role("button", name="Move down: Same text").click()
    expect(rows.first).to_have_attribute("data-case", "Same object")
    page.get_by_role("switch", name="Active: Same text").click()
    expect(page.get_by_role("switch", name="Active: Same text")).to_have_attribute(
        "aria-checked", "false"
    )
    with api(server, member) as client:
        cases = client.get(f"/v1/suites/{suite_id}/cases").json()["data"]
    assert [(c["name"], c["is_active"]) for c in cases] == [
        ("Same object", True),
        ("Same text", False),
    ]
    assert cases[0]["expected"] == {"ok": True, "n": 1}

    # The run skips the inactive case; the JSON expectation is compared structurally.
    page.get_by_label("Output").fill('{"n": 1, "ok": true}')
    page.get_by_label("Run input (JSON object, optional)").fill('{"lang": "en"}')
    page.get_by_role("button", name="Run", exact=True).click()
    expect(page.locator("#run-result .verdict")).to_contain_text("Cleared for launch")
    expect(page.locator("#run-result .verdict")).to_contain_text("(1/1 passed)")

    page.get_by_label("Run input (JSON object, optional)").fill("[1, 2]")
    page.get_by_role("button", name="Run", exact=True).click()
    with api(server, member) as client:
        refused = client.post("/v1/run", json={"suite": "s", "output": "x", "input": [1, 2]})
    message = refused.json()["error"]["details"][0]["message"]
    expect(page.locator("#run-result .alert.error")).to_contain_text(message)

    page.get_by_role("switch", name="Active: Same object").click()
    expect(page.get_by_role("switch", name="Active: Same object")).to_have_attribute(
        "aria-checked", "false"
    )
    page.get_by_label("Run input (JSON object, optional)").fill("")
    page.get_by_role("button", name="Run", exact=True).click()
    expect(page.locator("#run-result .alert.error")).to_have_text(
        "Suite 's' has no active cases to run"
    )


def test_a_suite_from_a_template_and_its_runs(page: Page, server: LiveServer) -> None:
    member = new_member(server)
    with api(server, member) as client:
        client.post("/v1/projects", json={"name": "P", "slug": "p"}).raise_for_status()
    sign_in(page, server, member, start="/projects/p")
    template = page.locator("#template-form")
    template.get_by_label("Template").select_option("classification")
    template.get_by_role("button", name="Create from template").click()
    expect(page.locator("h1")).to_have_text("Classification")
    expect(page.locator("#cases tbody tr")).not_to_have_count(0)

    with api(server, member) as client:
        suite = client.get("/v1/projects/p/suites/classification").json()["data"]
        cases = client.get(f"/v1/suites/{suite['id']}/cases").json()["data"]
        assert len(cases) == suite["case_count"] > 0
        client.post(
            "/v1/run",
            json={
                "suite": "classification",
                "output": "nonsense",
                "trigger": "github_action",
                "trigger_meta": {"commit": "9f2c1e7d4b", "pull_request": 17},
            },
        ).raise_for_status()
        # A judge case with no BYOK key ends in error: the third kind of mark.
        judge = client.post(
            "/v1/projects/p/scorers",
            json={
                "name": "Judge",
                "type": "llm_judge",
                "config": {"rubric": "Kind?", "_provider": "openai"},
            },
        ).json()["data"]
        client.post(
            f"/v1/suites/{suite['id']}/cases", json={"name": "Judged", "scorer_id": judge["id"]}
        ).raise_for_status()
        errored = client.post("/v1/run", json={"suite": "classification", "output": "x"}).json()
        assert errored["status"] == "error"
    page.reload()
    runs = page.locator("#runs tbody tr")
    expect(runs).to_have_count(2)
    expect(page.locator("svg.trend .mark-error")).to_have_count(1)
    expect(page.locator("svg.trend .mark-aborted")).to_have_count(1)
    expect(runs.nth(1)).to_contain_text("github_action")
    expect(runs.nth(1)).to_contain_text("9f2c1e7d4b")
    expect(page.locator("svg.trend title").first).to_contain_text("last 2 runs")

    runs.nth(1).get_by_role("link").click()
    expect(page.locator(".verdict")).to_contain_text("Launch aborted")
    facts = page.locator("dl.facts")
    expect(facts).to_contain_text("github_action")
    expect(facts).to_contain_text("commit")
    expect(facts).to_contain_text("9f2c1e7d4b")
    expect(facts).to_contain_text("pull_request")
    page.go_back()
    runs.first.get_by_role("link").click()
    expect(page.locator(".verdict")).to_contain_text("Run ended in error")
    expect(page.locator("table.scores tr", has_text="Judged")).to_contain_text(
        "No active BYOK key for provider openai"
    )
