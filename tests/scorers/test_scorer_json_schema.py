"""json_schema: parsing, fence unwrapping, drafts, error paths and schema-side time limits."""

from typing import Any

import pytest

from launchgate.scorers.builtin import ScorerConfigError, ScoreResult, score, validate_config

ITEMS_SCHEMA = {
    "type": "object",
    "required": ["items"],
    "properties": {
        "items": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["id"],
                "properties": {"id": {"type": "integer"}},
            },
        },
    },
}


def run(output: str, schema: dict[str, Any], *, timeout: float = 0.2) -> ScoreResult:
    normalised = validate_config("json_schema", {"schema": schema})
    return score("json_schema", normalised, output, None, regex_timeout_s=timeout)


@pytest.mark.parametrize(
    ("output", "want"),
    [
        ('{"items": [{"id": 1}, {"id": 2}]}', 1.0),
        ('```json\n{"items": []}\n```', 1.0),
        ('```JSON\n{"items": []}\n```', 1.0),
        ('```\n{"items": []}\n```', 1.0),
        ('  {"items": []}  \n', 1.0),
        ('{"items": [{"id": "x"}]}', 0.0),
        ('{"items": {}}', 0.0),
        ("[]", 0.0),
    ],
)
def test_validation(output: str, want: float) -> None:
    assert run(output, ITEMS_SCHEMA).score == want


@pytest.mark.parametrize(
    "output",
    [
        "",
        "not json",
        'Here you go: ```json\n{"items": []}\n```',
        "```python\n{}\n```",
        '```json\n{"a": 1}\n```\n```json\n{"b": 2}\n```',
        "NaN",
    ],
)
def test_output_that_is_not_json(output: str) -> None:
    result = run(output, ITEMS_SCHEMA)
    assert result.score == 0.0
    assert not result.error
    assert result.reason.startswith("Output is not valid JSON: ")


def test_reason_names_failing_paths_in_order() -> None:
    output = '{"items": [{"id": 1}, {"id": "x"}, {}, {"id": 2.5}, {"id": null}]}'
    result = run(output, ITEMS_SCHEMA)
    assert result.reason.startswith(
        "$.items[1].id: 'x' is not of type 'integer'; "
        "$.items[2]: 'id' is a required property; "
        "$.items[3].id: 2.5 is not of type 'integer'"
    )
    assert result.reason.endswith("(and 1 more)")


def test_error_messages_quoting_huge_values_are_shortened() -> None:
    result = run('{"items": "' + "x" * 5_000 + '"}', ITEMS_SCHEMA)
    assert result.score == 0.0
    assert len(result.reason) <= 300


def test_default_draft_is_2020_12() -> None:
    schema = {"prefixItems": [{"type": "integer"}], "items": False}
    assert run("[1]", schema).score == 1.0
    assert run("[1, 2]", schema).score == 0.0


def test_draft_07_tuple_items_are_honoured() -> None:
    schema = {
        "$schema": "http://json-schema.org/draft-07/schema#",
        "items": [{"type": "integer"}, {"type": "string"}],
        "additionalItems": False,
    }
    assert run('[1, "a"]', schema).score == 1.0
    assert run("[1, 2]", schema).reason == "$[1]: 2 is not of type 'string'"
    assert run('[1, "a", 3]', schema).score == 0.0


def test_draft_07_array_items_are_invalid_under_2020_12() -> None:
    with pytest.raises(ScorerConfigError) as caught:
        validate_config("json_schema", {"schema": {"items": [{"type": "integer"}]}})
    assert caught.value.path == "config.schema.items"


@pytest.mark.parametrize(
    ("schema", "path"),
    [
        ({"type": "nope"}, "config.schema.type"),
        ({"properties": {"a": {"minLength": -1}}}, "config.schema.properties.a.minLength"),
        ({"pattern": "("}, "config.schema.pattern"),
        ({"$schema": "http://example.com/my-draft"}, "config.schema.$schema"),
        ({"$schema": 7}, "config.schema.$schema"),
    ],
)
def test_invalid_schema_is_a_config_error(schema: dict[str, Any], path: str) -> None:
    with pytest.raises(ScorerConfigError) as caught:
        validate_config("json_schema", {"schema": schema})
    assert caught.value.path == path


@pytest.mark.parametrize(
    ("config", "path"),
    [
        ({}, "config.schema"),
        ({"schema": True}, "config.schema"),
        ({"schema": "{}"}, "config.schema"),
        ({"schema": {}, "strict": True}, "config.strict"),
    ],
)
def test_bad_configs(config: dict[str, Any], path: str) -> None:
    with pytest.raises(ScorerConfigError) as caught:
        validate_config("json_schema", config)
    assert caught.value.path == path


def test_normalised_schema_is_a_copy() -> None:
    schema: dict[str, Any] = {"type": "object"}
    normalised = validate_config("json_schema", {"schema": schema})
    schema["type"] = "array"
    assert normalised["schema"] == {"type": "object"}


def test_patterns_in_the_schema_run_on_regex() -> None:
    schema = {
        "type": "object",
        "properties": {"code": {"type": "string", "pattern": r"^\p{Lu}{3}$"}},
        "patternProperties": {"^x-": {"type": "integer"}},
        "additionalProperties": False,
    }
    assert run('{"code": "ABC", "x-a": 1}', schema).score == 1.0
    assert run('{"code": "abc"}', schema).reason.startswith("$.code: 'abc' does not match")
    assert run('{"x-a": "1"}', schema).reason == "$['x-a']: '1' is not of type 'integer'"
    assert "'y' was unexpected" in run('{"y": 1}', schema).reason


def test_additional_properties_schema_applies_to_undeclared_keys() -> None:
    schema = {"properties": {"a": {}}, "additionalProperties": {"type": "string"}}
    assert run('{"a": 1, "b": "x"}', schema).score == 1.0
    assert run('{"a": 1, "b": 2}', schema).reason == "$.b: 2 is not of type 'string'"


@pytest.mark.parametrize(
    ("schema", "output"),
    [
        ({"type": "string", "pattern": "(a|aa)+$"}, '"' + "a" * 40 + '!"'),
        ({"patternProperties": {"(a|aa)+$": {}}}, '{"' + "a" * 40 + '!": 1}'),
        (
            {"patternProperties": {"(a|aa)+$": {}}, "additionalProperties": False},
            '{"' + "a" * 40 + '!": 1}',
        ),
    ],
)
def test_catastrophic_schema_pattern_ends_in_error(schema: dict[str, Any], output: str) -> None:
    result = run(output, schema, timeout=0.2)
    assert result.error is True
    assert result.score == 0.0
    assert "timed out" in result.reason


def test_unresolvable_ref_ends_in_error() -> None:
    result = run("1", {"$ref": "#/$defs/missing"})
    assert result.error is True
    assert result.reason.startswith("The schema could not be applied")


def test_deeply_nested_output_does_not_crash() -> None:
    result = run("[" * 100_000 + "]" * 100_000, {"type": "array"})
    assert result.score == 0.0


def test_draft_3_is_refused_with_a_clear_error() -> None:
    schema = {"$schema": "http://json-schema.org/draft-03/schema#", "type": "object"}
    with pytest.raises(ScorerConfigError, match="draft 3"):
        validate_config("json_schema", {"schema": schema})
