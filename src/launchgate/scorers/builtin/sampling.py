"""When to stop asking the judge, and what the case's status is (issue 13, items 1-2).

Pure arithmetic: the engine asks the judge for a batch of scores, calls :func:`decide`, and
asks for :func:`next_batch` more while the answer is ``continue``.

The method (docs/sampling.md): a Student-t confidence interval for the mean score at every
planned look, with the error rate ``1 - confidence`` split evenly across the looks
(Bonferroni). By the union bound the chance that *any* look's interval misses the true mean
is at most ``1 - confidence``, so stopping as soon as an interval clears the threshold —
optional stopping over the planned looks — keeps the stated confidence. The t interval
assumes the scores of one case are roughly normal around their mean; the simulation test
checks coverage for clipped-normal scores. A wrong verdict needs a miss, so its rate is at
most ``(1 - confidence) / 2`` on the side that matters.

Why not a distribution-free bound (Hoeffding, empirical Bernstein, the betting confidence
sequences)? For any mean in [0, 1] they must allow a small mass of scores at 0 or 1 that a
few samples never show; with ten samples or fewer they cannot separate a mean of 0.9 from a
threshold of 0.7, which would leave almost every case inconclusive.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Literal

MAX_SAMPLES = 20
DEFAULT_CONFIDENCE = 0.95
Status = Literal["passed", "failed", "inconclusive", "continue"]
Stopped = Literal["decided", "max_samples"]


@dataclass(frozen=True, slots=True)
class Decision:
    """The verdict after one look: ``stopped`` is None while the status is ``continue``;
    ``scores`` are the judgements it looked at."""

    status: Status
    mean: float
    interval: tuple[float, float]
    confidence: float
    stopped: Stopped | None
    scores: tuple[float, ...] = ()


def default_min_samples(samples: int) -> int:
    """The issue's default: judge three times at first, or ``samples`` if fewer."""
    return min(3, samples)


def planned_looks(min_samples: int, max_samples: int) -> tuple[int, ...]:
    """The sample counts at which :func:`decide` looks: ``min_samples``, then one more each."""
    _check_counts(min_samples, max_samples)
    return tuple(range(min_samples, max_samples + 1))


def next_batch(done: int, *, min_samples: int, max_samples: int) -> int:
    """How many judgements to ask for next, having made ``done`` (0 when no more are due)."""
    _check_counts(min_samples, max_samples)
    if done < min_samples:
        return min_samples - done
    return 1 if done < max_samples else 0


def decide(
    scores: Sequence[float],
    threshold: float,
    *,
    max_samples: int,
    confidence: float = 0.95,
    min_samples: int | None = None,
) -> Decision:
    """Decide after a look at ``scores`` (every judgement so far, each in [0, 1]).

    ``passed`` when the interval lies at or above ``threshold``, ``failed`` when it lies
    below, ``inconclusive`` when ``max_samples`` were spent and it still holds the
    threshold, ``continue`` otherwise. With ``max_samples`` 1 the single score decides as
    before (passed iff score >= threshold) and the interval is all of [0, 1].
    """
    low = default_min_samples(max_samples) if min_samples is None else min_samples
    _check_counts(low, max_samples)
    _check_scores(scores, max_samples)
    if not 0.0 < confidence < 1.0:
        raise ValueError(f"confidence must be within (0, 1), got {confidence!r}")
    n = len(scores)
    mean = _mean(scores)
    seen = tuple(float(x) for x in scores)
    if n < low:
        return Decision("continue", mean, (0.0, 1.0), confidence, None, seen)
    if max_samples == 1:
        status: Status = "passed" if mean >= threshold else "failed"
        return Decision(status, mean, (0.0, 1.0), confidence, "max_samples", seen)
    interval = _interval(scores, mean, (1.0 - confidence) / len(planned_looks(low, max_samples)))
    lo, hi = interval
    if lo >= threshold:
        return Decision("passed", mean, interval, confidence, "decided", seen)
    if hi < threshold:
        return Decision("failed", mean, interval, confidence, "decided", seen)
    if n >= max_samples:
        return Decision("inconclusive", mean, interval, confidence, "max_samples", seen)
    return Decision("continue", mean, interval, confidence, None, seen)


def _mean(scores: Sequence[float]) -> float:
    if not scores:
        return math.nan
    # Equal scores have exactly that mean (and zero spread), not 0.8000000000000002.
    if min(scores) == max(scores):
        return float(scores[0])
    return math.fsum(scores) / len(scores)


def _interval(scores: Sequence[float], mean: float, alpha: float) -> tuple[float, float]:
    """Two-sided 1 - alpha Student-t interval, cut to [0, 1] where every mean lies."""
    n = len(scores)
    if n < 2:  # one score says nothing about the spread
        return (0.0, 1.0)
    variance = math.fsum((x - mean) ** 2 for x in scores) / (n - 1)
    # Zero spread (temperature 0 answers alike) gives a zero-width interval: the t interval
    # says so, and the docs say sampling then means nothing.
    half = t_quantile(1.0 - alpha / 2.0, n - 1) * math.sqrt(variance / n)
    return (max(0.0, mean - half), min(1.0, mean + half))


def _check_counts(min_samples: int, max_samples: int) -> None:
    if not 1 <= max_samples <= MAX_SAMPLES:
        raise ValueError(f"max_samples must be within 1..{MAX_SAMPLES}, got {max_samples!r}")
    if not 1 <= min_samples <= max_samples:
        raise ValueError(f"min_samples must be within 1..{max_samples}, got {min_samples!r}")


def _check_scores(scores: Sequence[float], max_samples: int) -> None:
    if len(scores) > max_samples:
        raise ValueError(f"{len(scores)} scores exceed max_samples {max_samples}")
    for x in scores:
        if not 0.0 <= x <= 1.0:  # also rejects NaN
            raise ValueError(f"scores must be within [0, 1], got {x!r}")


@lru_cache(maxsize=1024)
def t_quantile(p: float, df: int) -> float:
    """The p-quantile (p >= 0.5) of Student's t with ``df`` degrees of freedom."""
    if not 0.5 <= p < 1.0 or df < 1:
        raise ValueError(f"t_quantile needs 0.5 <= p < 1 and df >= 1, got {p!r}, {df!r}")
    lo, hi = 0.0, 1.0
    while _t_cdf(hi, df) < p:
        lo, hi = hi, hi * 2.0
    for _ in range(200):  # bisection to the float's resolution
        mid = (lo + hi) / 2.0
        if mid in (lo, hi):
            break
        lo, hi = (mid, hi) if _t_cdf(mid, df) < p else (lo, mid)
    return hi


def _t_cdf(x: float, df: int) -> float:
    """P(T <= x) for x >= 0: 1 - I_{df/(df+x^2)}(df/2, 1/2) / 2."""
    return 1.0 - 0.5 * _betainc(df / 2.0, 0.5, df / (df + x * x))


def _betainc(a: float, b: float, x: float) -> float:
    """The regularised incomplete beta I_x(a, b) (Numerical Recipes, 3rd ed., §6.4)."""
    if x <= 0.0:
        return 0.0
    if x >= 1.0:
        return 1.0
    log_front = (
        math.lgamma(a + b) - math.lgamma(a) - math.lgamma(b) + a * math.log(x) + b * math.log1p(-x)
    )
    if x < (a + 1.0) / (a + b + 2.0):
        return math.exp(log_front) * _beta_fraction(a, b, x) / a
    return 1.0 - math.exp(log_front) * _beta_fraction(b, a, 1.0 - x) / b


def _beta_fraction(a: float, b: float, x: float) -> float:
    """The continued fraction of the incomplete beta, by the modified Lentz method."""
    tiny = 1e-300
    c, d = 1.0, 1.0 - (a + b) * x / (a + 1.0)
    d = 1.0 / (d if abs(d) > tiny else tiny)
    h = d
    for m in range(1, 300):
        for num in (
            m * (b - m) * x / ((a + 2 * m - 1) * (a + 2 * m)),
            -(a + m) * (a + b + m) * x / ((a + 2 * m) * (a + 2 * m + 1)),
        ):
            d = 1.0 + num * d
            d = 1.0 / (d if abs(d) > tiny else tiny)
            c = 1.0 + num / c
            c = c if abs(c) > tiny else tiny
            h *= d * c
        if abs(d * c - 1.0) < 1e-15:
            break
    return h
