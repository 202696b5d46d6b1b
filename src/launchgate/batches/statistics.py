"""PURE statistics of batches and their comparison (issue 14; method in docs/batches.md).

Every figure a user acts on — a case's pass rate interval, the difference from the baseline
with its interval, the p-value and the false-discovery control — is computed here, from
counts, with the standard library only: exact tests by sums of binomial coefficients
(``math.comb``, exact integers), score intervals from the normal quantile
(``statistics.NormalDist``). Why not ``scipy.stats``: these are a few closed forms, while
scipy and numpy would add about 100 MB to the install and tens of MB to the server's
resident size (issue 17 budgets 120 MB). The tests check every function against
``scipy.stats`` (a development dependency) and against published values.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from fractions import Fraction
from statistics import NormalDist
from typing import Literal

Interval = tuple[float, float]
Classification = Literal["regressed", "improved", "unchanged", "new", "removed"]
FDR_LEVEL = 0.05


def _z(confidence: float) -> float:
    if not 0.0 < confidence < 1.0:
        raise ValueError(f"confidence must be within (0, 1), got {confidence!r}")
    return NormalDist().inv_cdf(0.5 + confidence / 2.0)


def wilson(successes: int, trials: int, confidence: float = 0.95) -> Interval:
    """Wilson's score interval for a proportion (Wilson, JASA 22, 1927): honest at small
    n and at 0 % and 100 %, where the textbook Wald interval collapses to a point."""
    _check_count(successes, trials)
    if trials == 0:
        return (0.0, 1.0)
    z = _z(confidence)
    p = successes / trials
    z2n = z * z / trials
    centre = (p + z2n / 2.0) / (1.0 + z2n)
    half = z * math.sqrt(p * (1.0 - p) / trials + z2n / (4.0 * trials)) / (1.0 + z2n)
    # The exact ends: at 0 successes the lower end is 0, not -1e-17.
    lo = 0.0 if successes == 0 else max(0.0, centre - half)
    hi = 1.0 if successes == trials else min(1.0, centre + half)
    return (lo, hi)


def newcombe_unpaired(
    current: tuple[int, int], baseline: tuple[int, int], confidence: float = 0.95
) -> Interval:
    """The interval of ``p_current - p_baseline`` for independent samples, each
    ``(successes, trials)``: Newcombe's hybrid score method 10 (Stat Med 17:873, 1998),
    built from the two Wilson intervals."""
    (k1, n1), (k2, n2) = current, baseline
    if n1 == 0 or n2 == 0:
        return (-1.0, 1.0)
    p1, p2 = k1 / n1, k2 / n2
    l1, u1 = wilson(k1, n1, confidence)
    l2, u2 = wilson(k2, n2, confidence)
    d = p1 - p2
    lo = d - math.sqrt((p1 - l1) ** 2 + (u2 - p2) ** 2)
    hi = d + math.sqrt((u1 - p1) ** 2 + (p2 - l2) ** 2)
    return (max(-1.0, lo), min(1.0, hi))


@dataclass(frozen=True, slots=True)
class Pairs:
    """Items matched by key: how each case fared in the baseline and the current batch.
    ``both`` passed twice, ``lost`` passed in the baseline only, ``gained`` passed now
    only, ``neither`` failed twice."""

    both: int
    lost: int
    gained: int
    neither: int

    @property
    def total(self) -> int:
        return self.both + self.lost + self.gained + self.neither


def newcombe_paired(pairs: Pairs, confidence: float = 0.95) -> Interval:
    """The interval of ``p_current - p_baseline`` for paired items: Newcombe's method 10
    for paired data (Stat Med 17:2635, 1998): the two Wilson intervals combined with the
    phi correlation of the 2x2 table (0 when a margin is empty)."""
    n = pairs.total
    if n == 0:
        return (-1.0, 1.0)
    a, b, c, d = pairs.both, pairs.lost, pairs.gained, pairs.neither
    k_current, k_baseline = a + c, a + b
    p1, p2 = k_current / n, k_baseline / n
    l1, u1 = wilson(k_current, n, confidence)
    l2, u2 = wilson(k_baseline, n, confidence)
    margins = (a + b) * (c + d) * (a + c) * (b + d)
    phi = (a * d - b * c) / math.sqrt(margins) if margins else 0.0
    diff = p1 - p2
    delta = (p1 - l1) ** 2 - 2.0 * phi * (p1 - l1) * (u2 - p2) + (u2 - p2) ** 2
    epsilon = (u1 - p1) ** 2 - 2.0 * phi * (u1 - p1) * (p2 - l2) + (p2 - l2) ** 2
    lo = diff - math.sqrt(max(0.0, delta))
    hi = diff + math.sqrt(max(0.0, epsilon))
    return (max(-1.0, lo), min(1.0, hi))


def mcnemar_exact(pairs: Pairs) -> float:
    """McNemar's exact test: under no change, each discordant pair is as likely to be a
    loss as a gain, so the smaller of the two counts is a Binomial(lost + gained, 1/2)
    tail; two-sided by doubling (the distribution is symmetric), capped at 1."""
    discordant = pairs.lost + pairs.gained
    if discordant == 0:
        return 1.0
    smaller = min(pairs.lost, pairs.gained)
    # C(d, i) for i = 0..smaller, each from the one before (an exact division): one
    # multiplication of a big integer by a small one per term, where computing each
    # coefficient afresh cost 2.5 s at 10,000 discordant pairs.
    term = total = 1
    for i in range(smaller):
        term = term * (discordant - i) // (i + 1)
        total += term
    return float(min(Fraction(1), Fraction(2 * total, 2**discordant)))


def fisher_exact(current: tuple[int, int], baseline: tuple[int, int]) -> float:
    """Fisher's exact test, two-sided, on ``(successes, trials)`` of two independent
    samples: the probability, given the margins, of every table at most as likely as
    the one observed. Computed with exact integers, so tables of equal probability are
    recognised exactly rather than within a floating-point tolerance."""
    (k1, n1), (k2, n2) = current, baseline
    _check_count(k1, n1)
    _check_count(k2, n2)
    successes = k1 + k2
    if n1 == 0 or n2 == 0 or successes in (0, n1 + n2):
        return 1.0
    # P(X = x) is proportional to C(n1, x) C(n2, successes - x), x the current successes.
    # Each weight from the one before, by the exact division of the ratio of consecutive
    # terms: computing every coefficient afresh cost 11 s at 10,000 items a side.
    low, high = max(0, successes - n2), min(successes, n1)
    weight = math.comb(n1, low) * math.comb(n2, successes - low)
    weights = [weight]
    for x in range(low, high):
        weight = weight * (n1 - x) * (successes - x) // ((x + 1) * (n2 - successes + x + 1))
        weights.append(weight)
    observed = weights[k1 - low]
    extreme = sum(w for w in weights if w <= observed)
    return float(min(Fraction(1), Fraction(extreme, sum(weights))))


def benjamini_hochberg(p_values: Sequence[float]) -> list[float]:
    """Benjamini–Hochberg adjusted p-values (q-values), in the input's order: a case is a
    discovery at false-discovery rate q when its adjusted value is at most q (JRSS B 57,
    1995). Each is min over j >= its rank of p_(j) * m / j, capped at 1."""
    m = len(p_values)
    for p in p_values:
        if not 0.0 <= p <= 1.0:  # also rejects NaN
            raise ValueError(f"p-values must be within [0, 1], got {p!r}")
    order = sorted(range(m), key=lambda i: p_values[i])
    adjusted = [0.0] * m
    running = 1.0
    for rank in range(m, 0, -1):
        index = order[rank - 1]
        running = min(running, p_values[index] * m / rank)
        adjusted[index] = running
    return adjusted


def classify(difference: float, q_value: float, level: float = FDR_LEVEL) -> Classification:
    """``regressed`` / ``improved`` when the change is a discovery at ``level``,
    ``unchanged`` otherwise."""
    if q_value <= level and difference < 0:
        return "regressed"
    if q_value <= level and difference > 0:
        return "improved"
    return "unchanged"


def _check_count(successes: int, trials: int) -> None:
    if trials < 0 or not 0 <= successes <= trials:
        raise ValueError(f"need 0 <= successes <= trials, got {successes}/{trials}")
