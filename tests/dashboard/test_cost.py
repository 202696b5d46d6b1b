"""Issue 16 in the dashboard, against a real server judging through the fake provider: the
run page shows the run's judge cost and each judged case's cost, tokens and calls (an
unpriced model named, never guessed); Settings → Usage shows this month's judge spend as a
chart of every day, by provider and model, and the budget with the API's 80% warning;
Settings → Organisation lets an owner set and remove ``judge_budget_usd_monthly`` (refused
in the API's words), shows it read-only to a member, and refuses a member's forged form.

Every expected figure comes from the API's own JSON for the same runs, formatted here."""

from __future__ import annotations

import calendar
import json
import re
import secrets
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from launchgate.cli.operations import create_user
from launchgate.sdk.money import usd
from launchgate.testing.fake_provider import FakeProviderServer
from tests.dashboard.live import (
    PASSWORD,
    LiveServer,
    Member,
    _run,
    api,
    new_member,
    screenshot,
    sign_in,
)

UNPRICED = "gpt-unpriced-model"


@dataclass
class Judged:
    """An organisation with one priced and one unpriced judged run, and both as stored."""

    member: Member
    priced: dict[str, Any]
    unpriced: dict[str, Any]


def _ok(response: Any) -> dict[str, Any]:
    assert response.is_success, response.text
    data: dict[str, Any] = response.json()["data"]
    return data


def _suite(client: Any, slug: str, cases: list[tuple[str, str, float]]) -> None:
    suite = _ok(client.post("/v1/projects/bot/suites", json={"name": slug.title(), "slug": slug}))
    for name, scorer_id, threshold in cases:
        _ok(
            client.post(
                f"/v1/suites/{suite['id']}/cases",
                json={"name": name, "scorer_id": scorer_id, "threshold": threshold},
            )
        )


@pytest.fixture(scope="module")
def judged(server: LiveServer, dashboard_fake_provider: FakeProviderServer) -> Judged:
    """Suite ``tone``: a judge on gpt-4o (priced) and a ``contains`` case; suite ``odd``:
    a judge on a model with no price. One run of each, through the API, with the fake
    provider as it starts (another module's seed or latency reset)."""
    dashboard_fake_provider.reset()
    member = new_member(server)
    with api(server, member) as client:
        _ok(
            client.post(
                "/v1/byok-keys",
                json={
                    "provider": "openai",
                    "name": "judge",
                    "key": "sk-test-" + secrets.token_hex(12),
                },
            )
        )
        _ok(client.post("/v1/projects", json={"name": "Bot", "slug": "bot"}))

        def scorer(name: str, kind: str, config: dict[str, Any]) -> str:
            body = {"name": name, "type": kind, "config": config}
            return str(_ok(client.post("/v1/projects/bot/scorers", json=body))["id"])

        polite = scorer("Polite", "llm_judge", {"rubric": "Is it polite?", "_provider": "openai"})
        odd = scorer(
            "Odd", "llm_judge", {"rubric": "Is it odd?", "_provider": "openai", "model": UNPRICED}
        )
        refund = scorer("Refund", "contains", {"values": ["refund"]})
        _suite(client, "tone", [("polite", polite, 0.5), ("refund", refund, 1.0)])
        _suite(client, "odd", [("odd", odd, 0.5)])
        runs = {}
        for slug in ("tone", "odd"):
            answer = client.post(
                "/v1/run",
                json={"suite": slug, "output": "Your refund is on its way. FAKE_SCORE=0.9"},
            )
            assert answer.status_code == 200, answer.text
            runs[slug] = _ok(client.get(f"/v1/runs/{answer.json()['id']}"))
    return Judged(member, runs["tone"], runs["odd"])


def money(value: float) -> str:
    """As docs/cli.md says amounts read (tested on its own in tests/sdk/test_money.py)."""
    return usd(value)


def test_the_run_page_shows_what_the_judge_cost(
    page: Page, server: LiveServer, judged: Judged
) -> None:
    run = judged.priced
    polite, refund = run["scores"]
    usage = polite["usage"]
    assert run["cost_usd"] > 0 and run["cost_usd"] == polite["cost_usd"]
    assert usage["calls"] == 1 and usage["model"] == "gpt-4o" and refund.get("usage") is None

    sign_in(page, server, judged.member, f"/runs/{run['id']}")
    expect(page.locator(".verdict .run-cost")).to_have_text(f"Judge cost {money(run['cost_usd'])}")
    expect(page.locator('tr[data-case="polite"] .case-cost')).to_have_text(
        f"Judge cost {money(polite['cost_usd'])} · {usage['input_tokens']:,} in / "
        f"{usage['output_tokens']:,} out tokens · 1 judge call"
    )
    expect(page.locator('tr[data-case="refund"] .case-cost')).to_have_count(0)
    screenshot(page, "run-cost")

    odd = judged.unpriced
    assert odd["cost_usd"] is None and odd["scores"][0]["cost_usd"] is None
    page.goto(f"{server.url}/runs/{odd['id']}")
    expect(page.locator(".verdict .run-cost")).to_have_text(
        f"Judge cost unknown (no price for openai/{UNPRICED})"
    )
    expect(page.locator('tr[data-case="odd"] .case-cost')).to_contain_text(
        "Judge cost unknown (no price for this model) · "
    )


def _usage(server: LiveServer, member: Member) -> dict[str, Any]:
    with api(server, member) as client:
        answer = client.get("/v1/billing/usage")
    assert answer.status_code == 200, answer.text
    spend: dict[str, Any] = answer.json()["judge_spend"]
    return spend


def test_the_usage_page_charts_the_month_and_warns_near_the_budget(
    page: Page, server: LiveServer, judged: Judged
) -> None:
    spend = _usage(server, judged.member)
    today = datetime.now(UTC).date()
    [day] = spend["by_day"]
    # Both runs of the fixture at least (the batch test may have added its items already,
    # when pytest-xdist ran it first in this process).
    assert day["date"] == today.isoformat() and day["calls"] >= 2
    assert spend["month_usd"] >= judged.priced["cost_usd"] and spend["warning"] is None

    sign_in(page, server, judged.member, "/settings/usage")
    expect(page.locator("#spend-month")).to_have_text(money(spend["month_usd"]))
    expect(page.locator("#spend-budget")).to_contain_text("none")
    expect(page.locator("#budget-warning")).to_have_count(0)
    chart = page.locator("svg.spend")
    expect(chart).to_have_attribute(
        "aria-label",
        f"Judge spend in {calendar.month_name[today.month]} {today.year}: "
        f"{money(spend['month_usd'])} in {day['calls']} calls over 1 day; highest "
        f"{money(day['cost_usd'])} on {today.isoformat()}",
    )
    expect(chart.locator("g.day")).to_have_count(1)
    expect(chart.locator(f'g.day[data-date="{today.isoformat()}"] rect.spend')).to_have_count(1)
    rows = {row["model"]: row for row in spend["by_model"]}
    priced = page.locator('#spend-by-model tr[data-model="openai/gpt-4o"]')
    expect(priced.locator('td[data-label="Calls"]')).to_have_text(str(rows["gpt-4o"]["calls"]))
    expect(priced.locator('td[data-label="Cost"]')).to_have_text(money(rows["gpt-4o"]["cost_usd"]))
    unpriced = page.locator(f'#spend-by-model tr[data-model="openai/{UNPRICED}"]')
    expect(unpriced.locator('td[data-label="Cost"]')).to_have_text(
        "unknown — no price for this model"
    )

    # A budget the month has spent 90% of: the API's warning, word for word.
    budget = round(spend["month_usd"] / 0.9, 6)
    with api(server, judged.member) as client:
        _ok(client.patch("/v1/organization", json={"judge_budget_usd_monthly": budget}))
    spend = _usage(server, judged.member)
    assert spend["warning"] and spend["budget_used"] == pytest.approx(0.9, abs=1e-3)
    page.reload()
    expect(page.locator("#budget-warning")).to_have_text(spend["warning"])
    expect(page.locator("#budget-warning")).to_have_class(re.compile(r"\bwarning\b"))
    expect(page.locator("#spend-budget")).to_have_text(
        f"{money(budget)} ({spend['budget_used'] * 100:.4g}% used)"
    )
    expect(page.locator("#budget-progress")).to_have_attribute("max", str(budget))
    screenshot(page, "usage-judge-spend")
    with api(server, judged.member) as client:
        _ok(client.patch("/v1/organization", json={"judge_budget_usd_monthly": None}))


def _api_refusal(server: LiveServer, member: Member, value: Any) -> str:
    with api(server, member) as client:
        answer = client.patch("/v1/organization", json={"judge_budget_usd_monthly": value})
    assert answer.status_code == 400, answer.text
    message: str = answer.json()["error"]["message"]
    # The API names the field in the request body; the form has no body, only the field.
    return message.removeprefix("body.")


def _budget(server: LiveServer, member: Member) -> Any:
    with api(server, member) as client:
        return _ok(client.get("/v1/organization"))["judge_budget_usd_monthly"]


def test_an_owner_sets_and_removes_the_budget_refused_in_the_apis_words(
    page: Page, server: LiveServer
) -> None:
    owner = new_member(server)
    sign_in(page, server, owner, "/settings/usage")
    page.get_by_role("navigation", name="Settings").get_by_role("link", name="Organisation").click()
    expect(page.locator("#org-budget")).to_have_text("none")
    field = page.get_by_label("Budget (USD a month)")

    for typed, sent in (("0", 0), ("2000000", 2_000_000), ("ten", "ten")):
        field.fill(typed)
        page.get_by_role("button", name="Save budget").click()
        expect(page.get_by_role("alert")).to_have_text(_api_refusal(server, owner, sent))
        expect(page.get_by_label("Budget (USD a month)")).to_have_value(typed)
        assert _budget(server, owner) is None

    page.get_by_label("Budget (USD a month)").fill("25")
    page.get_by_role("button", name="Save budget").click()
    expect(page.locator(".alert.notice")).to_have_text(
        "Judge budget saved. It applies to this month's spend at once."
    )
    expect(page.locator("#org-budget")).to_have_text("$25.00 a month")
    assert _budget(server, owner) == 25.0
    page.goto(server.url + "/settings/usage")
    expect(page.locator("#spend-budget")).to_have_text("$25.00 (0% used)")

    page.goto(server.url + "/settings/organization")
    page.get_by_role("button", name="Remove budget").click()
    expect(page.locator(".alert.notice")).to_have_text(
        "Judge budget removed: the judge may spend without limit."
    )
    expect(page.locator("#org-budget")).to_have_text("none")
    assert _budget(server, owner) is None
    page.get_by_role("link", name="Audit log").click()
    expect(page.locator("tbody")).to_contain_text("judge_budget")


def test_a_member_sees_the_budget_but_cannot_change_it(page: Page, server: LiveServer) -> None:
    owner = new_member(server)
    with api(server, owner) as client:
        _ok(client.patch("/v1/organization", json={"judge_budget_usd_monthly": 12.5}))
    email = f"member-{uuid.uuid4().hex[:8]}@example.com"
    _run(create_user(server.settings(), owner.org_id, email, PASSWORD, "member"))
    member = Member(owner.org_id, owner.api_key, email)

    sign_in(page, server, member, "/settings/organization")
    expect(page.locator("#org-budget")).to_have_text("$12.50 a month")
    expect(page.locator("#budget-read-only")).to_be_visible()
    expect(page.locator("#budget-form")).to_have_count(0)

    # A form forged with this session's own CSRF token is still refused, and changes nothing.
    token = json.loads(page.locator("body").get_attribute("hx-headers") or "{}")["X-CSRF-Token"]
    forged = page.request.post(
        server.url + "/settings/organization",
        form={"csrf_token": token, "judge_budget_usd_monthly": "1000", "action": "save"},
    )
    assert forged.status == 403
    assert "Only an owner of the organisation may change its settings" in forged.text()
    assert _budget(server, owner) == 12.5

    # Without the token it is the CSRF refusal, as for every form.
    bare = page.request.post(
        server.url + "/settings/organization", form={"judge_budget_usd_monthly": "1000"}
    )
    assert bare.status == 403 and "CSRF" in bare.text()
    assert _budget(server, owner) == 12.5


def test_the_batch_page_shows_what_its_items_cost(
    page: Page, server: LiveServer, judged: Judged
) -> None:
    items = [{"key": k, "output": "Your refund is on its way. FAKE_SCORE=0.9"} for k in "ab"]
    with api(server, judged.member) as client:
        answer = client.post("/v1/batches", json={"suite": "tone", "items": items})
        assert answer.status_code in (200, 202), answer.text
        batch = answer.json()["data"]
        for _ in range(200):
            if batch["status"] != "running":
                break
            time.sleep(0.05)
            batch = _ok(client.get(f"/v1/batches/{batch['id']}"))
    assert batch["status"] == "cleared" and batch["cost_usd"] > 0
    sign_in(page, server, judged.member, f"/batches/{batch['id']}")
    expect(page.locator(".verdict .batch-cost")).to_have_text(
        f"Judge cost {money(batch['cost_usd'])}"
    )
