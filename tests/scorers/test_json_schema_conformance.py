"""The official JSON Schema Test Suite, run through the json_schema scorer.

A vendored subset (tests/fixtures/json-schema-test-suite, MIT, see its README.md): the
keyword files of draft 7 and 2020-12, and `optional/ecmascript-regex.json` of both, which
checks that `pattern` means what ECMA-262 means. Each case goes the way a user's does:
`validate_config` with the schema, then `score` with the instance as the JSON output; the
scorer must answer 1.0 exactly when the suite says `valid`, and never end in error.

Where the scorer differs on purpose, it says so here:

- NOT_VENDORED: the files left out, each with its reason;
- REFUSED_ON_PURPOSE: groups whose schema names a document by URL, URN or a
  `$id`-relative reference (anything but `#…`). Schemas must be self-contained and nothing
  is ever fetched (docs/scorers.md), so these are expected to be refused at creation —
  asserted, not skipped — and their number per file is pinned, so that the rule cannot
  quietly grow to swallow cases it should run.
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

NOT_VENDORED = {
    "refRemote.json": "needs the suite's remote documents (http://localhost:1234/…)",
    "vocabulary.json": "its meta-schema is one of the suite's remote documents",
    "format.json": "format is an annotation in our scorer, not asserted; nothing to check",
}
SELF_CONTAINED = "not a local reference: schemas are self-contained, nothing is fetched"
REFUSED_ON_PURPOSE = {
    "draft7/definitions.json": 1,  # validates against the draft-7 meta-schema by URL
    "draft7/ref.json": 15,  # $id-relative and URN references, the meta-schema by URL
    "draft2020-12/anchor.json": 3,  # anchors under an $id, referenced by absolute URI
    "draft2020-12/defs.json": 1,  # the 2020-12 meta-schema by URL
    "draft2020-12/dynamicRef.json": 17,  # $dynamicRef across $id-named resources
    "draft2020-12/ref.json": 15,  # $id-relative and URN references, the meta-schema by URL
    "draft2020-12/unevaluatedItems.json": 1,  # $dynamicRef to an $id-named resource
    "draft2020-12/unevaluatedProperties.json": 1,  # the same
}


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
    schema = _with_draft(group["schema"], draft)
    if _non_local_references(schema):
        assert name in REFUSED_ON_PURPOSE, SELF_CONTAINED
        with pytest.raises(ScorerConfigError, match="is not a local reference"):
            validate_config("json_schema", {"schema": schema})
        return
    config = validate_config("json_schema", {"schema": schema})
    wrong = []
    for case in group["tests"]:
        result = score("json_schema", config, json.dumps(case["data"]), None, regex_timeout_s=5.0)
        if result.error or (result.score == 1.0) != case["valid"]:
            wrong.append((case["description"], case["valid"], result))
    assert not wrong, wrong


def test_refused_groups_are_the_ones_listed() -> None:
    refused: dict[str, int] = {}
    for param in _cases():
        draft, name, group = param.values
        if _non_local_references(_with_draft(group["schema"], draft)):
            refused[name] = refused.get(name, 0) + 1
    assert refused == REFUSED_ON_PURPOSE


def test_the_suite_is_there_and_small() -> None:
    files = list(SUITE.rglob("*.json"))
    assert len(files) > 50
    assert not {path.name for path in files} & NOT_VENDORED.keys()
    assert sum(path.stat().st_size for path in files) < 600_000
    assert (SUITE / "LICENSE").read_text().startswith("Copyright (c) 2012 Julian Berman")
