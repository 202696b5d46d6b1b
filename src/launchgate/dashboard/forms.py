"""From an HTML form to the API's own request models, and from the API's errors back to
messages next to the fields.

A form only converts what a browser cannot type as JSON (numbers, booleans, lists, JSON
text); every rule is then checked by the same pydantic model and the same service the API
uses, so a form and a request are refused for the same reasons, in the same words.
A value that does not even parse is handed over as typed, so the model's message ("Input
should be a valid number") is the one the user reads.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from pydantic import ValidationError
from starlette.datastructures import ImmutableMultiDict

from launchgate.errors import Conflict, LaunchGateError, ValidationFailed

# A submitted form, or the query string of an htmx GET: the same reading applies to both.
Fields = ImmutableMultiDict[str, Any]


class FormError(Exception):
    """One field could not be read at all (say, JSON that does not parse)."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field
        self.message = message


# What a form refuses, in the API's words: pydantic's (400), ours (400, 409), or input that
# could not be read. The page shows them with the form; anything else is an error page.
REFUSALS = (ValidationError, FormError, ValidationFailed, Conflict)


@dataclass
class FormErrors:
    """``message`` as the API's error message; ``fields`` maps a form field to its error."""

    message: str | None = None
    fields: dict[str, str] = field(default_factory=dict)

    def __bool__(self) -> bool:
        return bool(self.message or self.fields)

    def get(self, name: str) -> str | None:
        """The error of ``name`` or of anything inside it (``config.schema.$schema`` is
        shown next to ``config.schema``)."""
        if name in self.fields:
            return self.fields[name]
        for key, message in self.fields.items():
            if key.startswith(name + "."):
                return message
        return None

    @classmethod
    def of(cls, exc: Exception) -> FormErrors:
        if isinstance(exc, ValidationError):
            return cls._pydantic(exc)
        if isinstance(exc, FormError):
            return cls(f"{exc.field}: {exc.message}", {exc.field: exc.message})
        if isinstance(exc, LaunchGateError):
            return cls._ours(exc)
        raise TypeError(f"not a form error: {type(exc).__name__}")

    @classmethod
    def _pydantic(cls, exc: ValidationError) -> FormErrors:
        fields: dict[str, str] = {}
        for err in exc.errors():
            name = ".".join(str(part) for part in err.get("loc", ()))
            fields.setdefault(name, str(err.get("msg", "invalid")))
        first = next(iter(fields.items()), ("", "invalid"))
        return cls(f"{first[0]}: {first[1]}" if first[0] else first[1], fields)

    @classmethod
    def _ours(cls, exc: LaunchGateError) -> FormErrors:
        fields: dict[str, str] = {}
        details = exc.details
        if isinstance(details, dict) and isinstance(details.get("field"), str):
            fields[details["field"]] = exc.message
        elif isinstance(details, list):
            for item in details:
                if isinstance(item, dict) and isinstance(item.get("field"), str):
                    fields.setdefault(item["field"], str(item.get("message", exc.message)))
        return cls(exc.message, fields)


def text(form: Fields, name: str) -> str:
    """A field as typed. Browsers send a textarea's line breaks as CRLF (HTML spec); they
    are turned back into the LF the user typed, or every multi-line output would differ
    from the same text sent through the API."""
    value = form.get(name)
    return value.replace("\r\n", "\n") if isinstance(value, str) else ""


def optional_text(form: Fields, name: str) -> str | None:
    """Empty means "not given": the model's default applies, as when a JSON body omits it."""
    return text(form, name).strip() or None


def checkbox(form: Fields, name: str) -> bool:
    return name in form


def number(form: Fields, name: str) -> float | str | None:
    raw = text(form, name).strip()
    if not raw:
        return None
    try:
        return float(raw)
    except ValueError:
        return raw


def integer(form: Fields, name: str) -> int | float | str | None:
    value = number(form, name)
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def lines(form: Fields, name: str) -> list[str] | None:
    found = [line.strip() for line in text(form, name).splitlines() if line.strip()]
    return found or None


def json_text(form: Fields, name: str, default: Any = None) -> Any:
    """JSON typed into a textarea; empty gives ``default``."""
    raw = text(form, name).strip()
    if not raw:
        return default
    try:
        return json.loads(raw)
    except json.JSONDecodeError as exc:
        raise FormError(
            name, f"not valid JSON: {exc.msg} (line {exc.lineno}, column {exc.colno})"
        ) from None


def values(form: Fields, *, without: tuple[str, ...] = ()) -> dict[str, str]:
    """The submitted strings, to fill the form again after an error. Secrets are left out
    by name (``without``): a key typed once is never sent back to the browser."""
    kept: dict[str, str] = {}
    for key, value in form.multi_items():
        if isinstance(value, str) and key not in without:
            kept[key] = value
    return kept


def pretty(value: Any) -> str:
    return json.dumps(value, indent=2, ensure_ascii=False)
