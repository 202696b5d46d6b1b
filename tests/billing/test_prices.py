"""The price table (docs/cost.md): the shipped one parses and is dated, the arithmetic is
tokens × price / 1e6 with cached input at its own price, an operator's file replaces
entries model by model, and a bad file is refused with one line naming it."""

from __future__ import annotations

import json
import subprocess
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from launchgate.billing.prices import PricesError, load_prices
from launchgate.config import Settings, SettingsError
from launchgate.testing.fleet import BIN


def write(tmp_path: Path, data: Any) -> Path:
    path = tmp_path / "prices.json"
    path.write_text(data if isinstance(data, str) else json.dumps(data))
    return path


def test_the_shipped_table_is_dated_and_prices_every_default_judge_model() -> None:
    table = load_prices(None)
    assert date.fromisoformat(table.as_of) <= date.today()
    for provider, model in Settings(env="test").judge_models().items():
        if model is not None:  # azure_openai's model is the customer's deployment name
            assert table.price(provider, model) is not None, (provider, model)
    assert set(table.models) == {"openai", "anthropic", "google", "azure_openai"}


def test_cost_is_tokens_times_price_per_million_with_cached_input_apart() -> None:
    table = load_prices(None)
    # gpt-4o: 2.5 input, 1.25 cached input, 10 output per 1M tokens.
    assert table.cost("openai", "gpt-4o", 1_000_000, 0) == 2.5
    assert table.cost("openai", "gpt-4o", 1000, 500, 400) == pytest.approx(
        (600 * 2.5 + 400 * 1.25 + 500 * 10.0) / 1e6, abs=1e-15
    )
    assert table.cost("openai", "gpt-unknown", 10, 10) is None
    assert table.cost("nowhere", "gpt-4o", 10, 10) is None


def test_an_operators_file_replaces_its_models_and_keeps_the_others(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        {
            "as_of": "2026-01-31",
            "models": {
                "openai": {"gpt-4o": {"input": 1.0, "output": 2.0}},
                "google": {"house": {"input": 0.5, "output": 0.5, "cached_input": 0.1}},
            },
        },
    )
    table = load_prices(path)
    assert table.overridden and table.as_of == "2026-01-31"
    assert table.cost("openai", "gpt-4o", 1000, 1000, 1000) == pytest.approx(3e-3)  # no cache price
    assert table.cost("google", "house", 1000, 0, 500) == pytest.approx(3e-4)
    shipped = load_prices(None)
    assert table.price("openai", "gpt-4o-mini") == shipped.price("openai", "gpt-4o-mini")
    assert table.price("anthropic", "claude-sonnet-4-20250514") is not None


@pytest.mark.parametrize(
    ("document", "says"),
    [
        ("{not json", "not JSON"),
        ([], "must be a JSON object"),
        ({"models": {}}, "as_of must be a date"),
        ({"as_of": "2026-13-01", "models": {}}, "as_of must be a date"),
        ({"as_of": "2026-01-01", "models": {}, "extra": 1}, "unknown fields: extra"),
        ({"as_of": "2026-01-01", "currency": "EUR", "models": {}}, "currency must be USD"),
        ({"as_of": "2026-01-01", "unit": "per token", "models": {}}, "unit must be"),
        ({"as_of": "2026-01-01"}, "models must be an object"),
        ({"as_of": "2026-01-01", "models": {"mistral": {}}}, "models.mistral: not a provider"),
        (
            {"as_of": "2026-01-01", "models": {"openai": {"m": {"input": 1}}}},
            "models.openai.m lacks its output price",
        ),
        (
            {"as_of": "2026-01-01", "models": {"openai": {"m": {"input": "1", "output": 1}}}},
            'models.openai.m.input must be a number, not "1"',
        ),
        (
            {"as_of": "2026-01-01", "models": {"openai": {"m": {"input": -1, "output": 1}}}},
            "must not be negative",
        ),
        (
            {"as_of": "2026-01-01", "models": {"openai": {"m": {"input": 1, "output": 1, "x": 1}}}},
            "unknown fields: x",
        ),
    ],
)
def test_a_bad_file_is_refused_with_one_line_naming_it(
    tmp_path: Path, document: Any, says: str
) -> None:
    path = write(tmp_path, document)
    with pytest.raises(PricesError) as caught:
        load_prices(path)
    message = str(caught.value)
    assert isinstance(caught.value, SettingsError)
    assert message.startswith(f"LAUNCHGATE_PRICES_FILE ({path}): ") and says in message
    assert "\n" not in message


def test_a_missing_file_is_refused(tmp_path: Path) -> None:
    with pytest.raises(PricesError, match="cannot be read"):
        load_prices(tmp_path / "absent.json")


def test_serve_refuses_to_start_on_a_bad_price_file(tmp_path: Path) -> None:
    """Like any other bad setting: one line, exit 2, before listening."""
    path = write(tmp_path, {"as_of": "2026-01-01", "models": {"openai": {"m": {"input": 1}}}})
    done = subprocess.run(
        [str(BIN), "serve", "--port", "0", "--data-dir", str(tmp_path / "data")],
        env={"PATH": "/usr/bin:/bin", "LAUNCHGATE_PRICES_FILE": str(path), "HOME": str(tmp_path)},
        capture_output=True,
        text=True,
        timeout=20,
        check=False,
    )
    assert done.returncode == 2, done.stdout + done.stderr
    assert "LAUNCHGATE_PRICES_FILE" in done.stderr and "lacks its output price" in done.stderr
    assert "Traceback" not in done.stderr
