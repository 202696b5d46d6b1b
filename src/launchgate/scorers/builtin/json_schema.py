"""`json_schema`: the output parses as JSON and validates against a schema.

The draft is the one the schema's `$schema` names, else 2020-12. A schema is
self-contained: every `$ref` (`$dynamicRef`, `$recursiveRef`) must be local (`#…`), and the
validator's registry cannot retrieve anything, so a schema never makes the server read a
file or a URL (a stored schema from before that rule ends its case in error). Patterns in
the schema run on the `regex` module, measured before they are compiled and searched under
the run's regex time limit, like the `regex` scorer's; the whole validation runs under that
limit too (see `schema_keywords`).
"""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator
from functools import lru_cache
from typing import Any

import regex
from jsonschema import FormatChecker, validators
from jsonschema.exceptions import SchemaError, ValidationError
from referencing import Registry, Resource
from referencing.exceptions import NoSuchResource

from launchgate.scorers.builtin.js_regex import JsRegexError
from launchgate.scorers.builtin.jsontext import parse_json_output
from launchgate.scorers.builtin.pattern_cost import PatternTooCostly
from launchgate.scorers.builtin.regex_match import compile_measured
from launchgate.scorers.builtin.result import (
    ConfigReader,
    ScorerConfigError,
    ScoreResult,
    json_type,
    one_line,
)
from launchgate.scorers.builtin.schema_keywords import (
    SchemaTimeout,
    Validator,
    deadline,
    guarded,
)

ALLOWED_KEYS = ("schema",)
DEFAULT_DRAFT = validators.Draft202012Validator
MAX_ERRORS_NAMED = 3
ERROR_MESSAGE_LIMIT = 100
# One schema's patterns together (each within the limits of pattern_cost): compiling them
# all takes at most about half a second (in a worker thread) and ~6 MB.
MAX_SCHEMA_PATTERNS = 100
MAX_SCHEMA_PATTERN_LENGTH = 20_000
MAX_SCHEMA_PATTERN_SIZE = 40_000
REFERENCE_KEYWORDS = ("$ref", "$dynamicRef", "$recursiveRef")


def _no_retrieval(uri: str) -> Resource[Any]:
    """The validator's only way to fetch a document it does not hold: refuse."""
    raise NoSuchResource(ref=uri)  # type: ignore[call-arg]  # attrs: public, untyped init


# An explicit registry is required: without one, jsonschema fetches remote references
# (file:// and http:// alike) with only a warning.
NO_RETRIEVAL: Registry[Any] = Registry(retrieve=_no_retrieval)  # type: ignore[call-arg]


def validate(config: object) -> dict[str, Any]:
    """Normalise a json_schema config and check the schema against its own draft."""
    reader = ConfigReader(config, ALLOWED_KEYS, scorer="json_schema")
    schema = copy.deepcopy(_schema_value(config, reader))
    draft = _draft_of(schema)
    try:
        check_self_contained(schema)
        check_patterns(schema)
        draft.check_schema(schema, format_checker=_schema_format_checker(draft))
    except SchemaError as exc:
        where = "config.schema" + exc.json_path[1:]
        raise ScorerConfigError(
            f"Invalid JSON schema at {where}: {exc.message}", path=where
        ) from exc
    except RecursionError as exc:
        raise ScorerConfigError("The schema is nested too deeply", path="config.schema") from exc
    return {"schema": schema}


def _schema_value(config: object, reader: ConfigReader) -> dict[str, Any] | bool:
    """A schema is a JSON object, or a boolean: `true` accepts every instance and `false`
    none, in every draft from 6 on (as subschemas too, where jsonschema handles them)."""
    value = config.get("schema") if isinstance(config, dict) else None
    if isinstance(value, bool):
        return value
    if value is not None and not isinstance(value, dict):
        raise ScorerConfigError(
            f"config.schema must be a JSON object or a boolean, got {json_type(value)}",
            path="config.schema",
        )
    return reader.mapping("schema")


def check_self_contained(schema: Any) -> None:
    """Refuse every reference that is not local (`#…`): a schema may not name a file or
    a URL for the server to read."""
    for path, node in _objects(schema, "config.schema"):
        for keyword in REFERENCE_KEYWORDS:
            ref = node.get(keyword)
            if isinstance(ref, str) and not ref.startswith("#"):
                raise ScorerConfigError(
                    f"{path}.{keyword} {one_line(repr(ref), 80)} is not a local reference: "
                    'schemas must be self-contained, so a reference starts with "#" '
                    '(e.g. "#/$defs/item"); nothing is fetched',
                    path=f"{path}.{keyword}",
                )


def check_patterns(schema: Any) -> None:
    """Measure (and compile) every `pattern` and `patternProperties` key of the schema;
    refuse one that is not a JavaScript pattern or is over the limits of pattern_cost, and
    too many or too much in total.

    A pattern that does not parse is left to `check_schema`, which says so in its words."""
    found = _patterns(schema)
    if len(found) > MAX_SCHEMA_PATTERNS:
        raise ScorerConfigError(
            f"The schema has {len(found):,} distinct patterns; the limit is {MAX_SCHEMA_PATTERNS}",
            path="config.schema",
        )
    length = sum(len(pattern) for pattern in found)
    if length > MAX_SCHEMA_PATTERN_LENGTH:
        raise ScorerConfigError(
            f"The schema's patterns total {length:,} characters; the limit is "
            f"{MAX_SCHEMA_PATTERN_LENGTH:,}",
            path="config.schema",
        )
    size = 0
    for pattern, path in found.items():
        try:
            size += compile_measured(pattern)[1]
        except PatternTooCostly as exc:
            raise ScorerConfigError(f"{path}: {exc}", path=path) from exc
        except JsRegexError as exc:
            # ECMA-262, as the drafts say: the same reading as the regex scorer's, and the
            # same words for what is wrong ("\\A is not a JavaScript escape…").
            raise ScorerConfigError(f"{path}: invalid pattern: {exc}", path=path) from exc
        except (regex.error, OverflowError, ValueError):
            continue
    if size > MAX_SCHEMA_PATTERN_SIZE:
        raise ScorerConfigError(
            f"The schema's patterns expand to {size:,} elements in total; the limit is "
            f"{MAX_SCHEMA_PATTERN_SIZE:,}",
            path="config.schema",
        )


def _patterns(schema: Any) -> dict[str, str]:
    """Each distinct pattern of the schema and the first place it appears."""
    found: dict[str, str] = {}
    for path, node in _objects(schema, "config.schema"):
        if isinstance(node.get("pattern"), str):
            found.setdefault(node["pattern"], f"{path}.pattern")
        if isinstance(node.get("patternProperties"), dict):
            for key in node["patternProperties"]:
                found.setdefault(key, f"{path}.patternProperties")
    return found


def _objects(value: Any, path: str) -> Iterator[tuple[str, dict[str, Any]]]:
    """Every JSON object in `value`, with its path, data positions included (a `$ref` may
    point anywhere, `#/const` too). Iterative: a deep stored schema cannot overflow."""
    stack = [(path, value)]
    while stack:
        where, item = stack.pop()
        if isinstance(item, dict):
            yield where, item
            stack.extend((f"{where}.{key}", child) for key, child in item.items())
        elif isinstance(item, list):
            stack.extend((f"{where}[{index}]", child) for index, child in enumerate(item))


def _draft_of(schema: dict[str, Any] | bool) -> Any:
    if isinstance(schema, bool) or "$schema" not in schema:
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
        raise ScorerConfigError(
            "JSON Schema draft 3 is not supported; use draft 4 or later",
            path="config.schema.$schema",
        )
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
        try:
            compile_measured(instance)
        except (PatternTooCostly, JsRegexError) as exc:
            # check_patterns names a costly one first, with the limit; a pattern that is not
            # JavaScript is the format's failure, in the schema checker's words.
            raise regex.error(str(exc)) from exc
    return True


def prepare(config: dict[str, Any]) -> Validator | ScoreResult:
    """The schema's validator, built once for many outputs, or the error result every
    output gets (a schema refused since it was stored)."""
    try:
        return _validator(json.dumps(config["schema"], sort_keys=True))
    except ScorerConfigError as exc:
        # Stored before today's rules: refused here as it would be at creation.
        return ScoreResult(0.0, f"The schema is refused: {exc.message}", error=True)
    except RecursionError:
        return ScoreResult(0.0, "The schema is nested too deeply", error=True)


# The whole validation's time limit: at least VALIDATION_FLOOR_S, plus VALIDATION_S_PER_MIB
# per MiB of an output longer than INLINE_OUTPUT_CHARS (whose patterns share it; a shorter
# output's patterns keep the regex time limit). Such an output, and any schema with a
# reference (the only way its work can grow faster than schema × output: a `$ref` back up
# validates a part again), is validated in a thread (compiled.py), where the limit bounds
# a thread and the event loop keeps serving; the rest — small outputs against plain
# schemas, a few ms at most — on the loop. A 1 MiB array of objects takes ~0.75 s on our
# machines, one of small integers under five keywords each ~4.5 s; the allowance leaves
# room for a loaded machine and a richer schema, so a large output's verdict does not
# depend on the machine's load.
INLINE_OUTPUT_CHARS = 16_384
VALIDATION_FLOOR_S = 1.0
VALIDATION_S_PER_MIB = 30.0
_REFERENCES = frozenset(("$ref", "$dynamicRef", "$recursiveRef"))


def validation_budget_s(regex_timeout_s: float, output_chars: int) -> float:
    """The time limit of one validation of an output of `output_chars` characters."""
    budget = max(regex_timeout_s, VALIDATION_FLOOR_S)
    if output_chars > INLINE_OUTPUT_CHARS:
        budget += VALIDATION_S_PER_MIB * output_chars / (1 << 20)
    return budget


def refers(schema: Any) -> bool:
    """Whether the schema holds a reference anywhere (`$ref`, `$dynamicRef`,
    `$recursiveRef`): then its validation goes to a thread whatever the output's size."""
    pending = [schema]
    while pending:
        node = pending.pop()
        if isinstance(node, dict):
            if not _REFERENCES.isdisjoint(node):
                return True
            pending.extend(node.values())
        elif isinstance(node, list):
            pending.extend(node)
    return False


def score(config: dict[str, Any], output: str, *, regex_timeout_s: float) -> ScoreResult:
    """1.0 when the output is JSON that the schema accepts; the reason names failing paths."""
    return score_prepared(prepare(config), output, regex_timeout_s=regex_timeout_s)


def score_prepared(
    prepared: Validator | ScoreResult, output: str, *, regex_timeout_s: float
) -> ScoreResult:
    """`score` with the validator prepared."""
    try:
        instance = parse_json_output(output)
    except ValueError as exc:
        return ScoreResult(0.0, f"Output is not valid JSON: {exc}")
    budget_s = validation_budget_s(regex_timeout_s, len(output))
    # A long output's patterns share its whole budget: their searches add up with its size.
    patterns_s = regex_timeout_s if len(output) <= INLINE_OUTPUT_CHARS else budget_s
    return _validated(prepared, instance, patterns_s, budget_s)


def _validated(
    prepared: Validator | ScoreResult, instance: Any, regex_timeout_s: float, budget_s: float
) -> ScoreResult:
    if isinstance(prepared, ScoreResult):
        return prepared
    try:
        with deadline(regex_timeout_s, budget_s):
            errors = sorted(prepared.iter_errors(instance), key=_error_order)
    except SchemaTimeout:
        return ScoreResult(
            0.0,
            f"The schema's validation timed out after {round(budget_s * 1000)} ms",
            error=True,
        )
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
    """One validator per distinct schema, keyed by its canonical JSON text; it resolves
    references inside the schema only."""
    schema = json.loads(schema_key)
    check_self_contained(schema)
    check_patterns(schema)
    return guarded(_draft_of(schema))(schema, registry=NO_RETRIEVAL)
