"""Adaptive judge sampling (issue 13): when to stop, the verdict, and the whole sequential
procedure's coverage and error rates in a seeded simulation."""

import random

import pytest

from launchgate.scorers.builtin.sampling import (
    Decision,
    decide,
    default_min_samples,
    next_batch,
    planned_looks,
    t_quantile,
)

THRESHOLD = 0.7


def test_far_above_the_threshold_passes_at_min_samples() -> None:
    d = decide([0.95, 0.97, 0.93], THRESHOLD, max_samples=10)
    assert (d.status, d.stopped) == ("passed", "decided")
    assert d.interval[0] >= THRESHOLD
    assert d.mean == pytest.approx(0.95)


def test_far_below_the_threshold_fails_at_min_samples() -> None:
    d = decide([0.1, 0.12, 0.08], THRESHOLD, max_samples=10)
    assert (d.status, d.stopped) == ("failed", "decided")
    assert d.interval[1] < THRESHOLD


def test_near_the_threshold_runs_to_max_samples_then_is_inconclusive() -> None:
    scores = [0.65, 0.75] * 5
    for n in range(3, 10):
        assert decide(scores[:n], THRESHOLD, max_samples=10).status == "continue"
        assert next_batch(n, min_samples=3, max_samples=10) == 1
    d = decide(scores, THRESHOLD, max_samples=10)
    assert (d.status, d.stopped) == ("inconclusive", "max_samples")
    assert d.interval[0] < THRESHOLD < d.interval[1]
    assert next_batch(10, min_samples=3, max_samples=10) == 0


def test_fewer_than_min_samples_continues() -> None:
    d = decide([0.99, 0.99], THRESHOLD, max_samples=10)
    assert (d.status, d.stopped, d.interval) == ("continue", None, (0.0, 1.0))


@pytest.mark.parametrize(
    ("value", "status"), [(0.8, "passed"), (0.7, "passed"), (0.69, "failed"), (0.0, "failed")]
)
def test_zero_variance_gives_a_zero_width_interval(value: float, status: str) -> None:
    d = decide([value] * 3, THRESHOLD, max_samples=10)
    expected = Decision(status, value, (value, value), 0.95, "decided", (value,) * 3)  # type: ignore[arg-type]
    assert d == expected


@pytest.mark.parametrize("score", [0.0, 0.3, 0.69999, 0.7, 0.70001, 1.0])
def test_one_sample_is_todays_rule(score: float) -> None:
    d = decide([score], THRESHOLD, max_samples=1)
    assert d.status == ("passed" if score >= THRESHOLD else "failed")
    assert d.stopped == "max_samples"
    assert next_batch(0, min_samples=1, max_samples=1) == 1
    assert next_batch(1, min_samples=1, max_samples=1) == 0


def test_no_scores_yet_continues_even_with_one_sample() -> None:
    assert decide([], THRESHOLD, max_samples=1).status == "continue"


def test_a_single_look_at_one_score_of_many_has_no_interval() -> None:
    d = decide([0.99], THRESHOLD, max_samples=5, min_samples=1)
    assert (d.status, d.interval) == ("continue", (0.0, 1.0))


def test_defaults_and_schedule() -> None:
    assert [default_min_samples(s) for s in (1, 2, 3, 10, 20)] == [1, 2, 3, 3, 3]
    assert planned_looks(3, 10) == (3, 4, 5, 6, 7, 8, 9, 10)
    assert next_batch(0, min_samples=3, max_samples=10) == 3
    assert next_batch(1, min_samples=3, max_samples=10) == 2


def test_more_looks_widen_each_interval() -> None:
    scores = [0.8, 0.85, 0.75]
    few = decide(scores, THRESHOLD, max_samples=3).interval
    many = decide(scores, THRESHOLD, max_samples=20).interval
    assert many[0] < few[0] and many[1] > few[1]


@pytest.mark.parametrize(
    ("p", "df", "want"),
    [(0.975, 1, 12.7062), (0.975, 2, 4.3027), (0.975, 9, 2.2622), (0.995, 30, 2.7500)],
)
def test_t_quantile_matches_the_tables(p: float, df: int, want: float) -> None:
    assert t_quantile(p, df) == pytest.approx(want, abs=1e-4)


@pytest.mark.parametrize(
    ("scores", "kwargs"),
    [
        ([0.5], {"max_samples": 0}),
        ([0.5], {"max_samples": 21}),
        ([0.5] * 4, {"max_samples": 3}),
        ([1.5], {"max_samples": 3}),
        ([float("nan")], {"max_samples": 3}),
        ([0.5], {"max_samples": 3, "confidence": 1.0}),
        ([0.5], {"max_samples": 3, "min_samples": 4}),
    ],
)
def test_bad_inputs_are_refused(scores: list[float], kwargs: dict[str, float]) -> None:
    with pytest.raises(ValueError):
        decide(scores, THRESHOLD, **kwargs)  # type: ignore[arg-type]


def _sequential(mu: float, rng: random.Random, max_samples: int = 10) -> tuple[str, int, bool]:
    """One case judged by the whole procedure; covered is True only if every look covered mu."""
    scores: list[float] = []
    covered = True
    while True:
        batch = next_batch(len(scores), min_samples=3, max_samples=max_samples)
        scores += [min(1.0, max(0.0, rng.gauss(mu, 0.1))) for _ in range(batch)]
        d = decide(scores, THRESHOLD, max_samples=max_samples, confidence=0.95)
        covered = covered and d.interval[0] <= mu <= d.interval[1]
        if d.status != "continue":
            return d.status, len(scores), covered


@pytest.mark.parametrize("delta", [0.0, 0.05, -0.05, 0.1, -0.1, 0.2, -0.2, 0.3, -0.3])
def test_simulation_of_the_whole_sequential_procedure(delta: float) -> None:
    rng = random.Random(1300 + round(delta * 100))
    runs = [_sequential(THRESHOLD + delta, rng) for _ in range(5000)]
    coverage = sum(covered for _, _, covered in runs) / len(runs)
    wrong_side = "failed" if delta > 0 else "passed"
    wrong = sum(status == wrong_side for status, _, _ in runs) / len(runs) if delta else 0.0
    inconclusive = sum(status == "inconclusive" for status, _, _ in runs) / len(runs)
    calls = sum(n for _, n, _ in runs) / len(runs)
    assert coverage >= 0.95  # nominal, every look included
    assert wrong <= 0.025  # the documented bound, (1 - confidence) / 2
    if abs(delta) >= 0.1:
        assert wrong <= 0.01  # the goal
    if delta == 0.0:
        assert inconclusive >= 0.90  # the goal
    if abs(delta) >= 0.2:
        # The goal (3.5) is not met by an honest t interval; docs/sampling.md says why.
        assert calls <= (6.0 if abs(delta) == 0.2 else 4.8)


def test_no_first_look_at_three_scores_decides_often_enough_for_3_5_calls() -> None:
    """docs/sampling.md: even a 95% t interval spending all of the error at the first look
    decides at mu = 0.5 (threshold 0.7, sd 0.1) only ~47% of the time, so any procedure
    that asks again when undecided averages more than 3.5 calls there."""
    rng = random.Random(1353)
    t = t_quantile(0.975, 2)
    draws = 20_000
    decided = 0
    for _ in range(draws):
        scores = [min(1.0, max(0.0, rng.gauss(0.5, 0.1))) for _ in range(3)]
        mean = sum(scores) / 3
        half = t * (sum((x - mean) ** 2 for x in scores) / 2 / 3) ** 0.5
        decided += mean - half >= THRESHOLD or mean + half < THRESHOLD
    assert 3 + (1 - decided / draws) > 3.51
