"""JSON Schema → Gemini's responseSchema (an OpenAPI 3.0 subset)."""

from __future__ import annotations

import pytest

from launchgate.providers import ProviderBadRequest
from launchgate.providers.google import to_gemini_schema

JUDGE = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "type": "object",
    "properties": {
        "reasoning": {"type": "string", "description": "why"},
        "score": {"type": "number", "minimum": 0, "maximum": 1},
    },
    "required": ["reasoning", "score"],
    "additionalProperties": False,
}


def test_the_judge_schema() -> None:
    assert to_gemini_schema(JUDGE) == {
        "type": "OBJECT",
        "properties": {
            "reasoning": {"type": "STRING", "description": "why"},
            "score": {"type": "NUMBER", "minimum": 0, "maximum": 1},
        },
        "propertyOrdering": ["reasoning", "score"],
        "required": ["reasoning", "score"],
    }


def test_nullable_unions_enums_and_consts() -> None:
    schema = {
        "type": "object",
        "properties": {
            "label": {"type": ["string", "null"], "enum": ["pass", "fail", None]},
            "kind": {"const": "verdict"},
            "count": {"anyOf": [{"type": "integer"}, {"type": "null"}]},
            "either": {"oneOf": [{"type": "string"}, {"type": "number"}]},
            "tags": {"type": "array", "items": {"type": "string"}, "uniqueItems": True},
        },
        "patternProperties": {"^x-": {}},
    }
    converted = to_gemini_schema(schema)["properties"]
    assert converted["label"] == {"type": "STRING", "nullable": True, "enum": ["pass", "fail"]}
    assert converted["kind"] == {"enum": ["verdict"]}
    assert converted["count"] == {"type": "INTEGER", "nullable": True}
    assert converted["either"] == {"anyOf": [{"type": "STRING"}, {"type": "NUMBER"}]}
    assert converted["tags"] == {"type": "ARRAY", "items": {"type": "STRING"}}


def test_refs_are_inlined_and_all_of_merged() -> None:
    schema = {
        "$defs": {"Score": {"type": "number", "minimum": 0}},
        "type": "object",
        "properties": {
            "score": {"$ref": "#/$defs/Score", "description": "the score"},
            "both": {
                "allOf": [
                    {"type": "object", "properties": {"a": {"type": "string"}}, "required": ["a"]},
                    {"properties": {"b": {"type": "boolean"}}, "required": ["b"]},
                ]
            },
        },
    }
    converted = to_gemini_schema(schema)["properties"]
    assert converted["score"] == {"type": "NUMBER", "minimum": 0, "description": "the score"}
    assert converted["both"]["properties"] == {"a": {"type": "STRING"}, "b": {"type": "BOOLEAN"}}
    assert converted["both"]["required"] == ["a", "b"]


def test_unresolvable_and_recursive_refs_are_bad_requests() -> None:
    with pytest.raises(ProviderBadRequest, match="cannot be resolved"):
        to_gemini_schema({"$ref": "https://example.com/schema.json"})
    recursive = {
        "$defs": {"Node": {"type": "object", "properties": {"next": {"$ref": "#/$defs/Node"}}}},
        "$ref": "#/$defs/Node",
    }
    with pytest.raises(ProviderBadRequest, match="too deep"):
        to_gemini_schema(recursive)
