"""The value every built-in scorer returns, the error a bad config raises, and the strict
config reader all scorers share.

They live together so that "strict" means one thing everywhere: a bool is never a number,
a number is never a bool, null means "not set", and an unknown key is an error instead of
a typo that silently changes nothing.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

REASON_LIMIT = 300
PREVIEW_LIMIT = 80


@dataclass(frozen=True, slots=True)
class ScoreResult:
    """One case's score in [0, 1] with a one-line reason.

    ``error`` means the case could not be scored (it ends in error, not as a fail).
    ``precision`` and ``recall`` are set by dual-sided ``contains`` only.
    """

    score: float
    reason: str
    error: bool = False
    precision: float | None = None
    recall: float | None = None

    def __post_init__(self) -> None:
        # Normalised here so that no scorer can break the score-table contract.
        if not 0.0 <= self.score <= 1.0:  # also rejects NaN
            raise ValueError(f"score must be within [0, 1], got {self.score!r}")
        object.__setattr__(self, "score", float(self.score))
        object.__setattr__(self, "reason", one_line(self.reason))


class ScorerConfigError(ValueError):
    """Bad scorer config; `path` names the offending config key (e.g. "config.pattern")."""

    def __init__(self, message: str, path: str = "config") -> None:
        super().__init__(message)
        self.message = message
        self.path = path


def one_line(text: str, limit: int = REASON_LIMIT) -> str:
    """Flatten every kind of line break to a space and cut to `limit` characters."""
    flat = " ".join(text.splitlines())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


def preview(text: str, limit: int = PREVIEW_LIMIT) -> str:
    """Quote a value for a reason: JSON-escaped (so no raw newline) and at most `limit` chars."""
    shown = text if len(text) <= limit else text[:limit] + "…"
    return json.dumps(shown, ensure_ascii=False)


def quote_list(values: Sequence[str], limit: int = 5) -> str:
    """`"a", "b" and 3 more` — names values in a reason without letting it grow unbounded."""
    shown = ", ".join(preview(value, 40) for value in values[:limit])
    hidden = len(values) - limit
    return f"{shown} and {hidden} more" if hidden > 0 else shown


def json_type(value: object) -> str:
    """The JSON name of a value's type, for error messages users can act on."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list | tuple):
        return "array"
    if isinstance(value, dict):
        return "object"
    return type(value).__name__


# Why an empty string is refused as a value to look for, in one wording for every place.
EMPTY_VALUE = "an empty string, which every output contains, so it cannot tell outputs apart"


class ConfigReader:
    """Reads one scorer config strictly; every failure names the offending key.

    A key set to null reads as absent, so clients may send `"model": null` for "default".
    """

    def __init__(self, config: object, allowed: Iterable[str], *, scorer: str) -> None:
        if not isinstance(config, dict):
            raise ScorerConfigError(
                f"A {scorer} config must be a JSON object, got {json_type(config)}"
            )
        allowed_keys = tuple(allowed)
        for key in config:
            if key not in allowed_keys:
                raise ScorerConfigError(
                    f"Unknown key {key!r} in a {scorer} config; allowed: {', '.join(allowed_keys)}",
                    path=f"config.{key}",
                )
        self._config: dict[str, Any] = config

    def has(self, key: str) -> bool:
        """True when the key is present and not null."""
        return self._config.get(key) is not None

    def flag(self, key: str, default: bool) -> bool:
        """A boolean; 0 and 1 are numbers, not booleans."""
        value = self._config.get(key)
        if value is None:
            return default
        if not isinstance(value, bool):
            raise self._type_error(key, "a boolean (true or false)", value)
        return value

    def text(self, key: str, default: str | None = None, *, non_empty: bool = True) -> str | None:
        """A string, or `default` when absent."""
        value = self._config.get(key)
        if value is None:
            return default
        if not isinstance(value, str):
            raise self._type_error(key, "a string", value)
        if non_empty and not value:
            raise ScorerConfigError(f"config.{key} must not be empty", path=f"config.{key}")
        return value

    def required_text(self, key: str) -> str:
        """A non-empty string that must be present."""
        value = self.text(key)
        if value is None:
            raise ScorerConfigError(f"config.{key} is required", path=f"config.{key}")
        return value

    def choice(self, key: str, options: Sequence[str], default: str | None) -> str | None:
        """One string out of `options`."""
        value = self.text(key)
        if value is None:
            return default
        if value not in options:
            allowed = ", ".join(repr(option) for option in options)
            raise ScorerConfigError(
                f"config.{key} must be one of {allowed}; got {preview(value, 40)}",
                path=f"config.{key}",
            )
        return value

    def integer(
        self, key: str, default: int | None, *, minimum: int, maximum: int | None = None
    ) -> int | None:
        """A whole number within [minimum, maximum]; 2.0 and true are rejected."""
        value = self._config.get(key)
        if value is None:
            return default
        if isinstance(value, bool) or not isinstance(value, int):
            raise self._type_error(key, "an integer", value)
        self._check_range(key, value, minimum, maximum)
        return value

    def number(self, key: str, default: float, *, minimum: float, maximum: float) -> float:
        """A finite number within [minimum, maximum]; true is not 1."""
        value = self._config.get(key)
        if value is None:
            return default
        if (
            isinstance(value, bool)
            or not isinstance(value, int | float)
            or not math.isfinite(value)
        ):
            raise self._type_error(key, "a number", value)
        self._check_range(key, value, minimum, maximum)
        return float(value)

    def text_list(self, key: str) -> list[str] | None:
        """A list of non-empty strings (an empty string would be found in every output)."""
        value = self._config.get(key)
        if value is None:
            return None
        if not isinstance(value, list):
            raise self._type_error(key, "an array of strings", value)
        for index, item in enumerate(value):
            where = f"config.{key}[{index}]"
            if not isinstance(item, str):
                raise ScorerConfigError(
                    f"{where} must be a string, got {json_type(item)}", path=where
                )
            if not item:
                raise ScorerConfigError(f"{where} is {EMPTY_VALUE}; remove it", path=where)
        return list(value)

    def mapping(self, key: str) -> dict[str, Any]:
        """A required JSON object."""
        value = self._config.get(key)
        if value is None:
            raise ScorerConfigError(f"config.{key} is required", path=f"config.{key}")
        if not isinstance(value, dict):
            raise self._type_error(key, "a JSON object", value)
        return value

    @staticmethod
    def _type_error(key: str, expected: str, value: object) -> ScorerConfigError:
        return ScorerConfigError(
            f"config.{key} must be {expected}, got {json_type(value)}", path=f"config.{key}"
        )

    @staticmethod
    def _check_range(key: str, value: float, minimum: float, maximum: float | None) -> None:
        if value < minimum or (maximum is not None and value > maximum):
            bounds = (
                f"between {minimum} and {maximum}" if maximum is not None else f"at least {minimum}"
            )
            raise ScorerConfigError(
                f"config.{key} must be {bounds}, got {value}", path=f"config.{key}"
            )
