"""jsontext: the one way outputs are read as JSON."""

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from launchgate.scorers.builtin.jsontext import parse_json_output, unwrap_fence


@pytest.mark.parametrize(
    ("output", "value"),
    [
        ('{"a": 1}', {"a": 1}),
        ("  [1, 2]\n", [1, 2]),
        ('```json\n{"a": 1}\n```', {"a": 1}),
        ('\n```json  \n{"a": 1}```\n', {"a": 1}),
        ('```\n"text"\n```', "text"),
        ("```Json\r\n3\r\n```", 3),
    ],
)
def test_parses(output: str, value: Any) -> None:
    assert parse_json_output(output) == value


@pytest.mark.parametrize(
    "output",
    [
        "",
        "   ",
        "```json\n```",
        "{'a': 1}",
        "Infinity",
        "-Infinity",
        "```yaml\na: 1\n```",
        "``` {} ```",
    ],
)
def test_refuses(output: str) -> None:
    with pytest.raises(ValueError):
        parse_json_output(output)


def test_unwrap_leaves_unfenced_text_alone() -> None:
    assert unwrap_fence("plain") == "plain"
    assert unwrap_fence("```") == "```"


def _as_json_loads(text: str) -> tuple[str, Any]:
    """What the scorers did before the shared decoder: ``json.loads`` with the same
    ``parse_constant``, its outcome or its one-line error."""
    import json

    def refuse(name: str) -> Any:
        raise ValueError(f"{name} is not valid JSON")

    try:
        return "ok", json.loads(text, parse_constant=refuse)
    except json.JSONDecodeError as exc:
        return "error", str(exc)
    except ValueError as exc:
        return "error", str(exc)
    except RecursionError:
        return "error", "JSON is nested too deeply"


def _parsed(text: str) -> tuple[str, Any]:
    try:
        return "ok", parse_json_output(text)
    except ValueError as exc:
        return "error", str(exc)


_JSONISH = st.text(alphabet='{}[]",:0123456789.eE+- truefalsnNaIiy\\u\ufeff\n\t', max_size=40)


@given(
    st.one_of(
        _JSONISH, st.text(max_size=40), st.from_regex(r"\A\ufeff?\s*[{\[].*", fullmatch=False)
    )
)
def test_the_shared_decoder_reads_as_json_loads(text: str) -> None:
    """Same value or same error message, for JSON-like text, any text and a BOM first."""
    stripped = text.strip()
    if not stripped or stripped.startswith("```"):
        return  # the empty and fenced cases have their own tests above
    assert _parsed(text) == _as_json_loads(stripped)
