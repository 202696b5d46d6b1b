"""`exact_match`: the output equals the case's `expected`.

A string `expected` is compared as text. Anything else (object, array, number, boolean) is
compared as JSON: the output is parsed and compared structurally, so key order and
whitespace do not matter but `true` and `1` do.
"""

from __future__ import annotations

import json
from typing import Any

from launchgate.scorers.builtin.jsontext import parse_json_output
from launchgate.scorers.builtin.result import PREVIEW_LIMIT, ConfigReader, ScoreResult, preview

ALLOWED_KEYS = ("case_sensitive", "strip")
NO_EXPECTED = "No expected value set for this case"


def validate(config: object) -> dict[str, Any]:
    """Normalise an exact_match config: {case_sensitive=true, strip=true}."""
    reader = ConfigReader(config, ALLOWED_KEYS, scorer="exact_match")
    return {
        "case_sensitive": reader.flag("case_sensitive", True),
        "strip": reader.flag("strip", True),
    }


def score(config: dict[str, Any], output: str, expected: Any) -> ScoreResult:
    """1.0 when the output matches `expected`, else 0.0; a missing `expected` is a fail."""
    if expected is None:
        return ScoreResult(0.0, NO_EXPECTED)
    if isinstance(expected, str):
        return _score_text(config, output, expected)
    return _score_json(config, output, expected)


def _score_text(config: dict[str, Any], output: str, expected: str) -> ScoreResult:
    got, want = (output.strip(), expected.strip()) if config["strip"] else (output, expected)
    same = got == want if config["case_sensitive"] else got.casefold() == want.casefold()
    if same:
        return ScoreResult(1.0, "Output matches expected")
    return ScoreResult(0.0, f"Output does not match expected {preview(want)}: got {preview(got)}")


def _score_json(config: dict[str, Any], output: str, expected: Any) -> ScoreResult:
    try:
        parsed = parse_json_output(output)
    except ValueError as exc:
        return ScoreResult(0.0, f"Output is not valid JSON: {exc}")
    try:
        if json_equal(parsed, expected, fold_case=not config["case_sensitive"]):
            return ScoreResult(1.0, "Output matches expected JSON")
        got = _compact(parsed)  # only a mismatch quotes it
    except RecursionError:
        return ScoreResult(0.0, "Output JSON is nested too deeply to compare")
    return ScoreResult(0.0, f"Output does not match expected JSON {_compact(expected)}: got {got}")


def json_equal(left: Any, right: Any, *, fold_case: bool = False) -> bool:
    """Structural JSON equality: 1 == 1.0, but true != 1 (Python alone says otherwise).

    With `fold_case`, string values (not object keys) compare case-insensitively, which is
    what `case_sensitive=false` promises for text.
    """
    if isinstance(left, bool) or isinstance(right, bool):
        return isinstance(left, bool) and isinstance(right, bool) and left == right
    if isinstance(left, _NUMBER) and isinstance(right, _NUMBER):
        return left == right
    if isinstance(left, str) and isinstance(right, str):
        return left.casefold() == right.casefold() if fold_case else left == right
    if isinstance(left, dict) and isinstance(right, dict):
        if left.keys() != right.keys():
            return False
        return all(json_equal(left[key], right[key], fold_case=fold_case) for key in left)
    if isinstance(left, _SEQUENCE) and isinstance(right, _SEQUENCE):
        if len(left) != len(right):
            return False
        return all(json_equal(a, b, fold_case=fold_case) for a, b in zip(left, right, strict=True))
    return left is None and right is None


# Tuples, not ``int | float``: a union written in the function was built anew on every call
# of this recursive function (issue 17).
_NUMBER = (int, float)
_SEQUENCE = (list, tuple)


def _compact(value: Any) -> str:
    text = json.dumps(value, ensure_ascii=False, separators=(",", ":"), default=str)
    return text if len(text) <= PREVIEW_LIMIT else text[:PREVIEW_LIMIT] + "…"
