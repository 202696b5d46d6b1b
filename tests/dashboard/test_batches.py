"""Issue 14 in the dashboard: a baseline batch on branch ``main`` and a current batch in
which one case regressed, made for real through the API (``contains`` scorers, so every
item's outcome is known), shown on the batch page — the verdict in the product's words,
each case's bars with the sentence they stand for (checked against the API's own Wilson
intervals, the baseline's from the baseline batch itself), the regression first with its
p- and q-value, the items paged and linked to their runs — and listed on the suite page.
A batch whose judge is slow shows its progress and follows it until the verdict."""

from __future__ import annotations

import re
import secrets
from collections.abc import Iterator
from typing import Any

import pytest
from playwright.sync_api import Browser, Page, expect

from launchgate.testing.fake_provider import FakeProviderServer
from tests.dashboard.live import LiveServer, Member, api, new_member, screenshot, sign_in

SUITE = "/projects/bot/suites/answers"


def keyed(passing: dict[str, int], n: int = 50) -> list[dict[str, Any]]:
    """n items keyed row-0…; item i says each word whose count exceeds i
    (tests/batches/test_batches_api.py)."""
    return [
        {"key": f"row-{i}", "output": " ".join(w for w, k in passing.items() if i < k) or "-"}
        for i in range(n)
    ]


def contains_suite(client: Any) -> dict[str, Any]:
    """Project ``bot``, suite ``answers`` (pass threshold 1): cases ``has alpha`` and
    ``has beta``, in that order, each a ``contains`` scorer."""
    client.post("/v1/projects", json={"name": "Bot", "slug": "bot"}).raise_for_status()
    suite = client.post(
        "/v1/projects/bot/suites", json={"name": "Answers", "slug": "answers", "pass_threshold": 1}
    )
    suite.raise_for_status()
    for word in ("alpha", "beta"):
        scorer = client.post(
            "/v1/projects/bot/scorers",
            json={"name": f"Says {word}", "type": "contains", "config": {"values": [word]}},
        )
        scorer.raise_for_status()
        client.post(
            f"/v1/suites/{suite.json()['data']['id']}/cases",
            json={
                "name": f"has {word}",
                "scorer_id": scorer.json()["data"]["id"],
                "threshold": 0.5,
            },
        ).raise_for_status()
    data: dict[str, Any] = suite.json()["data"]
    return data


def batch(client: Any, **body: Any) -> dict[str, Any]:
    answer = client.post("/v1/batches", json={"suite": "answers", "project": "bot", **body})
    assert answer.status_code in (200, 202), answer.text
    data: dict[str, Any] = answer.json()["data"]
    return data


def pct(value: float) -> str:
    return f"{value * 100:.3g}%"


def side(figures: dict[str, Any]) -> str:
    lo, hi = figures["interval"]
    return (
        f"{pct(figures['pass_rate'])} ({figures['passed']}/{figures['items']}, "
        f"95% interval {lo * 100:.3g}–{pct(hi)})"
    )


def described(case: str, current: dict[str, Any], baseline: dict[str, Any], verdict: str) -> str:
    """The sentence a case's bars stand for, from the two batches' own JSON."""
    now = next(c for c in current["cases"] if c["case"] == case)
    then = next(c for c in baseline["cases"] if c["case"] == case)
    return f"{case}: now {side(now)}; baseline {side(then)}; {verdict}"


@pytest.fixture
def batches(server: LiveServer) -> tuple[Member, dict[str, Any], dict[str, Any], list[Any]]:
    """The member, the baseline batch (main, cleared), the current batch (beta 48 → 40 of
    50: regressed; alpha 48 → 46: unchanged; aborted by fail_on_regression) and the
    current batch's items as the API lists them."""
    member = new_member(server)
    with api(server, member) as client:
        contains_suite(client)
        base = batch(
            client,
            items=keyed({"alpha": 48, "beta": 48}),
            trigger="github_action",
            trigger_meta={"branch": "main", "commit": "0123456789abcdef"},
            min_cleared=0.9,
        )
        current = batch(
            client,
            items=keyed({"alpha": 46, "beta": 40}),
            trigger="github_action",
            trigger_meta={"branch": "feature/shorter", "commit": "fedcba9876543210"},
            baseline="auto",
            min_cleared=0.5,
            fail_on_regression=True,
        )
        items = client.get(f"/v1/batches/{current['id']}/items", params={"pageSize": 100})
    assert base["status"] == "cleared" and current["status"] == "aborted"
    assert current["baseline_id"] == base["id"]
    assert [c["classification"] for c in current["comparison"]["cases"]] == [
        "unchanged",
        "regressed",
    ]
    return member, base, current, items.json()["data"]


def test_the_batch_page_puts_the_regression_first_and_links_every_item(
    page: Page,
    server: LiveServer,
    batches: tuple[Member, dict[str, Any], dict[str, Any], list[Any]],
) -> None:
    member, base, current, items = batches
    sign_in(page, server, member, SUITE)

    # The suite lists its batches newest first, each linking to its page.
    rows = page.locator("#batches tbody tr")
    expect(rows).to_have_count(2)
    expect(rows.nth(0)).to_have_attribute("data-batch", current["id"])
    expect(rows.nth(1)).to_have_attribute("data-batch", base["id"])
    expect(rows.nth(0)).to_contain_text("▼ 1 regressed")
    expect(rows.nth(0).locator(".badge")).to_have_text("aborted")
    expect(rows.nth(1)).to_contain_text("96% (48/50)")
    expect(page.locator("#batches")).to_contain_text("latest batch on branch main")
    rows.nth(0).get_by_role("link", name=current["id"]).click()
    expect(page).to_have_url(re.compile(f"/batches/{current['id']}$"))

    verdict = page.locator("#batch-detail .verdict")
    expect(verdict).to_have_attribute("data-status", "aborted")
    expect(verdict).to_contain_text("✗ Launch aborted")
    expect(verdict).to_contain_text("Pass rate 80% — 40 of 50 items cleared, at least 50% needed")
    expect(verdict).to_contain_text("10 aborted")
    expect(verdict).to_contain_text("▼ 1 case(s) regressed against the baseline")
    expect(verdict.locator(".detail")).to_have_attribute("data-raw-status", "cleared")
    expect(verdict.locator(".detail")).to_contain_text(
        "Raw outcome cleared, made aborted by fail_on_regression: 1 case(s) regressed"
    )
    expect(page.locator("#batch-detail")).not_to_have_attribute("hx-trigger", re.compile("."))

    # The cases: the regression first (beta comes second in the suite), with ▼, p and q.
    cases = page.locator("#batch-cases tbody tr")
    expect(cases).to_have_count(2)
    regressed = next(c for c in current["comparison"]["cases"] if c["case"] == "has beta")
    expect(cases.nth(0)).to_have_attribute("data-case", "has beta")
    expect(cases.nth(0)).to_have_attribute("data-classification", "regressed")
    expect(cases.nth(0).locator("td").first).to_have_text("▼ has beta")
    expect(cases.nth(0).locator(".badge")).to_have_text("▼ regressed")
    expect(cases.nth(0).locator(".p-value")).to_contain_text(f"{regressed['p_value']:.2g}")
    expect(cases.nth(0).locator(".p-value")).to_contain_text("McNemar, 50 pairs")
    expect(cases.nth(0).locator(".q-value")).to_have_text(f"{regressed['q_value']:.2g}")
    expect(cases.nth(0)).to_contain_text("−16 pts")
    expect(cases.nth(0)).to_contain_text("96% (48/50)")
    expect(cases.nth(1)).to_have_attribute("data-case", "has alpha")
    expect(cases.nth(1).locator(".badge")).to_have_text("unchanged")
    expect(cases.nth(1).locator("td").first).to_have_text("has alpha")
    # The bars' text alternative, checked against both batches' own Wilson intervals.
    for row, case, verdict_word in ((0, "has beta", "regressed"), (1, "has alpha", "unchanged")):
        picture = cases.nth(row).locator("svg.bars")
        expect(picture).to_have_attribute("role", "img")
        expect(picture).to_have_attribute(
            "aria-label", described(case, current, base, verdict_word)
        )
        expect(picture.locator("rect.bar")).to_have_count(2)
        expect(picture.locator("line.interval")).to_have_count(2)
    expect(page.locator(".baseline-note").get_by_role("link", name=base["id"])).to_have_attribute(
        "href", f"/batches/{base['id']}"
    )
    expect(page.locator(".baseline-note")).to_contain_text("branch main")
    screenshot(page, "batch-regressed")

    # The items: 20 a page in the order sent, each linking to its run by its key.
    item_rows = page.locator("#items tbody tr")
    expect(item_rows).to_have_count(20)
    by_key = {item["key"]: item for item in items}
    for i in (0, 19):
        link = item_rows.nth(i).get_by_role("link", name=f"row-{i}", exact=True)
        expect(link).to_have_attribute("href", f"/runs/{by_key[f'row-{i}']['id']}")
    expect(item_rows.nth(45 % 20)).to_contain_text("row-5")
    expect(item_rows.nth(39 % 20)).to_contain_text("cleared")
    page.get_by_role("link", name="Next →").click()
    expect(page).to_have_url(re.compile(r"\?page=2#items$"))
    expect(item_rows.first).to_have_attribute("data-key", "row-20")
    expect(item_rows.nth(19)).to_have_attribute("data-key", "row-39")
    expect(item_rows.nth(19).locator(".badge")).to_have_text("cleared")
    page.get_by_role("link", name="Next →").click()
    expect(item_rows).to_have_count(10)
    expect(item_rows.first.locator(".badge")).to_have_text("aborted")  # row-40 lacks beta
    item_rows.first.get_by_role("link", name="row-40").click()
    expect(page).to_have_url(re.compile(f"/runs/{by_key['row-40']['id']}$"))
    expect(page.locator(".batch-item")).to_have_text(f"Item row-40 of batch {current['id']}")
    expect(page.locator("#run-detail .verdict")).to_contain_text("✗ Launch aborted")
    page.locator(".batch-item").get_by_role("link", name=current["id"]).click()

    # The baseline's own page: cleared, with bars but nothing to compare.
    page.locator(".baseline-note").get_by_role("link", name=base["id"]).click()
    expect(page.locator("#batch-detail .verdict")).to_have_attribute("data-status", "cleared")
    expect(page.locator("#batch-detail .verdict")).to_contain_text("✓ Cleared for launch")
    expect(page.locator("#batch-detail .verdict")).to_contain_text("48 of 50 items cleared")
    alpha = page.locator('#batch-cases tr[data-case="has alpha"] svg.bars')
    expect(alpha).to_have_attribute("aria-label", f"has alpha: {side(base['cases'][0])}")
    expect(alpha.locator("rect.bar")).to_have_count(1)


def test_the_batch_page_fits_a_360_px_screen(
    browser: Browser,
    server: LiveServer,
    batches: tuple[Member, dict[str, Any], dict[str, Any], list[Any]],
) -> None:
    member, _, current, _ = batches
    context = browser.new_context(
        viewport={"width": 360, "height": 740}, is_mobile=True, has_touch=True
    )
    context.set_default_timeout(15_000)
    try:
        page = context.new_page()
        sign_in(page, server, member, f"/batches/{current['id']}")
        for path in (f"/batches/{current['id']}", SUITE):
            page.goto(server.url + path)
            width = page.evaluate("document.documentElement.scrollWidth")
            assert width <= 360, f"{path} is {width} px wide"
        page.goto(server.url + f"/batches/{current['id']}")
        picture = page.locator('#batch-cases tr[data-case="has beta"] svg.bars')
        picture.scroll_into_view_if_needed()
        box = picture.bounding_box()
        assert box is not None and box["width"] >= 250 and box["x"] + box["width"] <= 360, box
        screenshot(page, "batch-360px", full_page=False)
        link = page.get_by_role("link", name="row-0", exact=True)
        link.scroll_into_view_if_needed()
        expect(link).to_be_visible()
    finally:
        context.close()


def test_another_organisations_batch_is_not_found(
    page: Page,
    server: LiveServer,
    batches: tuple[Member, dict[str, Any], dict[str, Any], list[Any]],
) -> None:
    _, _, current, _ = batches
    stranger = new_member(server)
    sign_in(page, server, stranger)
    for path in (f"/batches/{current['id']}", "/batches/bat_nothing", "/batches/run_x"):
        answer = page.goto(server.url + path)
        assert answer is not None and answer.status == 404, path
        expect(page.get_by_role("heading", level=1)).to_have_text("404 — Not found")
        expect(page.locator("body")).not_to_contain_text(current["id"])


@pytest.fixture
def slow_judge(dashboard_fake_provider: FakeProviderServer) -> Iterator[FakeProviderServer]:
    dashboard_fake_provider.reset()
    dashboard_fake_provider.configure(latency_ms=2500)
    yield dashboard_fake_provider
    dashboard_fake_provider.reset()


def test_a_running_batch_shows_its_progress_until_the_verdict(
    page: Page, server: LiveServer, slow_judge: FakeProviderServer
) -> None:
    member = new_member(server)
    with api(server, member) as client:
        client.post(
            "/v1/byok-keys",
            json={"provider": "openai", "name": "judge", "key": "sk-test-" + secrets.token_hex(12)},
        ).raise_for_status()
        client.post("/v1/projects", json={"name": "Bot", "slug": "bot"}).raise_for_status()
        scorer = client.post(
            "/v1/projects/bot/scorers",
            json={
                "name": "Polite",
                "type": "llm_judge",
                "config": {"rubric": "Is it polite?", "_provider": "openai"},
            },
        )
        scorer.raise_for_status()
        suite = client.post("/v1/projects/bot/suites", json={"name": "Answers", "slug": "answers"})
        suite.raise_for_status()
        client.post(
            f"/v1/suites/{suite.json()['data']['id']}/cases",
            json={"name": "polite", "scorer_id": scorer.json()["data"]["id"], "threshold": 0.7},
        ).raise_for_status()
    sign_in(page, server, member)
    with api(server, member) as client:
        running = batch(
            client,
            items=[{"key": f"q{i}", "output": f"Sure. FAKE_SCORE=0.9 ({i})"} for i in range(3)],
            **{"async": True},
        )
    assert running["status"] == "running"
    page.goto(server.url + f"/batches/{running['id']}")
    verdict = page.locator("#batch-detail .verdict")
    expect(verdict).to_have_attribute("data-status", "running")
    expect(verdict).to_contain_text("Scoring… 0 of 3 items")
    expect(verdict.locator("progress")).to_have_attribute("max", "3")
    expect(page.locator("#batch-cases")).to_contain_text("appear when every item is scored")
    expect(page.locator("#items tbody tr")).to_have_count(3)
    expect(page.locator("#batch-detail")).to_have_attribute("hx-trigger", "every 1s")

    # The page follows the batch by itself, to the verdict.
    expect(verdict).to_have_attribute("data-status", "cleared", timeout=20_000)
    expect(verdict).to_contain_text("✓ Cleared for launch")
    expect(verdict).to_contain_text("Pass rate 100% — 3 of 3 items cleared")
    expect(page.locator("#batch-detail")).not_to_have_attribute("hx-trigger", re.compile("."))
    expect(page.locator('#batch-cases tr[data-case="polite"] svg.bars')).to_have_attribute(
        "aria-label", re.compile(r"^polite: 100% \(3/3, 95% interval 43\.9–100%\)$")
    )
    expect(page.locator("#items .badge.cleared")).to_have_count(3)
