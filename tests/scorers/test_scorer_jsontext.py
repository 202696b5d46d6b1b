"""jsontext: the one way outputs are read as JSON."""

from typing import Any

import pytest

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
