"""json_schema: parsing, fence unwrapping, drafts, error paths and schema-side time limits."""

import json
from typing import Any

import pytest
from jsonschema import validators
from referencing.exceptions import NoSuchResource

from launchgate.scorers.builtin import ScorerConfigError, ScoreResult, score, validate_config
from launchgate.scorers.builtin.compiled import compile_case
from launchgate.scorers.builtin.json_schema import (
    INLINE_OUTPUT_CHARS,
    NO_RETRIEVAL,
    VALIDATION_FLOOR_S,
    VALIDATION_S_PER_MIB,
    refers,
    validation_budget_s,
)

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
        ({"schema": 1}, "config.schema"),
        ({"schema": "{}"}, "config.schema"),
        ({"schema": {}, "strict": True}, "config.strict"),
    ],
)
def test_bad_configs(config: dict[str, Any], path: str) -> None:
    with pytest.raises(ScorerConfigError) as caught:
        validate_config("json_schema", config)
    assert caught.value.path == path


def test_a_wrong_schema_type_says_what_would_do() -> None:
    with pytest.raises(ScorerConfigError) as caught:
        validate_config("json_schema", {"schema": "{}"})
    assert caught.value.message == ("config.schema must be a JSON object or a boolean, got string")


@pytest.mark.parametrize(
    ("schema", "output", "want"),
    [
        (True, "{}", 1.0),
        (True, "[1, 2]", 1.0),
        (False, "{}", 0.0),
        (False, "null", 0.0),
        ({"properties": {"a": False}}, '{"b": 1}', 1.0),
        ({"properties": {"a": False}}, '{"a": 1}', 0.0),
        ({"items": True, "prefixItems": [False]}, "[]", 1.0),
        ({"items": True, "prefixItems": [False]}, "[1]", 0.0),
        ({"$schema": "http://json-schema.org/draft-07/schema#", "not": True}, "1", 0.0),
    ],
)
def test_boolean_schemas_are_accepted(schema: Any, output: str, want: float) -> None:
    # true / false are schemas in every draft from 6 on, whole or as subschemas.
    config = validate_config("json_schema", {"schema": schema})
    assert config == {"schema": schema}
    result = score("json_schema", config, output, None, regex_timeout_s=1.0)
    assert (result.score, result.error) == (want, False), result
    if schema is False:
        assert result.reason == f"$: False schema does not allow {json.loads(output)!r}"


@pytest.mark.parametrize(
    ("schema", "path", "words"),
    [
        (
            {"properties": {"code": {"pattern": r"\Acode\Z"}}},
            "config.schema.properties.code.pattern",
            r"invalid pattern: \A is not a JavaScript escape",
        ),
        (
            {"patternProperties": {"(?i)^x": True}},
            "config.schema.patternProperties",
            "inline flags such as (?i) are not JavaScript",
        ),
    ],
)
def test_a_pattern_that_is_not_javascript_is_refused_with_its_path(
    schema: dict[str, Any], path: str, words: str
) -> None:
    with pytest.raises(ScorerConfigError) as caught:
        validate_config("json_schema", {"schema": schema})
    assert caught.value.path == path
    assert words in caught.value.message


@pytest.mark.parametrize(
    ("pattern", "instance", "valid"),
    [
        ("^[A-Z]-\\d{4}$", "A-1234", True),
        ("^[A-Z]-\\d{4}$", "A-1234\n", False),  # $ is the end, as in ECMA-262
        ("^[A-Z]-\\d{4}$", "A-١٢٣٤", False),  # \d is ASCII
        ("^\\cC$", "\u0003", True),
        ("^[^]$", "\n", True),
    ],
)
def test_schema_patterns_are_ecma_262(pattern: str, instance: str, valid: bool) -> None:
    result = run(json.dumps(instance), {"pattern": pattern}, timeout=1.0)
    assert (result.score, result.error) == (1.0 if valid else 0.0, False), result


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


# --- self-contained schemas: no reference leaves the schema --------------------------------


@pytest.mark.parametrize(
    ("schema", "path"),
    [
        ({"$ref": "file:///etc/passwd"}, "config.schema.$ref"),
        ({"$ref": "http://127.0.0.1:9/x.json"}, "config.schema.$ref"),
        ({"$ref": "other.json#/a"}, "config.schema.$ref"),
        (
            {"properties": {"a": {"$ref": "https://example.com/s"}}},
            "config.schema.properties.a.$ref",
        ),
        ({"$dynamicRef": "http://example.com/meta"}, "config.schema.$dynamicRef"),
        (
            {"$schema": "https://json-schema.org/draft/2019-09/schema", "$recursiveRef": "x"},
            "config.schema.$recursiveRef",
        ),
        # Relative to a remote $id base, which would be fetched from there.
        ({"$id": "http://example.com/root.json", "$ref": "item.json"}, "config.schema.$ref"),
        ({"allOf": [{}, {"$ref": "//evil.example/x"}]}, "config.schema.allOf[1].$ref"),
    ],
)
def test_non_local_references_are_refused(schema: dict[str, Any], path: str) -> None:
    with pytest.raises(ScorerConfigError, match="not a local reference") as caught:
        validate_config("json_schema", {"schema": schema})
    assert caught.value.path == path


def test_local_references_and_ids_are_accepted() -> None:
    schema = {
        "$id": "https://example.com/product.schema.json",
        "$defs": {"price": {"type": "number", "minimum": 0}},
        "properties": {"price": {"$ref": "#/$defs/price"}},
    }
    assert run('{"price": 3}', schema).score == 1.0
    assert run('{"price": -1}', schema).score == 0.0


def test_a_stored_remote_reference_is_never_retrieved(tmp_path: Any) -> None:
    # A config saved before the rule: score() must refuse it, not read the file.
    secret = tmp_path / "secret.json"
    secret.write_text('{"enum": ["CANARY-7f3a"]}')
    for schema in (
        {"$ref": secret.as_uri()},
        {"properties": {"a": {"$ref": secret.as_uri()}}},
        {"$id": tmp_path.as_uri() + "/", "properties": {"a": {"$ref": "secret.json"}}},
    ):
        config = {"schema": schema}
        result = score("json_schema", config, '{"a": 1}', None, regex_timeout_s=0.2)
        assert result.error is True, result
        assert "CANARY" not in result.reason
        assert "not a local reference" in result.reason


def test_the_validator_cannot_retrieve_even_past_the_check() -> None:
    # `#…` resolved against a remote $id base that is not in the schema: the registry
    # has nothing to give and no way to fetch.
    with pytest.raises(NoSuchResource, match=r"127\.0\.0\.1"):
        NO_RETRIEVAL.get_or_retrieve("http://127.0.0.1:9/x.json")


# --- schema patterns go through the bounded compile ----------------------------------------


@pytest.mark.parametrize(
    ("schema", "path"),
    [
        ({"type": "string", "pattern": "a{1000000000}"}, "config.schema.pattern"),
        (
            {"properties": {"a": {"pattern": "(a{1000}){1000}x"}}},
            "config.schema.properties.a.pattern",
        ),
        ({"patternProperties": {"(a{1000}){1000}x": {}}}, "config.schema.patternProperties"),
        ({"propertyNames": {"pattern": "a{1000000000}"}}, "config.schema.propertyNames.pattern"),
        (
            {
                "$schema": "http://json-schema.org/draft-04/schema#",
                "patternProperties": {"a{1000000000}": {}},
            },
            "config.schema.patternProperties",
        ),
    ],
)
def test_costly_schema_patterns_are_refused(schema: dict[str, Any], path: str) -> None:
    with pytest.raises(ScorerConfigError, match="the limit is") as caught:
        validate_config("json_schema", {"schema": schema})
    assert caught.value.path == path


def test_a_schema_has_a_pattern_budget() -> None:
    many = {"anyOf": [{"pattern": f"p{n}"} for n in range(101)]}
    with pytest.raises(ScorerConfigError, match="101 distinct patterns; the limit is 100"):
        validate_config("json_schema", {"schema": many})
    heavy = {"anyOf": [{"pattern": f"(?:{c}{{140}}){{140}}"} for c in "abc"]}
    with pytest.raises(ScorerConfigError, match="elements in total; the limit is 40,000"):
        validate_config("json_schema", {"schema": heavy})


def test_a_stored_costly_schema_pattern_is_a_case_error() -> None:
    config = {"schema": {"type": "string", "pattern": "(a{1000}){1000}x"}}
    result = score("json_schema", config, '"aaa"', None, regex_timeout_s=0.2)
    assert result.error is True
    assert result.reason.startswith("The schema is refused: ")


@pytest.mark.parametrize(
    "draft",
    [
        "https://json-schema.org/draft/2020-12/schema",
        "https://json-schema.org/draft/2019-09/schema",
    ],
)
def test_unevaluated_properties_match_patterns_on_regex(draft: str) -> None:
    # \p{Lu} is `regex` syntax; the stdlib `re` jsonschema uses here cannot compile it.
    schema = {
        "$schema": draft,
        "patternProperties": {r"^\p{Lu}": {"type": "integer"}},
        "unevaluatedProperties": False,
    }
    assert run('{"Abc": 1}', schema).score == 1.0
    result = run('{"Abc": 1, "abc": 2}', schema)
    assert result.score == 0.0 and "'abc' was unexpected" in result.reason


@pytest.mark.parametrize(
    "draft",
    [
        "https://json-schema.org/draft/2020-12/schema",
        "https://json-schema.org/draft/2019-09/schema",
    ],
)
def test_unevaluated_properties_pattern_runs_under_the_time_limit(draft: str) -> None:
    schema = {
        "$schema": draft,
        "allOf": [{"patternProperties": {"(a|aa)+$": {}}}],
        "unevaluatedProperties": False,
    }
    result = run('{"' + "a" * 40 + '!": 1}', schema, timeout=0.2)
    assert result.error is True and "timed out" in result.reason


def deep_object(depth: int) -> str:
    value: Any = "leaf"
    for _ in range(depth):
        value = {"k": value}
    return json.dumps(value)


# Schemas that refer back to themselves and validate each child more than once: the work
# doubles with each level of the instance (the first took 9 s at 18 levels, on the event
# loop). The whole validation is under the time limit, not only its patterns.
EXPONENTIAL_SCHEMAS: list[dict[str, Any]] = [
    {"type": "object", "properties": {"x": {}}, "unevaluatedProperties": {"$ref": "#"}},
    {"type": "object", "properties": {"k": {"anyOf": [{"$ref": "#"}, {"$ref": "#"}]}}},
    {
        "$schema": "https://json-schema.org/draft/2019-09/schema",
        "type": "object",
        "properties": {"k": {"oneOf": [{"$ref": "#"}, {"$ref": "#"}]}},
    },
    {
        "$schema": "http://json-schema.org/draft-07/schema#",
        "type": "object",
        "properties": {"k": {"anyOf": [{"$ref": "#"}, {"$ref": "#"}]}},
    },
]


@pytest.mark.parametrize("schema", EXPONENTIAL_SCHEMAS)
def test_a_schema_exponential_in_the_instance_ends_in_error_under_the_time_limit(
    schema: dict[str, Any],
) -> None:
    assert run(deep_object(3), schema).error is False  # shallow: answered as before
    result = run(deep_object(24), schema, timeout=0.2)
    assert result.error is True and result.score == 0.0
    # The whole validation's limit: at least VALIDATION_FLOOR_S (patterns keep 200 ms).
    assert result.reason == "The schema's validation timed out after 1000 ms"
    # And it runs in a thread, never on the event loop: the schema refers to itself.
    compiled = compile_case("json_schema", {"schema": schema}, None)
    assert compiled is not None and compiled.in_thread(deep_object(3))


def test_the_validation_budget_grows_with_the_output_only() -> None:
    assert validation_budget_s(0.001, 10) == VALIDATION_FLOOR_S  # a tiny regex limit too
    assert validation_budget_s(5.0, INLINE_OUTPUT_CHARS) == 5.0
    assert validation_budget_s(0.25, 1 << 20) == pytest.approx(
        VALIDATION_FLOOR_S + VALIDATION_S_PER_MIB
    )


@pytest.mark.parametrize(
    ("schema", "refers_to"),
    [
        ({"type": "object"}, False),
        ({"properties": {"a": {"items": [{"enum": ["$ref"]}]}}}, False),  # a value, not a key
        ({"properties": {"a": {"$ref": "#"}}}, True),
        ({"anyOf": [{}, {"items": {"$dynamicRef": "#node"}}]}, True),
        ({"$defs": {"n": {"$recursiveRef": "#"}}}, True),
    ],
)
def test_a_schema_with_a_reference_is_validated_in_a_thread(
    schema: dict[str, Any], refers_to: bool
) -> None:
    assert refers(schema) is refers_to
    compiled = compile_case("json_schema", {"schema": schema}, None)
    assert compiled is not None
    assert compiled.in_thread("{}") is refers_to
    assert compiled.in_thread("[" + "1," * INLINE_OUTPUT_CHARS + "1]") is True  # long output


def test_a_large_output_is_validated_in_full_whatever_the_regex_limit() -> None:
    """A dense 1 MiB array takes most of a second to validate: its budget grows with its
    size, so it is judged, not cut off at the (here 10 ms) regex time limit."""
    schema = {
        "type": "array",
        "items": {
            "type": "object",
            "properties": {
                "name": {"type": "string", "pattern": "^[a-z]+$"},
                "n": {"type": "integer"},
            },
            "required": ["name", "n"],
        },
    }
    output = json.dumps([{"name": "abcdef", "n": 5, "tags": ["x", "y"]}] * 25_000)
    assert len(output) > 1 << 20
    result = run(output, schema, timeout=0.01)
    assert (result.error, result.score) == (False, 1.0), result.reason
    bad = output[:-1] + ', {"name": "ABC", "n": 1}]'
    assert run(bad, schema, timeout=0.01).reason.startswith("$[25000].name:")


def test_a_ref_to_a_root_that_names_its_draft_stays_guarded() -> None:
    # jsonschema's `evolve` switched to the stock draft for a subschema with `$schema`, so
    # past `$ref: "#"` patterns ran on `re` with no time limit (40 a's: seconds).
    schema = {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "properties": {"a": {"$ref": "#"}},
        "pattern": "^(a|aa)+$",
    }
    result = run(json.dumps({"a": "a" * 40 + "!"}), schema, timeout=0.2)
    assert result.error is True and "timed out" in result.reason


UNEVALUATED_SCHEMAS: list[dict[str, Any]] = [
    {"properties": {"a": {}}, "unevaluatedProperties": False},
    {"allOf": [{"properties": {"a": {}}}], "unevaluatedProperties": False},
    {
        "anyOf": [{"properties": {"a": {}}}, {"properties": {"b": {}}}],
        "unevaluatedProperties": {"type": "integer"},
    },
    {
        "$defs": {"x": {"properties": {"b": {}}}},
        "$ref": "#/$defs/x",
        "unevaluatedProperties": False,
    },
    {
        "if": {"required": ["a"]},
        "then": {"properties": {"b": {}}},
        "else": {"properties": {"c": {}}},
        "unevaluatedProperties": False,
    },
    {
        "dependentSchemas": {"a": {"properties": {"b": {}}}},
        "properties": {"a": {}},
        "unevaluatedProperties": False,
    },
    {"additionalProperties": {"type": "string"}, "unevaluatedProperties": False},
    {"patternProperties": {"^x": {}}, "unevaluatedProperties": {"type": "string"}},
]
UNEVALUATED_OUTPUTS = [
    "{}",
    '{"a": 1}',
    '{"a": 1, "b": 2}',
    '{"c": "s"}',
    '{"x1": 1, "d": 2}',
    '{"b": "t", "y": 3}',
]


@pytest.mark.parametrize(
    "draft",
    [
        "https://json-schema.org/draft/2020-12/schema",
        "https://json-schema.org/draft/2019-09/schema",
    ],
)
@pytest.mark.parametrize("schema", UNEVALUATED_SCHEMAS)
def test_unevaluated_properties_agree_with_jsonschema(draft: str, schema: dict[str, Any]) -> None:
    full = {"$schema": draft, **schema}
    stock = validators.validator_for(full)(full)
    for output in UNEVALUATED_OUTPUTS:
        expected = stock.is_valid(json.loads(output))
        assert (run(output, full).score == 1.0) is expected, output
