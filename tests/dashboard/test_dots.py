"""The sampled case's picture and the trend chart's inconclusive mark are pure functions of
a run's JSON: what they draw, where, and the sentence that stands in for the picture."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

from starlette.datastructures import ImmutableMultiDict

from launchgate.dashboard import dots
from launchgate.dashboard.chart import points_of, trend_svg
from launchgate.dashboard.scorer_form import FIELDS, scorer_update, values_of


def entry(samples: list[float], status: str = "inconclusive", **extra: Any) -> dict[str, Any]:
    return {
        "case": "tone",
        "status": status,
        "threshold": 0.7,
        "score": round(sum(samples) / len(samples), 4),
        "sampling": {
            "samples": samples,
            "mean": round(sum(samples) / len(samples), 4),
            "interval": [0.6213, 0.8049],
            "confidence": 0.95,
            "stopped": "max_samples",
        }
        | extra,
    }


TEN = [0.71, 0.9, 0.55, 0.71, 0.8, 0.62, 0.74, 0.66, 0.71, 0.7]


def test_the_sentence_names_every_fact_the_picture_shows() -> None:
    case = entry(TEN)
    assert dots.summary(case["sampling"], 0.7, "inconclusive") == (
        "10 judgements, mean 0.71, 95% interval 0.62–0.80, threshold 0.70, inconclusive"
    )
    assert "99.9% interval" in dots.summary(case["sampling"] | {"confidence": 0.999}, 0.7, "x")


def test_every_judgement_is_a_dot_beside_the_interval_and_the_threshold() -> None:
    svg = str(dots.samples_svg(entry(TEN)))
    assert svg.count('class="sample"') == 10
    assert 'role="img"' in svg and 'aria-label="10 judgements, mean 0.71' in svg
    threshold = re.search(r'class="threshold" x1="([\d.]+)"', svg)
    assert threshold and float(threshold[1]) == dots.LEFT + 0.7 * (
        dots.WIDTH - dots.LEFT - dots.RIGHT
    )
    bar = re.search(r'class="interval" x="([\d.]+)" y="[\d.]+" width="([\d.]+)"', svg)
    assert bar is not None
    lo = (float(bar[1]) - dots.LEFT) / (dots.WIDTH - dots.LEFT - dots.RIGHT)
    hi = (float(bar[1]) + float(bar[2]) - dots.LEFT) / (dots.WIDTH - dots.LEFT - dots.RIGHT)
    assert abs(lo - 0.6213) < 0.005 and abs(hi - 0.8049) < 0.005
    # The three scores of 0.71 are stacked apart, not drawn on top of each other.
    at = re.findall(r'class="sample" cx="([\d.]+)" cy="([\d.]+)"', svg)
    same = {cy for cx, cy in at if abs(float(cx) - dots._x(0.71)) < 0.05}
    assert len(same) == 3


def test_one_judgement_or_none_draws_nothing() -> None:
    assert dots.samples_svg(entry([0.8])) is None
    unsampled = {"case": "x", "status": "passed", "threshold": 1, "sampling": None}
    assert dots.samples_svg(unsampled) is None
    assert dots.samples_svg({"case": "x", "status": "passed", "threshold": 1}) is None


def test_text_in_the_picture_is_escaped() -> None:
    svg = str(dots.samples_svg(entry(TEN, status='"><script>')))
    assert "<script>" not in svg and "&lt;script&gt;" in svg


def test_an_inconclusive_run_is_a_final_mark_of_its_own() -> None:
    start = datetime(2025, 3, 1, tzinfo=UTC)
    runs: list[tuple[str, str, float | None, datetime]] = [
        ("run_a", "cleared", 1.0, start),
        ("run_b", "inconclusive", 0.0, start.replace(minute=1)),
        ("run_c", "aborted", 0.0, start.replace(minute=2)),
    ]
    svg = str(trend_svg(points_of(runs), 1.0))
    assert re.findall(r'class="mark mark-(\w+)"', svg) == ["cleared", "inconclusive", "aborted"]
    assert "1 cleared, 1 inconclusive, 1 not; pass threshold 100%" in svg


def test_a_stored_judge_config_fills_the_form_and_keeps_what_it_does_not_show() -> None:
    stored = {
        "rubric": "Polite?",
        "_provider": "openai",
        "temperature": 0.7,
        "samples": 10,
        "min_samples": 4,
        "confidence": 0.9,
        "cache_ttl_s": 600,
    }
    shown = values_of("llm_judge", "Tone", stored, False, (None, None))
    assert shown["config.samples"] == "10" and shown["config.min_samples"] == "4"
    assert shown["config.confidence"] == "0.9" and shown["config.temperature"] == "0.7"
    assert "config.cache_ttl_s" not in shown  # no field for it
    # min_samples emptied: the key goes (the API's default applies); cache_ttl_s stays.
    form = ImmutableMultiDict({**shown, "config.min_samples": ""})
    body = scorer_update(form, "llm_judge", stored)
    assert body.config is not None
    assert "min_samples" not in body.config and body.config["cache_ttl_s"] == 600
    assert {f.name for f in FIELDS["llm_judge"]} >= {"samples", "min_samples", "confidence"}
