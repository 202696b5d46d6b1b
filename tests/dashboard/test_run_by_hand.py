"""The suite page's "Run by hand" form follows POST /v1/run's rule for an empty output:
refused, in the API's words, unless "Score even when empty" is ticked (issue 12)."""

from __future__ import annotations

from playwright.sync_api import Page, expect

from tests.dashboard.live import LiveServer, api, new_member, sign_in


def test_an_empty_output_is_refused_unless_ticked(page: Page, server: LiveServer) -> None:
    member = new_member(server)
    with api(server, member) as client:
        client.post("/v1/projects", json={"name": "Bot", "slug": "bot"}).raise_for_status()
        suite = client.post("/v1/projects/bot/suites", json={"name": "Replies", "slug": "replies"})
        suite.raise_for_status()
        scorer = client.post(
            "/v1/projects/bot/scorers",
            json={"name": "blank", "type": "regex", "config": {"pattern": "^$"}},
        )
        scorer.raise_for_status()
        client.post(
            f"/v1/suites/{suite.json()['data']['id']}/cases",
            json={"name": "says nothing", "scorer_id": scorer.json()["data"]["id"]},
        ).raise_for_status()
    sign_in(page, server, member, "/projects/bot/suites/replies")

    page.get_by_role("button", name="Run", exact=True).click()
    refused = page.locator("#run-result .alert.error")
    expect(refused).to_contain_text("output is empty")
    expect(refused).to_contain_text("allow_empty_output")

    page.get_by_label("Score even when empty").check()  # the Output box keeps its label alone
    page.get_by_role("button", name="Run", exact=True).click()
    expect(page.locator("#run-result .verdict")).to_contain_text("Cleared for launch")
    with api(server, member) as client:
        runs = client.get(f"/v1/suites/{suite.json()['data']['id']}/runs").json()
    assert runs["pagination"]["total"] == 1
    assert runs["data"][0]["trigger"] == "dashboard"
