"""The judge's price table: USD per million tokens, per provider and model (docs/cost.md).

The table ships in the package (``prices.json``, dated by its ``as_of``); an operator's file
(``LAUNCHGATE_PRICES_FILE``, the same format) replaces it model by model: each of its
provider+model entries wins, every other shipped entry stays. Both are validated strictly:
a price that does not parse would silently bill at zero, so a bad file stops the start
with one line naming the problem (a ``SettingsError``, like any other setting).

A model the table does not name has no price: its cost is ``None``, never a guess.
"""

from __future__ import annotations

import functools
import json
import math
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from importlib import resources
from pathlib import Path
from typing import Any

from launchgate.config import SettingsError

PROVIDERS = ("openai", "anthropic", "google", "azure_openai")
PER_TOKENS = 1_000_000
UNIT = "per 1M tokens"
_TOP_KEYS = {"as_of", "currency", "unit", "models", "source"}
_PRICE_KEYS = {"input", "output", "cached_input"}


class PricesError(SettingsError):
    """The price table (shipped or the operator's) does not fit the documented format."""


@dataclass(frozen=True, slots=True)
class Price:
    """USD per million tokens; ``cached_input`` is None where the provider has no cache
    price (cached tokens are then billed as input)."""

    input: float
    output: float
    cached_input: float | None = None


@dataclass(frozen=True)
class PriceTable:
    as_of: str
    models: dict[str, dict[str, Price]]
    overridden: bool = False  # True when an operator's file replaced some entries

    def price(self, provider: str, model: str) -> Price | None:
        return self.models.get(provider, {}).get(model)

    def cost(
        self,
        provider: str,
        model: str,
        input_tokens: int,
        output_tokens: int,
        cached_input_tokens: int = 0,
    ) -> float | None:
        """What one call (or a sum of calls to one model) cost; None when the model has
        no price. ``input_tokens`` counts every input token, cached ones included, as the
        providers report them; the cached part is billed at ``cached_input``."""
        exact = self.exact_cost(provider, model, input_tokens, output_tokens, cached_input_tokens)
        return None if exact is None else float(exact)

    def exact_cost(
        self,
        provider: str,
        model: str,
        input_tokens: int,
        output_tokens: int,
        cached_input_tokens: int = 0,
    ) -> Decimal | None:
        """``cost`` in decimal arithmetic: sums of many calls and their rounding to six
        decimals come out the same whichever order the calls were added in."""
        price = self.price(provider, model)
        if price is None:
            return None
        cached = min(max(cached_input_tokens, 0), input_tokens)
        cached_rate = price.input if price.cached_input is None else price.cached_input
        return (
            (input_tokens - cached) * _dec(price.input)
            + cached * _dec(cached_rate)
            + output_tokens * _dec(price.output)
        ) / PER_TOKENS


def _dec(value: float) -> Decimal:
    """The price as written in the table (0.075, not its binary approximation)."""
    return Decimal(repr(value))


def _number(value: Any, where: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise PricesError(f"{where} must be a number, not {json.dumps(value)}")
    if value < 0:
        raise PricesError(f"{where} must not be negative ({value})")
    return float(value)


def _price(value: Any, where: str) -> Price:
    if not isinstance(value, dict):
        raise PricesError(f"{where} must be an object with input and output prices")
    unknown = set(value) - _PRICE_KEYS
    if unknown:
        raise PricesError(f"{where} has unknown fields: {', '.join(sorted(unknown))}")
    for name in ("input", "output"):
        if name not in value:
            raise PricesError(f"{where} lacks its {name} price")
    cached = value.get("cached_input")
    return Price(
        _number(value["input"], f"{where}.input"),
        _number(value["output"], f"{where}.output"),
        None if cached is None else _number(cached, f"{where}.cached_input"),
    )


def parse_table(data: Any, origin: str) -> tuple[str, dict[str, dict[str, Price]]]:
    """``(as_of, models)`` of a price document; ``PricesError`` naming ``origin`` and the
    first problem otherwise."""
    try:
        if not isinstance(data, dict):
            raise PricesError("the document must be a JSON object")
        unknown = set(data) - _TOP_KEYS
        if unknown:
            raise PricesError(f"unknown fields: {', '.join(sorted(unknown))}")
        as_of = data.get("as_of")
        try:
            date.fromisoformat(str(as_of))
        except ValueError:
            raise PricesError(f"as_of must be a date YYYY-MM-DD, not {json.dumps(as_of)}") from None
        if data.get("currency", "USD") != "USD":
            raise PricesError(f"currency must be USD, not {json.dumps(data['currency'])}")
        if data.get("unit", UNIT) != UNIT:
            raise PricesError(f"unit must be {UNIT!r}, not {json.dumps(data['unit'])}")
        models = data.get("models")
        if not isinstance(models, dict):
            raise PricesError("models must be an object of providers")
        table: dict[str, dict[str, Price]] = {}
        for provider, entries in models.items():
            if provider not in PROVIDERS:
                raise PricesError(f"models.{provider}: not a provider ({', '.join(PROVIDERS)})")
            if not isinstance(entries, dict):
                raise PricesError(f"models.{provider} must be an object of models")
            table[provider] = {
                str(model): _price(price, f"models.{provider}.{model}")
                for model, price in entries.items()
            }
        return str(as_of), table
    except PricesError as exc:
        raise PricesError(f"{origin}: {exc}") from None


def _shipped() -> tuple[str, dict[str, dict[str, Price]]]:
    text = resources.files("launchgate.billing").joinpath("prices.json").read_text("utf-8")
    return parse_table(json.loads(text), "the shipped price table")


@functools.cache
def load_prices(path: Path | None) -> PriceTable:
    """The shipped table, with the operator's file at ``path`` laid over it (its
    provider+model entries replace the shipped ones; the rest stay). Cached per path: the
    start-up call validates, and every judge call after it reads the same table."""
    as_of, models = _shipped()
    if path is None:
        return PriceTable(as_of, models)
    origin = f"LAUNCHGATE_PRICES_FILE ({path})"
    try:
        data = json.loads(Path(path).read_text("utf-8"))
    except OSError as exc:
        raise PricesError(f"{origin}: cannot be read ({exc.strerror or exc})") from None
    except (ValueError, UnicodeDecodeError) as exc:
        raise PricesError(f"{origin}: not JSON ({exc})") from None
    own_as_of, own = parse_table(data, origin)
    merged = {provider: dict(entries) for provider, entries in models.items()}
    for provider, entries in own.items():
        merged.setdefault(provider, {}).update(entries)
    return PriceTable(own_as_of, merged, overridden=True)
