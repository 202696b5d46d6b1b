"""The one rule for writing dollars (launchgate/sdk/money.py), as docs/cli.md states it."""

from __future__ import annotations

import pytest

from launchgate.sdk.money import usd


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (0, "$0.00"),
        (1234.5, "$1,234.50"),
        (1, "$1.00"),
        (0.5, "$0.5000"),
        (0.0123, "$0.0123"),
        (0.01, "$0.0100"),
        (0.001066, "$0.00107"),
        (0.000126, "$0.000126"),
        (0.000034, "$0.0000340"),
        (0.0000012345, "$0.00000123"),
    ],
)
def test_amounts_read_the_same_everywhere(value: float, text: str) -> None:
    assert usd(value) == text
