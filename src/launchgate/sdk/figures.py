"""How a score, a threshold and a pass rate read wherever LaunchGate prints one for a
person (``launchgate run``, its JUnit report, the pytest plugin): one rule each."""

from __future__ import annotations

import math


def number(value: float) -> str:
    """A score or threshold as the API stores it (4 places): ``1.0``, ``0.75``."""
    return repr(round(float(value), 4))


def percent(pass_rate: float | None) -> str:
    """``40%``; one decimal, rounded down, when not whole — so 99.96% never reads 100%."""
    if pass_rate is None:
        return "n/a"
    value = pass_rate * 100
    if abs(value - round(value)) < 1e-9:
        return f"{round(value)}%"
    return f"{math.floor(value * 10) / 10:.1f}%"
