"""Reading an LLM output as JSON, the one way every JSON-minded scorer does it.

Models often wrap JSON in a Markdown fence, so an output that is exactly one fenced block
(```json or a bare ```) is unwrapped first. Prose around the fence is not stripped: an output
that is "mostly JSON" is not JSON, and a gate should say so.
"""

from __future__ import annotations

import json
from typing import Any

_FENCE = "```"
_FENCE_LANGUAGES = ("", "json")


def unwrap_fence(text: str) -> str:
    """The body of a single ```json (or bare ```) block, or `text` unchanged."""
    stripped = text.strip()
    if len(stripped) < 2 * len(_FENCE) or not (
        stripped.startswith(_FENCE) and stripped.endswith(_FENCE)
    ):
        return text
    first_break = stripped.find("\n")
    if first_break == -1:
        return text
    language = stripped[len(_FENCE) : first_break].strip().lower()
    if language not in _FENCE_LANGUAGES:
        return text
    return stripped[first_break + 1 : -len(_FENCE)]


def parse_json_output(output: str) -> Any:
    """Parse `output` as strict JSON; raise ValueError with a one-line cause otherwise.

    NaN and Infinity are refused: Python accepts them, JSON does not, and neither would the
    consumer of the output.
    """
    text = unwrap_fence(output).strip()
    if not text:
        raise ValueError("output is empty")
    try:
        if text.startswith("\ufeff"):  # what json.loads says of a BOM, before decoding
            raise json.JSONDecodeError("Unexpected UTF-8 BOM (decode using utf-8-sig)", text, 0)
        return _DECODER.decode(text)
    except json.JSONDecodeError as exc:
        raise ValueError(str(exc)) from exc
    except RecursionError as exc:
        raise ValueError("JSON is nested too deeply") from exc


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not valid JSON")


# ``json.loads(text, parse_constant=...)`` builds a decoder on every call, which was about
# 5% of a deterministic run's CPU (two JSON-minded scorers per run, issue 17): one decoder,
# made once, decodes exactly as ``json.loads`` would (test_scorer_jsontext.py checks it).
_DECODER = json.JSONDecoder(parse_constant=_refuse_constant)
