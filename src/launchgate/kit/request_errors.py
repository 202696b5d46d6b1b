"""Request validation errors in words a newcomer can act on.

FastAPI reports a body it could not read in its own terms: a body sent without
``Content-Type: application/json`` is "body: Input should be a valid dictionary or object to
extract fields from" (it was never parsed), and a trailing comma is "body.39: JSON decode
error". Both are the first errors a person trying the API with curl meets, so the three
ways a body can fail before any field is looked at (not JSON by its content type, not
parseable JSON, not a JSON object) are told in words here; errors about fields keep
pydantic's messages. The offending input is never echoed: it may hold a key.
"""

from __future__ import annotations

from typing import Any

JSON_CONTENT_TYPE = "application/json"
# Pydantic's error types for "a model was expected here, something else came".
_NOT_AN_OBJECT = frozenset({"model_attributes_type", "dict_type", "model_type"})
_JSON_NAMES = {
    dict: "an object",
    list: "an array",
    str: "a string",
    bool: "a boolean",
    int: "a number",
    float: "a number",
    type(None): "null",
}
# The decoder's terse reasons that say less than they could.
_REASONS = {"Extra data": "extra data after the JSON value"}
# The longest Content-Type quoted back: enough to recognise it, never a wall of text.
_QUOTED_TYPE_MAX = 80


def describe(
    errors: list[dict[str, Any]], body: Any, content_type: str | None
) -> list[dict[str, Any]]:
    """One ``{field, message, type}`` per error (plus ``line`` and ``column`` for JSON
    that does not parse), in the order FastAPI reported them."""
    return [_describe_one(error, body, content_type) for error in errors]


def _describe_one(error: dict[str, Any], body: Any, content_type: str | None) -> dict[str, Any]:
    loc = tuple(error.get("loc", ()))
    kind = str(error.get("type", ""))
    if kind == "json_invalid":
        return _json_invalid(error, body)
    if loc == ("body",) and kind in _NOT_AN_OBJECT:
        return _not_an_object(error.get("input"), content_type, kind)
    if loc == ("body",) and kind == "missing":
        return _entry(f"the body is empty: send a JSON object with {_send_json()}", kind)
    return {
        "field": ".".join(str(part) for part in loc),
        "message": str(error.get("msg", "")),
        "type": kind,
    }


def _entry(message: str, kind: str, **extra: Any) -> dict[str, Any]:
    return {"field": "body", "message": message, "type": kind, **extra}


def _send_json() -> str:
    return f"Content-Type: {JSON_CONTENT_TYPE}"


def _not_an_object(value: Any, content_type: str | None, kind: str) -> dict[str, Any]:
    """Raw bytes mean the body was never parsed: its Content-Type is not JSON's."""
    if isinstance(value, bytes | bytearray):
        media_type = (content_type or "").split(";", 1)[0].strip()
        sent = (
            f"this request's Content-Type is {media_type[:_QUOTED_TYPE_MAX]}"
            if media_type
            else "this request has no Content-Type"
        )
        return _entry(f"send {_send_json()} with a JSON body ({sent})", kind)
    got = _JSON_NAMES.get(type(value), "something else")
    return _entry(f"the body must be a JSON object, got {got}", kind)


def _json_invalid(error: dict[str, Any], body: Any) -> dict[str, Any]:
    """The decoder's reason at line and column (counted as ``json`` counts them, from 1).
    A trailing comma, the most common slip, is named as such: Python's decoder only says
    that it expected a value or a property name where the closing bracket stands."""
    loc = tuple(error.get("loc", ()))
    pos = loc[1] if len(loc) > 1 and isinstance(loc[1], int) else None
    raw = str((error.get("ctx") or {}).get("error") or "invalid JSON")
    reason = _REASONS.get(raw, raw[:1].lower() + raw[1:])
    if not isinstance(body, str) or pos is None or not 0 <= pos <= len(body):
        return _entry(f"the body is not valid JSON: {reason}", "json_invalid")
    comma = _trailing_comma(body, pos)
    if comma is not None:
        reason, pos = "trailing comma", comma
    line = body.count("\n", 0, pos) + 1
    column = pos - body.rfind("\n", 0, pos)
    return _entry(
        f"the body is not valid JSON: {reason} at line {line}, column {column}",
        "json_invalid",
        line=line,
        column=column,
    )


def _trailing_comma(doc: str, pos: int) -> int | None:
    """Where the comma stands when the decoder stopped at a closing bracket that only
    whitespace separates from a comma, as in ``{"a": 1,}`` or ``[1, 2,\\n]``."""
    if pos >= len(doc) or doc[pos] not in "}]":
        return None
    before = len(doc[:pos].rstrip())
    return before - 1 if before and doc[before - 1] == "," else None
