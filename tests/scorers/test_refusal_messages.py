"""Every refusal of a scorer config says what is wrong, in words a user can act on.

The contains scorer once answered an empty value with "must be a non-empty string, got
string": the type it named was the one it asked for. Each bad config below is refused
with a message that names the key and the actual problem.
"""

from __future__ import annotations

import re
from typing import Any

import pytest

from launchgate.scorers.builtin import ScorerConfigError, validate_config

BAD_CONFIGS: list[tuple[str, dict[str, Any], bool, str]] = [
    ("exact_match", {"strip": "yes"}, False, "config.strip must be a boolean (true or false)"),
    ("contains", {"values": [""]}, False, "is an empty string, which every output contains"),
    ("contains", {"values": [None]}, False, "config.values[0] must be a string, got null"),
    ("contains", {"values": []}, False, "must list at least one value"),
    ("contains", {"forbidden": [""], "values": ["a"]}, True, "which every output contains"),
    ("regex", {"pattern": ""}, False, "empty string, which matches every output"),
    ("regex", {"pattern": "a", "flags": "x"}, False, "Unsupported regex flag 'x'"),
    ("regex", {"pattern": r"\Aa"}, False, r"\A is not a JavaScript escape"),
    ("regex", {"pattern": "(?i)a"}, False, "inline flags such as (?i) are not JavaScript"),
    ("json_schema", {"schema": []}, False, "must be a JSON object or a boolean, got array"),
    ("json_schema", {"schema": {"type": "strin"}}, False, "'strin' is not valid under"),
    ("llm_judge", {"rubric": "", "_provider": "openai"}, False, "config.rubric must not be"),
    ("llm_judge", {"rubric": "x"}, False, "config._provider is required: one of"),
]


@pytest.mark.parametrize(("scorer", "config", "dual_sided", "words"), BAD_CONFIGS)
def test_a_refusal_names_the_problem(
    scorer: str, config: dict[str, Any], dual_sided: bool, words: str
) -> None:
    with pytest.raises(ScorerConfigError) as caught:
        validate_config(scorer, config, dual_sided=dual_sided)
    message = caught.value.message
    assert words in message
    # "must be a … string, got string" says nothing: the type named is the one asked for.
    contradiction = re.search(r"must be (?:a|an) (?:[\w-]+ )*?(\w+), got \1\b", message)
    assert contradiction is None, message
