"""Wire-model bases: strict request bodies and the shared field types.

Request bodies refuse unknown fields and refuse coercion (``false`` is not a number,
``"1"`` is not an int). Ids and timestamps stay lax because FastAPI validates the parsed
JSON in Python mode, where a strict UUID would reject every string.

Text that cannot be stored is refused here, the same on every backend: PostgreSQL cannot
hold a NUL (U+0000) in ``text`` or ``jsonb`` (nor a lone surrogate such as ``\\ud800`` in
``jsonb``), so such a string anywhere in a body — a field, a JSON value or a JSON key — is a
400 naming the field, never a 500 from the driver. Names and descriptions are also refused
with control characters, which no one types into a name on purpose.
"""

from __future__ import annotations

import json
import unicodedata
from datetime import datetime
from typing import Annotated, Any, Self
from uuid import UUID

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    PlainSerializer,
    model_validator,
)
from pydantic_core import PydanticCustomError

from launchgate.kit.time import iso_z

MAX_JSON_DEPTH = 32


NUL_MESSAGE = "must not contain a NUL character (U+0000), which cannot be stored"
SURROGATE_MESSAGE = "must be valid Unicode text (a lone surrogate such as \\ud800 is not)"
# Line and paragraph separators break a one-line name as a newline does.
_LINE_SEPARATORS = frozenset("\u2028\u2029")
# What a multi-line text (a description) may hold besides printable characters.
_TEXT_WHITESPACE = frozenset("\t\n\r")


def unstorable(value: str) -> str | None:
    """Why ``value`` cannot be stored on every backend, or ``None`` when it can."""
    if "\x00" in value:
        return NUL_MESSAGE
    if not value.isascii():
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            return SURROGATE_MESSAGE
    return None


def _unstorable_in(value: Any) -> str | None:
    """The first NUL or lone surrogate in a JSON value's strings and keys, with where it is
    (``a.b[2]``, or ``a.b (a key)``), or ``None``."""
    stack: list[tuple[Any, str]] = [(value, "")]
    while stack:
        item, path = stack.pop()
        if isinstance(item, str):
            problem = unstorable(item)
            if problem:
                return f"{problem}; found at {path or 'the value itself'}"
        elif isinstance(item, dict):
            for key, child in item.items():
                where = f"{path}.{key}" if path else str(key)
                if isinstance(key, str) and (problem := unstorable(key)):
                    return f"{problem}; found in a key at {where!r}"
                stack.append((child, where))
        elif isinstance(item, list | tuple):
            stack.extend((child, f"{path}[{i}]") for i, child in enumerate(item))
    return None


def _storable_json(value: Any) -> Any:
    problem = _unstorable_in(value)
    if problem:
        # Through the context, not the template: a key may hold braces.
        raise PydanticCustomError("unstorable_text", "{problem}", {"problem": problem})
    return value


def _storable_text(value: str) -> str:
    problem = unstorable(value)
    if problem:
        raise PydanticCustomError("unstorable_text", "{problem}", {"problem": problem})
    return value


def _is_control(char: str) -> bool:
    return unicodedata.category(char) == "Cc"


SINGLE_LINE_MESSAGE = (
    "must not contain control characters (U+0000-U+001F, U+007F-U+009F) or line breaks"
)


def single_line_problem(value: str) -> str | None:
    """Why ``value`` cannot be a name, or None: a name holds no control character (C0, DEL,
    C1 — NUL, tab and newline among them) and no line or paragraph separator. For names
    that arrive outside a request body (``launchgate orgs create``)."""
    if any(_is_control(c) or c in _LINE_SEPARATORS for c in value):
        return SINGLE_LINE_MESSAGE
    return unstorable(value)


def _single_line(value: str) -> str:
    problem = single_line_problem(value)
    if problem:
        raise PydanticCustomError("control_character", "{problem}", {"problem": problem})
    return value


def _multi_line(value: str) -> str:
    """Descriptions: line breaks and tabs are text; other control characters are not."""
    if any(_is_control(c) and c not in _TEXT_WHITESPACE for c in value):
        raise PydanticCustomError(
            "control_character",
            "must not contain control characters (U+0000-U+001F, U+007F-U+009F) other than "
            "tab and line breaks",
        )
    return _storable_text(value)


class StrictModel(BaseModel):
    """Base of every request body."""

    model_config = ConfigDict(extra="forbid", strict=True)

    @model_validator(mode="after")
    def _storable(self) -> Self:
        """The net under the typed fields: a NUL or lone surrogate in any field that no
        type checks (a lookup slug, an email, a password, a field added later) is refused
        here, naming the field, rather than reaching the database."""
        for name, value in self.__dict__.items():
            if isinstance(value, BaseModel):
                continue  # a nested body checks itself
            problem = _unstorable_in(value)
            if problem:
                raise PydanticCustomError(
                    "unstorable_text", "{field}: {problem}", {"field": name, "problem": problem}
                )
        return self


class WireModel(BaseModel):
    """Base of every response body."""

    model_config = ConfigDict(from_attributes=True)


def json_depth(value: Any, limit: int = MAX_JSON_DEPTH) -> int:
    """Nesting depth of a JSON value, stopping early once past ``limit``."""
    stack: list[tuple[Any, int]] = [(value, 1)]
    deepest = 0
    while stack:
        item, depth = stack.pop()
        if depth > limit:
            return depth
        if isinstance(item, dict):
            deepest = max(deepest, depth)
            stack.extend((child, depth + 1) for child in item.values())
        elif isinstance(item, list):
            deepest = max(deepest, depth)
            stack.extend((child, depth + 1) for child in item)
    return deepest


def _shallow(value: Any) -> Any:
    if json_depth(value) > MAX_JSON_DEPTH:
        raise ValueError(f"JSON nested deeper than {MAX_JSON_DEPTH} levels")
    return value


def _max_bytes(limit: int) -> AfterValidator:
    def check(value: str) -> str:
        if len(value) > limit // 4 and len(value.encode()) > limit:
            raise ValueError(f"must be at most {limit} bytes")
        return value

    return AfterValidator(check)


def _max_json_bytes(limit: int) -> AfterValidator:
    def check(value: Any) -> Any:
        if len(json.dumps(value, separators=(",", ":")).encode()) > limit:
            raise ValueError(f"must be at most {limit} bytes as JSON")
        return value

    return AfterValidator(check)


_STORABLE_JSON = AfterValidator(_storable_json)
JsonValue = Annotated[Any, AfterValidator(_shallow), _STORABLE_JSON]
JsonObject = Annotated[
    dict[str, Any], AfterValidator(_shallow), _STORABLE_JSON, _max_json_bytes(256 * 1024)
]
SmallJsonObject = Annotated[
    dict[str, Any], AfterValidator(_shallow), _STORABLE_JSON, _max_json_bytes(16 * 1024)
]
Text1MiB = Annotated[str, AfterValidator(_storable_text), _max_bytes(1024 * 1024)]
Unit = Annotated[float, Field(ge=0.0, le=1.0, allow_inf_nan=False)]
Weight = Annotated[float, Field(gt=0.0, le=1_000_000.0, allow_inf_nan=False)]
Name = Annotated[str, Field(min_length=1, max_length=200), AfterValidator(_single_line)]
Description = Annotated[str, Field(max_length=5000), AfterValidator(_multi_line)]
# A one-line text that is not a name (a provider setting): the same rule as names.
SingleLine = Annotated[str, AfterValidator(_single_line)]
LaxUUID = Annotated[UUID, Field(strict=False)]
Timestamp = Annotated[datetime, PlainSerializer(iso_z, return_type=str)]
