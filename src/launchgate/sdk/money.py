"""How LaunchGate writes an amount of US dollars, everywhere it shows one (the CLI, the PR
comment, the dashboard, the server's budget messages): one rule, so the same cost never
reads two ways."""

from __future__ import annotations

import math


def usd(value: float) -> str:
    """Cents from a dollar up (``$1,234.50``), four places down to a cent (``$0.0123``), and
    below a cent three significant digits (``$0.00107``, ``$0.000126``): one judge call of a
    cheap model costs a few ten-thousandths of a cent, and must neither read ``$0.0000``
    nor lose a quarter of its value to rounding."""
    if value == 0:
        return "$0.00"
    if value >= 1:
        return f"${value:,.2f}"
    if value >= 0.01:
        return f"${value:.4f}"
    places = 2 - math.floor(math.log10(value))
    return f"${value:.{places}f}"
