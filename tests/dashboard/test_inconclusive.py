"""Issue 13 in the dashboard: a run whose judge could not decide, made for real through the
fake provider's seeded noisy judge (``FAKE_SCORE_NORMAL``), shown as ◐ Inconclusive with its
judgements as dots; the suite's ``on_inconclusive`` and the judge's sampling settings saved
through their forms; the API's warning about sampling at temperature 0."""

from __future__ import annotations

import re
import secrets
from collections.abc import Iterator
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from launchgate.testing.fake_provider import FakeProviderServer
from tests.dashboard.live import LiveServer, Member, api, new_member, screenshot, sign_in

SEED = 1313  # tests/judge/test_adaptive_sampling.py: with it, this output is inconclusive
NOISY = "Happy to help. FAKE_SCORE_NORMAL=0.7,0.3"
ADAPTIVE = {"samples": 10, "temperature": 0.7}
BANNER = "◐ Inconclusive — the judge could not decide 1 case(s)"


@pytest.fixture(autouse=True)
def seeded(dashboard_fake_provider: FakeProviderServer) -> Iterator[FakeProviderServer]:
    dashboard_fake_provider.reset()
    dashboard_fake_provider.configure(seed=SEED)
    yield dashboard_fake_provider
    dashboard_fake_provider.reset()


def judged_suite(server: LiveServer, member: Member) -> dict[str, Any]:
    """Project ``bot``, suite ``tone`` (pass threshold 1) with one judge case at 0.7."""
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
                "config": {"rubric": "Is it polite?", "_provider": "openai", **ADAPTIVE},
            },
        )
        scorer.raise_for_status()
        suite = client.post(
            "/v1/projects/bot/suites", json={"name": "Tone", "slug": "tone", "pass_threshold": 1}
        )
        suite.raise_for_status()
        client.post(
            f"/v1/suites/{suite.json()['data']['id']}/cases",
            json={"name": "polite", "scorer_id": scorer.json()["data"]["id"], "threshold": 0.7},
        ).raise_for_status()
    data: dict[str, Any] = suite.json()["data"]
    return data


def run_by_hand(page: Page, output: str) -> None:
    page.get_by_label("Output").fill(output)
    with page.expect_response(lambda r: "/runs-panel" in r.url) as panel:
        page.get_by_role("button", name="Run", exact=True).click()
    panel.value.finished()


def described(case: dict[str, Any]) -> str:
    """The sentence the dots stand for, computed here from the run's JSON."""
    sampling = case["sampling"]
    lo, hi = sampling["interval"]
    return (
        f"{len(sampling['samples'])} judgements, mean {sampling['mean']:.2f}, "
        f"{sampling['confidence'] * 100:g}% interval {lo:.2f}–{hi:.2f}, "
        f"threshold {case['threshold']:.2f}, {case['status']}"
    )


def test_an_inconclusive_run_shows_its_dots_and_the_suite_can_make_it_abort(
    page: Page, server: LiveServer, seeded: FakeProviderServer
) -> None:
    member = new_member(server)
    suite = judged_suite(server, member)
    sign_in(page, server, member, "/projects/bot/suites/tone")
    run_by_hand(page, NOISY)

    verdict = page.locator("#run-result .verdict")
    expect(verdict).to_have_attribute("data-status", "inconclusive")
    expect(verdict).to_contain_text(BANNER)
    expect(verdict).to_contain_text("0/1 passed, 1 inconclusive")
    expect(verdict.locator(".detail")).to_contain_text("Raw outcome inconclusive")
    expect(verdict.locator(".detail")).to_contain_text("on_inconclusive: inconclusive")
    expect(verdict.locator(".detail")).to_contain_text("0% with the undecided case(s) failed")
    with api(server, member) as client:
        listed = client.get(f"/v1/suites/{suite['id']}/runs", params={"status": "inconclusive"})
        [listed_run] = listed.json()["data"]
        run = client.get(f"/v1/runs/{listed_run['id']}").json()["data"]
    case = run["scores"][0]
    assert case["status"] == "inconclusive" and len(case["sampling"]["samples"]) == 10
    picture = page.locator("#run-result svg.samples")
    expect(picture).to_have_attribute("role", "img")
    expect(picture).to_have_attribute("aria-label", described(case))
    assert re.fullmatch(
        r"10 judgements, mean 0\.\d\d, 95% interval 0\.\d\d–\d\.\d\d, threshold 0\.70, "
        r"inconclusive",
        described(case),
    )
    expect(picture.locator("circle.sample")).to_have_count(10)
    expect(picture.locator("line.threshold")).to_have_count(1)
    expect(picture.locator("rect.interval")).to_have_count(1)
    expect(page.locator("#run-result figcaption")).to_contain_text(described(case))
    expect(page.locator("#run-result figcaption")).to_contain_text("every judgement spent")

    # The runs list and the trend say it too, and the run's own page.
    expect(page.locator("#runs .badge.inconclusive")).to_have_text("inconclusive")
    expect(page.locator("svg.trend a.mark-inconclusive")).to_have_count(1)
    expect(page.locator(".legend")).to_contain_text("◐ inconclusive")
    screenshot(page, "suite-inconclusive")
    page.get_by_role("link", name=re.compile("Open run")).click()
    expect(page.locator("#run-detail .verdict")).to_contain_text(BANNER)
    expect(page.locator("#run-detail svg.samples")).to_have_attribute("aria-label", described(case))
    expect(page.locator('#run-detail tr[data-case="polite"] .badge')).to_have_text("inconclusive")
    screenshot(page, "run-inconclusive")
    page.set_viewport_size({"width": 360, "height": 800})  # the picture keeps its width
    box = page.locator("#run-detail svg.samples").bounding_box()
    assert box is not None and box["width"] >= 250, box
    page.set_viewport_size({"width": 1280, "height": 900})

    # The suite maps an undecided run to aborted; the run keeps the raw outcome.
    page.goto(server.url + "/projects/bot/suites/tone")
    page.locator("#settings summary").click()
    settings = page.locator("#settings-form")
    expect(settings.get_by_label("When the judge cannot decide")).to_have_value("inconclusive")
    settings.get_by_label("When the judge cannot decide").select_option("abort")
    settings.get_by_role("button", name="Save settings").click()
    expect(page.get_by_role("status").filter(has_text="Suite settings saved.")).to_be_visible()
    page.reload()
    expect(page.locator("#settings-on_inconclusive")).to_have_value("abort")
    expect(page.locator(".subtitle")).to_contain_text("undecided runs: abort")
    with api(server, member) as client:
        stored = client.get("/v1/projects/bot/suites/tone").json()["data"]
    assert stored["on_inconclusive"] == "abort" and stored["pass_threshold"] == 1.0

    seeded.configure(seed=SEED)  # the same draws again: undecided again
    run_by_hand(page, NOISY)
    verdict = page.locator("#run-result .verdict")
    expect(verdict).to_have_attribute("data-status", "aborted")
    expect(verdict).to_contain_text("✗ Launch aborted")
    expect(verdict.locator(".detail")).to_contain_text(
        "Raw outcome inconclusive, made aborted by the suite's on_inconclusive: abort"
    )
    expect(page.locator("#run-result svg.samples")).to_have_attribute("aria-label", described(case))


def test_suite_settings_are_refused_in_the_apis_words(page: Page, server: LiveServer) -> None:
    member = new_member(server)
    judged_suite(server, member)
    sign_in(page, server, member, "/projects/bot/suites/tone")
    page.locator("#settings summary").click()
    settings = page.locator("#settings-form")
    settings.get_by_label("Pass threshold").fill("1.5")
    settings.get_by_label("When the judge cannot decide").select_option("clear")
    settings.get_by_role("button", name="Save settings").click()
    with api(server, member) as client:
        refused = client.patch("/v1/projects/bot/suites/tone", json={"pass_threshold": 1.5})
        assert refused.status_code == 400
        stored = client.get("/v1/projects/bot/suites/tone").json()["data"]
    expect(page.locator("#settings-pass_threshold-error")).to_have_text(
        refused.json()["error"]["details"][0]["message"]
    )
    # Sent back as typed, nothing kept.
    expect(page.locator("#settings-pass_threshold")).to_have_value("1.5")
    expect(page.locator("#settings-on_inconclusive")).to_have_value("clear")
    assert stored["on_inconclusive"] == "inconclusive" and stored["pass_threshold"] == 1.0


def test_sampling_settings_are_saved_refused_and_warned_about(
    page: Page, server: LiveServer
) -> None:
    member = new_member(server)
    with api(server, member) as client:
        client.post("/v1/projects", json={"name": "Bot", "slug": "bot"}).raise_for_status()
    sign_in(page, server, member, "/projects/bot")
    form = page.locator("#scorer-form")
    form.get_by_label("Name", exact=True).fill("Polite")
    form.get_by_label("Type").select_option("llm_judge")
    expect(form.locator("#scorer-fields")).to_have_attribute("data-kind", "llm_judge")
    form.get_by_label("Rubric").fill("Is it polite?")
    form.get_by_label("Samples", exact=True).fill("10")
    form.get_by_role("button", name="Create scorer").click()
    expect(page.get_by_text("Scorer created.")).to_be_visible()

    with api(server, member) as client:
        [created] = client.get("/v1/projects/bot/scorers").json()["data"]
    assert created["config"]["samples"] == 10 and created["config"]["temperature"] == 0
    [warning] = created["warnings"]
    assert warning.startswith("samples > 1 with temperature 0")
    expect(page.locator("#scorers [data-warning]")).to_have_text("⚠ " + warning)

    page.get_by_role("link", name="Polite").click()
    expect(page).to_have_url(re.compile(r"/projects/bot/scorers/" + created["id"] + "$"))
    expect(page.locator(".alert.warning")).to_have_text("⚠ " + warning)
    form = page.locator("#scorer-form")
    expect(form.get_by_label("Samples", exact=True)).to_have_value("10")
    expect(form.get_by_label("Min samples")).to_have_value("")
    expect(form.get_by_label("Confidence")).to_have_value("")

    # More before the first look than at most: refused as PATCH /v1/scorers/{id} refuses it.
    form.get_by_label("Min samples").fill("12")
    form.get_by_role("button", name="Save scorer").click()
    with api(server, member) as client:
        refused = client.patch(
            f"/v1/scorers/{created['id']}",
            json={"config": {**created["config"], "min_samples": 12}},
        )
    assert refused.status_code == 400, refused.text
    message = refused.json()["error"]["details"][0]["message"]
    expect(page.locator("#scorer-config-min_samples-error")).to_have_text(message)
    expect(page.locator(".alert.error")).to_contain_text(refused.json()["error"]["message"])
    expect(form.get_by_label("Min samples")).to_have_value("12")
    screenshot(page, "scorer-sampling")

    form.get_by_label("Min samples").fill("4")
    form.get_by_label("Confidence").fill("0.9")
    form.get_by_label("Temperature").fill("0.7")
    form.get_by_role("button", name="Save scorer").click()
    expect(page.get_by_role("status").filter(has_text="Scorer saved.")).to_be_visible()
    page.reload()
    form = page.locator("#scorer-form")
    expect(form.get_by_label("Samples", exact=True)).to_have_value("10")
    expect(form.get_by_label("Min samples")).to_have_value("4")
    expect(form.get_by_label("Confidence")).to_have_value("0.9")
    expect(form.get_by_label("Temperature")).to_have_value("0.7")
    expect(form.get_by_label("Rubric")).to_have_value("Is it polite?")
    expect(page.locator("[data-warning]")).to_have_count(0)  # temperature above 0 now
    with api(server, member) as client:
        saved = client.get(f"/v1/scorers/{created['id']}").json()["data"]
    assert saved["warnings"] == []
    assert {k: saved["config"][k] for k in ("samples", "min_samples", "confidence")} == {
        "samples": 10,
        "min_samples": 4,
        "confidence": 0.9,
    }
    assert saved["config"]["temperature"] == 0.7


def test_the_suite_settings_edit_the_batch_settings(page: Page, server: LiveServer) -> None:
    """Issue 14's suite settings (docs/batches.md) through the same form, refused in the
    API's words."""
    member = new_member(server)
    judged_suite(server, member)
    sign_in(page, server, member, "/projects/bot/suites/tone")
    page.locator("#settings summary").click()
    settings = page.locator("#settings-form")
    expect(settings.get_by_label("Batch threshold")).to_have_value("1")
    expect(settings.get_by_label("Baseline branch")).to_have_value("main")
    settings.get_by_label("Batch threshold").fill("0.8")
    settings.get_by_label("Baseline branch").fill("trunk")
    settings.get_by_label("Abort a batch in which any case regressed").check()
    settings.get_by_role("button", name="Save settings").click()
    expect(page.get_by_role("status").filter(has_text="Suite settings saved.")).to_be_visible()
    page.reload()
    expect(page.locator("#settings-batch_threshold")).to_have_value("0.8")
    expect(page.locator("#settings-baseline_branch")).to_have_value("trunk")
    expect(page.locator("#settings-form input[name=fail_on_regression]")).to_be_checked()
    with api(server, member) as client:
        stored = client.get("/v1/projects/bot/suites/tone").json()["data"]
        refused = client.patch("/v1/projects/bot/suites/tone", json={"batch_threshold": 2})
    assert (stored["batch_threshold"], stored["baseline_branch"]) == (0.8, "trunk")
    assert stored["fail_on_regression"] is True
    page.locator("#settings summary").click()
    settings.get_by_label("Abort a batch in which any case regressed").uncheck()
    settings.get_by_label("Batch threshold").fill("2")
    settings.get_by_role("button", name="Save settings").click()
    expect(page.locator("#settings-batch_threshold-error")).to_have_text(
        refused.json()["error"]["details"][0]["message"]
    )
    with api(server, member) as client:
        kept = client.get("/v1/projects/bot/suites/tone").json()["data"]
    assert kept["batch_threshold"] == 0.8 and kept["fail_on_regression"] is True
