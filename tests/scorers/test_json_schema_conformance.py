"""The official JSON Schema Test Suite, run through the json_schema scorer.

A vendored subset (tests/fixtures/json-schema-test-suite, MIT, see its README.md): the
keyword files of draft 7 and 2020-12, and `optional/ecmascript-regex.json` of both, which
checks that `pattern` means what ECMA-262 means. Each case goes the way a user's does:
`validate_config` with the schema, then `score` with the instance as the JSON output; the
scorer must answer 1.0 exactly when the suite says `valid`, and never end in error.

Where the scorer differs on purpose, it says so here, case by case or by rule:

- a schema that names a document by URL or by a `$id`-relative reference (anything but
  `#…`) is refused at creation, because schemas must be self-contained and nothing is
  ever fetched (docs/scorers.md); such a case is expected to be refused, not skipped;
- the few cases in SKIPPED below, each with its reason.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from launchgate.scorers.builtin import ScorerConfigError, score, validate_config
from launchgate.scorers.builtin.json_schema import REFERENCE_KEYWORDS

SUITE = Path(__file__).parent.parent / "fixtures" / "json-schema-test-suite"
DRAFTS = {
    "draft7": "http://json-schema.org/draft-07/schema#",
    "draft2020-12": "https://json-schema.org/draft/2020-12/schema",
}

# (file, group description, test description or None for the whole group): why we differ.
SKIPPED: dict[tuple[str, str, str | None], str] = {}


def _cases() -> list[Any]:
    params = []
    for draft in DRAFTS:
        for path in sorted((SUITE / draft).rglob("*.json")):
            name = f"{draft}/{path.relative_to(SUITE / draft)}"
            for group in json.loads(path.read_text(encoding="utf-8")):
                params.append(
                    pytest.param(draft, name, group, id=f"{name}: {group['description']}")
                )
    return params


def _with_draft(schema: Any, draft: str) -> Any:
    """The suite's draft-7 schemas do not name their draft; ours default to 2020-12."""
    if isinstance(schema, dict) and "$schema" not in schema:
        return {"$schema": DRAFTS[draft], **schema}
    return schema


def _non_local_references(value: Any) -> list[str]:
    found: list[str] = []
    if isinstance(value, dict):
        for key, child in value.items():
            if key in REFERENCE_KEYWORDS and isinstance(child, str) and not child.startswith("#"):
                found.append(child)
            found.extend(_non_local_references(child))
    elif isinstance(value, list):
        for child in value:
            found.extend(_non_local_references(child))
    return found


@pytest.mark.parametrize(("draft", "name", "group"), _cases())
def test_suite_case(draft: str, name: str, group: dict[str, Any]) -> None:
    if (reason := SKIPPED.get((name, group["description"], None))) is not None:
        pytest.skip(reason)
    schema = _with_draft(group["schema"], draft)
    if _non_local_references(schema):
        # Refused on purpose: a schema must be self-contained (nothing is fetched).
        with pytest.raises(ScorerConfigError, match="is not a local reference"):
            validate_config("json_schema", {"schema": schema})
        return
    config = validate_config("json_schema", {"schema": schema})
    wrong = []
    for case in group["tests"]:
        if (name, group["description"], case["description"]) in SKIPPED:
            continue
        result = score("json_schema", config, json.dumps(case["data"]), None, regex_timeout_s=5.0)
        if result.error or (result.score == 1.0) != case["valid"]:
            wrong.append((case["description"], case["valid"], result))
    assert not wrong, wrong


def test_the_suite_is_there_and_small() -> None:
    files = list(SUITE.rglob("*.json"))
    assert len(files) > 50
    assert sum(path.stat().st_size for path in files) < 600_000
    assert (SUITE / "LICENSE").read_text().startswith("Copyright (c) 2012 Julian Berman")
