"""The batch statistics (``launchgate.batches.statistics``) against an independent
reference: ``scipy.stats`` (a development dependency only) over generated counts, and the
values Newcombe published for his interval."""

from __future__ import annotations

import math
import random
from fractions import Fraction

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats

from launchgate.batches.statistics import (
    Pairs,
    benjamini_hochberg,
    classify,
    fisher_exact,
    mcnemar_exact,
    newcombe_paired,
    newcombe_unpaired,
    wilson,
)

counts = st.integers(0, 400).flatmap(lambda n: st.tuples(st.integers(0, n), st.just(n)))


@given(counts, st.sampled_from([0.8, 0.9, 0.95, 0.99]))
def test_wilson_matches_scipy(count: tuple[int, int], confidence: float) -> None:
    k, n = count
    lo, hi = wilson(k, n, confidence)
    if n == 0:
        assert (lo, hi) == (0.0, 1.0)
        return
    ref = stats.binomtest(k, n).proportion_ci(confidence_level=confidence, method="wilson")
    assert lo == pytest.approx(ref.low, abs=1e-12) and hi == pytest.approx(ref.high, abs=1e-12)
    assert 0.0 <= lo <= k / n <= hi <= 1.0


@given(st.integers(0, 300), st.integers(0, 300))
def test_mcnemar_is_the_exact_binomial_test_on_discordant_pairs(lost: int, gained: int) -> None:
    pairs = Pairs(both=10, lost=lost, gained=gained, neither=5)
    if lost + gained == 0:
        assert mcnemar_exact(pairs) == 1.0
        return
    ref = stats.binomtest(min(lost, gained), lost + gained, 0.5).pvalue
    assert mcnemar_exact(pairs) == pytest.approx(ref, rel=1e-9, abs=1e-300)


def _fisher_by_definition(current: tuple[int, int], baseline: tuple[int, int]) -> float:
    """Every table's weight computed afresh from its binomial coefficients: what
    ``fisher_exact`` computes term from term, exactly."""
    (k1, n1), (k2, n2) = current, baseline
    successes = k1 + k2
    if n1 == 0 or n2 == 0 or successes in (0, n1 + n2):
        return 1.0
    low, high = max(0, successes - n2), min(successes, n1)
    weights = [math.comb(n1, x) * math.comb(n2, successes - x) for x in range(low, high + 1)]
    observed = weights[k1 - low]
    extreme = sum(w for w in weights if w <= observed)
    return float(min(Fraction(1), Fraction(extreme, sum(weights))))


def _mcnemar_by_definition(lost: int, gained: int) -> float:
    discordant = lost + gained
    if discordant == 0:
        return 1.0
    tail = sum(math.comb(discordant, i) for i in range(min(lost, gained) + 1))
    return float(min(Fraction(1), Fraction(2 * tail, 2**discordant)))


@settings(max_examples=300)
@given(counts, counts)
def test_fisher_is_exactly_its_definition(
    current: tuple[int, int], baseline: tuple[int, int]
) -> None:
    # Equal, not approximately: ties between tables are decided on the same integers.
    assert fisher_exact(current, baseline) == _fisher_by_definition(current, baseline)


@given(st.integers(0, 600), st.integers(0, 600))
def test_mcnemar_is_exactly_its_definition(lost: int, gained: int) -> None:
    pairs = Pairs(both=3, lost=lost, gained=gained, neither=4)
    assert mcnemar_exact(pairs) == _mcnemar_by_definition(lost, gained)


def test_the_exact_tests_take_the_batch_limit() -> None:
    # 10,000 items a side (LAUNCHGATE_MAX_BATCH_ITEMS' maximum), where computing every
    # coefficient afresh took seconds: the same answers as scipy's.
    current, baseline = (5_000, 10_000), (4_800, 10_000)
    ref = stats.fisher_exact([[5_000, 5_000], [4_800, 5_200]]).pvalue
    assert fisher_exact(current, baseline) == pytest.approx(ref, rel=1e-6)
    pairs = Pairs(both=0, lost=4_900, gained=5_100, neither=0)
    assert mcnemar_exact(pairs) == pytest.approx(
        stats.binomtest(4_900, 10_000, 0.5).pvalue, rel=1e-9
    )


@settings(max_examples=300)
@given(counts, counts)
def test_fisher_matches_scipy(current: tuple[int, int], baseline: tuple[int, int]) -> None:
    (k1, n1), (k2, n2) = current, baseline
    ours = fisher_exact(current, baseline)
    if n1 == 0 or n2 == 0:
        assert ours == 1.0
        return
    ref = stats.fisher_exact([[k1, n1 - k1], [k2, n2 - k2]]).pvalue
    assert ours == pytest.approx(ref, rel=1e-6, abs=1e-300)


@given(st.lists(st.floats(0.0, 1.0), min_size=1, max_size=60))
def test_benjamini_hochberg_matches_scipy(p_values: list[float]) -> None:
    ref = stats.false_discovery_control(p_values, method="bh")
    assert benjamini_hochberg(p_values) == pytest.approx(list(ref), abs=1e-12)


@pytest.mark.parametrize(
    ("current", "baseline", "published"),
    [
        # Newcombe, Stat Med 17:873 (1998), Table II, method 10.
        ((56, 70), (48, 80), (0.0524, 0.3339)),
        ((9, 10), (3, 10), (0.1705, 0.8090)),
        ((6, 7), (2, 7), (0.0582, 0.8062)),
        ((5, 56), (0, 29), (-0.0381, 0.1926)),
        ((0, 10), (0, 20), (-0.1611, 0.2775)),
        ((10, 10), (0, 20), (0.6791, 1.0)),
    ],
)
def test_the_unpaired_difference_interval_gives_newcombes_published_values(
    current: tuple[int, int], baseline: tuple[int, int], published: tuple[float, float]
) -> None:
    lo, hi = newcombe_unpaired(current, baseline)
    assert (round(lo, 4), round(hi, 4)) == published


@pytest.mark.parametrize(("p_base", "p_current"), [(0.9, 0.9), (0.96, 0.6), (0.5, 0.7)])
def test_the_paired_difference_interval_covers_at_about_its_level(
    p_base: float, p_current: float
) -> None:
    """Simulated: 50 items whose two outcomes share a latent draw (positively correlated,
    as the same input scored twice is); the interval covers the true difference in at least
    93% of 2,000 batches (nominal 95%; Newcombe reports coverage close to nominal)."""
    rng = random.Random(1414)
    covered = 0
    for _ in range(2000):
        both = lost = gained = neither = 0
        for _ in range(50):
            u = rng.random()
            before, after = u < p_base, u < p_current
            if rng.random() < 0.2:  # some items change independently
                after = rng.random() < p_current
            both += before and after
            lost += before and not after
            gained += after and not before
            neither += not before and not after
        lo, hi = newcombe_paired(Pairs(both, lost, gained, neither))
        covered += lo <= p_current - p_base <= hi
    assert covered / 2000 >= 0.93


def _pairs(base_pass: int, current_pass: int, n: int = 50) -> Pairs:
    """Items that pass now passed before too (the most concordant table possible)."""
    both = min(base_pass, current_pass)
    return Pairs(
        both=both,
        lost=base_pass - both,
        gained=current_pass - both,
        neither=n - max(base_pass, current_pass),
    )


def test_the_issues_constructed_regression_is_regressed_paired_and_unpaired() -> None:
    paired = mcnemar_exact(_pairs(48, 30))
    unpaired = fisher_exact((30, 50), (48, 50))
    # Independent references: 18 discordant pairs all lost, p = 2 / 2**18; Fisher via scipy.
    assert paired == pytest.approx(2 / 2**18)
    assert unpaired == pytest.approx(stats.fisher_exact([[30, 20], [48, 2]]).pvalue)
    for p in (paired, unpaired):
        assert classify(-0.36, benjamini_hochberg([p, 1.0, 0.5])[0]) == "regressed"
    assert newcombe_paired(_pairs(48, 30))[1] < 0 and newcombe_unpaired((30, 50), (48, 50))[1] < 0


def test_the_issues_constructed_small_drop_is_unchanged() -> None:
    paired = mcnemar_exact(_pairs(48, 46))
    unpaired = fisher_exact((46, 50), (48, 50))
    assert paired == pytest.approx(0.5)  # 2 discordant pairs, both lost: 2 * 1/4
    assert unpaired == pytest.approx(stats.fisher_exact([[46, 4], [48, 2]]).pvalue)
    for p in (paired, unpaired):
        assert classify(-0.04, p) == "unchanged"


def test_classification_needs_a_discovery_and_a_direction() -> None:
    assert classify(0.2, 0.01) == "improved"
    assert classify(-0.2, 0.05) == "regressed"
    assert classify(-0.2, 0.051) == "unchanged"
    assert classify(0.0, 0.0) == "unchanged"


@pytest.mark.parametrize(
    "bad",
    [lambda: wilson(3, 2), lambda: wilson(-1, 2), lambda: benjamini_hochberg([1.2])],
)
def test_impossible_counts_are_refused(bad: object) -> None:
    with pytest.raises(ValueError):
        bad()  # type: ignore[operator]
