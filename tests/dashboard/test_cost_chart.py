"""The month's judge-spend chart is a pure function of the usage answer's ``by_day``: a
slot for every day of the month, bar heights in proportion on a round scale, tooltips and
the one-sentence summary, and the money format shared with the CLI."""

from __future__ import annotations

import re
from datetime import date

import pytest

from launchgate.cli.run.report import usd as cli_usd
from launchgate.dashboard.spend import (
    BOTTOM,
    HEIGHT,
    TOP,
    case_cost,
    days_of,
    run_cost,
    scale_top,
    spend_svg,
    summary,
    usd,
)

TODAY = date(2025, 2, 14)
BY_DAY = [
    {"date": "2025-02-03", "cost_usd": 0.012, "calls": 4},
    {"date": "2025-02-10", "cost_usd": 0.03, "calls": 9},
    {"date": "2025-01-31", "cost_usd": 5.0, "calls": 100},  # last month: not drawn
]


def test_every_day_of_the_month_gets_a_slot_and_other_months_are_left_out() -> None:
    days = days_of(BY_DAY, TODAY)
    assert [d.day for d in days] == [date(2025, 2, n) for n in range(1, 29)]
    assert days[2].cost_usd == 0.012 and days[2].calls == 4
    assert days[9].cost_usd == 0.03 and sum(d.calls for d in days) == 13
    assert len(days_of([], date(2024, 2, 1))) == 29  # a leap year's February


def test_bars_stand_on_a_round_scale_in_proportion() -> None:
    svg = str(spend_svg(days_of(BY_DAY, TODAY)))
    assert scale_top(0.03) == 0.05
    bars = dict(
        re.findall(
            r'data-date="([\d-]+)" data-cost="[^"]+"><title>[^<]*</title>'
            r'<rect class="spend" x="[\d.]+" y="([\d.]+)"',
            svg,
        )
    )
    assert sorted(bars) == ["2025-02-03", "2025-02-10"]
    floor, span = HEIGHT - BOTTOM, HEIGHT - BOTTOM - TOP
    assert float(bars["2025-02-10"]) == pytest.approx(floor - span * 0.03 / 0.05, abs=0.05)
    assert float(bars["2025-02-03"]) == pytest.approx(floor - span * 0.012 / 0.05, abs=0.05)
    assert re.findall(r'class="tick"[^>]*>([^<]+)<', svg) == ["$0.00", "$0.0250", "$0.0500"]
    assert "<title>2025-02-10: $0.0300 in 9 calls</title>" in svg


def test_the_summary_is_the_picture_in_words() -> None:
    days = days_of(BY_DAY, TODAY)
    text = summary(days)
    assert text == (
        "Judge spend in February 2025: $0.0420 in 13 calls over 2 days; highest $0.0300 "
        "on 2025-02-10"
    )
    assert f'aria-label="{text}"' in str(spend_svg(days))


def test_an_empty_month_draws_nothing() -> None:
    days = days_of([], TODAY)
    assert spend_svg(days) is None
    assert summary(days) == "No judge spend in February 2025"


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (0.0, "$0.00"),
        (0.0123, "$0.0123"),
        (0.00012, "$0.000120"),
        (0.000034, "$0.0000340"),
        (0.5, "$0.5000"),
        (1234.5, "$1,234.50"),
    ],
)
def test_money_reads_the_same_in_the_dashboard_and_the_cli(value: float, text: str) -> None:
    assert usd(value) == cli_usd(value) == text


USAGE = {
    "provider": "openai",
    "model": "gpt-4o",
    "calls": 3,
    "input_tokens": 1200,
    "output_tokens": 90,
    "cached_input_tokens": 200,
    "estimated_input_tokens": 1100,
}


def test_a_run_costs_what_the_cli_says_and_only_when_judged() -> None:
    judged = {"case": "tone", "scorer_type": "llm_judge", "cost_usd": 0.0123, "usage": USAGE}
    plain = {"case": "refund", "scorer_type": "contains"}
    assert run_cost({"scores": [judged, plain], "cost_usd": 0.0123}) == "$0.0123"
    assert run_cost({"scores": [plain], "cost_usd": 0.0}) is None
    unpriced = {**judged, "cost_usd": None, "usage": {**USAGE, "model": "gpt-x"}}
    assert run_cost({"scores": [unpriced, judged], "cost_usd": None}) == (
        "unknown (no price for openai/gpt-x)"
    )


def test_a_judged_case_shows_its_cost_tokens_and_calls() -> None:
    case = {"cost_usd": 0.0123, "usage": USAGE}
    assert case_cost(case) == "$0.0123 · 1,200 in (200 cached) / 90 out tokens · 3 judge calls"
    cached = {
        "cost_usd": 0.0,
        "usage": {
            **USAGE,
            "calls": 0,
            "input_tokens": 0,
            "output_tokens": 0,
            "cached_input_tokens": 0,
        },
    }
    assert case_cost(cached) == "$0.00 · 0 in / 0 out tokens · cached verdict, no call"
    refused = {**cached, "status": "error", "error": {"code": "JUDGE_BUDGET_EXCEEDED"}}
    assert case_cost(refused) == "$0.00 · 0 in / 0 out tokens · no judge call"
    assert case_cost({"cost_usd": None, "usage": {**USAGE, "cached_input_tokens": 0}}) == (
        "unknown (no price for this model) · 1,200 in / 90 out tokens · 3 judge calls"
    )
    assert case_cost({"case": "refund", "scorer_type": "contains"}) is None
