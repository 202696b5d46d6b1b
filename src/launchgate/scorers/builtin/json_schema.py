"""`json_schema`: the output parses as JSON and validates against a schema.

The draft is the one the schema's `$schema` names, else 2020-12. Patterns inside the schema
(`pattern`, `patternProperties`, and the `additionalProperties` check that depends on them)
run on the `regex` module under the run's regex time limit, like the `regex` scorer: a
user-written schema must not be able to stall a worker either. (`unevaluatedProperties`
beside `patternProperties` still uses the stdlib `re`; that combination is rare.)
"""

from __future__ import annotations

import copy
import json
import math
import time
from collections.abc import Iterator
from contextvars import ContextVar
from functools import lru_cache
from typing import Any

import regex
from jsonschema import FormatChecker, validators
from jsonschema.exceptions import SchemaError, ValidationError

from launchgate.scorers.builtin.jsontext import parse_json_output
from launchgate.scorers.builtin.regex_match import compile_pattern
from launchgate.scorers.builtin.result import ConfigReader, ScorerConfigError, ScoreResult, one_line

# jsonschema ships no type information (no py.typed), so its validators are Any to mypy.
Validator = Any

ALLOWED_KEYS = ("schema",)
DEFAULT_DRAFT = validators.Draft202012Validator
MAX_ERRORS_NAMED = 3
ERROR_MESSAGE_LIMIT = 100

# When the patterns of the validation in progress must give up (time.monotonic()).
_regex_deadline: ContextVar[float] = ContextVar(
    "launchgate_schema_regex_deadline", default=math.inf
)


def validate(config: object) -> dict[str, Any]:
    """Normalise a json_schema config and check the schema against its own draft."""
    reader = ConfigReader(config, ALLOWED_KEYS, scorer="json_schema")
    schema = copy.deepcopy(reader.mapping("schema"))
    draft = _draft_of(schema)
    try:
        draft.check_schema(schema, format_checker=_schema_format_checker(draft))
    except SchemaError as exc:
        where = "config.schema" + exc.json_path[1:]
        raise ScorerConfigError(
            f"Invalid JSON schema at {where}: {exc.message}", path=where
        ) from exc
    return {"schema": schema}


def _draft_of(schema: dict[str, Any]) -> Any:
    if "$schema" not in schema:
        return DEFAULT_DRAFT
    uri = schema["$schema"]
    draft = validators.validator_for(schema, default=None) if isinstance(uri, str) else None
    if draft is None:
        # jsonschema would fall back to the latest draft with a warning; a typo here would
        # silently change the rules, so it is an error.
        raise ScorerConfigError(f"Unknown $schema {uri!r}", path="config.schema.$schema")
    if draft is validators.Draft3Validator:
        # Draft 3 (2010) has different keyword semantics and format names; nobody writes it
        # now, and half-supporting it would be worse than saying so.
        raise ScorerConfigError("JSON Schema draft 3 is not supported; use draft 4 or later",
                                path="config.schema.$schema")
    return draft


@lru_cache(maxsize=16)
def _schema_format_checker(draft: Any) -> FormatChecker:
    """The draft's own format checks, except that patterns must compile on `regex`, the
    engine that will run them (so `\\p{Lu}` is accepted, as in ECMA-262 with `u`)."""
    checker = FormatChecker(draft.FORMAT_CHECKER.checkers)
    checker.checks("regex", raises=regex.error)(_compiles)
    return checker


def _compiles(instance: object) -> bool:
    if isinstance(instance, str):
        compile_pattern(instance)
    return True


def score(config: dict[str, Any], output: str, *, regex_timeout_s: float) -> ScoreResult:
    """1.0 when the output is JSON that the schema accepts; the reason names failing paths."""
    try:
        instance = parse_json_output(output)
    except ValueError as exc:
        return ScoreResult(0.0, f"Output is not valid JSON: {exc}")
    validator = _validator(json.dumps(config["schema"], sort_keys=True))
    token = _regex_deadline.set(time.monotonic() + regex_timeout_s)
    try:
        errors = sorted(validator.iter_errors(instance), key=_error_order)
    except TimeoutError:
        return ScoreResult(
            0.0, f"A schema pattern timed out after {round(regex_timeout_s * 1000)} ms", error=True
        )
    except RecursionError:
        return ScoreResult(0.0, "Output JSON is nested too deeply to validate", error=True)
    except Exception as exc:
        # An unresolvable $ref or a pattern `regex` rejects: the schema's fault, not the
        # output's, so the case ends in error rather than as a silent fail.
        return ScoreResult(0.0, f"The schema could not be applied: {exc}", error=True)
    finally:
        _regex_deadline.reset(token)
    if not errors:
        return ScoreResult(1.0, "Output matches the JSON schema")
    return ScoreResult(0.0, _describe(errors))


def _describe(errors: list[ValidationError]) -> str:
    named = "; ".join(
        f"{error.json_path}: {one_line(error.message, ERROR_MESSAGE_LIMIT)}"
        for error in errors[:MAX_ERRORS_NAMED]
    )
    hidden = len(errors) - MAX_ERRORS_NAMED
    return f"{named} (and {hidden} more)" if hidden > 0 else named


def _error_order(error: ValidationError) -> tuple[tuple[tuple[int, int, str], ...], str]:
    # Indices sort numerically and before keys, so $.items[2] comes before $.items[10].
    path = tuple(
        (0, elem, "") if isinstance(elem, int) else (1, 0, str(elem))
        for elem in error.absolute_path
    )
    return path, error.message


@lru_cache(maxsize=256)
def _validator(schema_key: str) -> Validator:
    """One validator per distinct schema, keyed by its canonical JSON text."""
    schema = json.loads(schema_key)
    return _guarded(_draft_of(schema))(schema)


@lru_cache(maxsize=16)
def _guarded(draft: Any) -> Any:
    """`draft` with its regex keywords running on `regex` under the current deadline."""
    return validators.extend(
        draft,
        {
            "pattern": _pattern,
            "patternProperties": _pattern_properties,
            "additionalProperties": _additional_properties,
        },
    )


def _search(pattern: str, text: str) -> bool:
    remaining = _regex_deadline.get() - time.monotonic()
    if remaining <= 0:
        raise TimeoutError("regex timed out")
    timeout = None if math.isinf(remaining) else remaining
    return compile_pattern(pattern).search(text, timeout=timeout) is not None


def _pattern(
    validator: Validator, pattern: str, instance: Any, schema: Any
) -> Iterator[ValidationError]:
    if validator.is_type(instance, "string") and not _search(pattern, instance):
        yield ValidationError(f"{instance!r} does not match {pattern!r}")


def _pattern_properties(
    validator: Validator, patterns: dict[str, Any], instance: Any, schema: Any
) -> Iterator[ValidationError]:
    if not validator.is_type(instance, "object"):
        return
    for pattern, subschema in patterns.items():
        for key, value in instance.items():
            if _search(pattern, key):
                yield from validator.descend(value, subschema, path=key, schema_path=pattern)


def _additional_properties(
    validator: Validator, additional: Any, instance: Any, schema: dict[str, Any]
) -> Iterator[ValidationError]:
    if not validator.is_type(instance, "object"):
        return
    extras = [key for key in instance if not _is_declared(key, schema)]
    if validator.is_type(additional, "object"):
        for extra in extras:
            yield from validator.descend(instance[extra], additional, path=extra)
    elif additional is False and extras:
        names = ", ".join(repr(extra) for extra in sorted(extras))
        verb = "was" if len(extras) == 1 else "were"
        yield ValidationError(f"Additional properties are not allowed ({names} {verb} unexpected)")


def _is_declared(key: str, schema: dict[str, Any]) -> bool:
    if key in schema.get("properties", {}):
        return True
    return any(_search(pattern, key) for pattern in schema.get("patternProperties", {}))
