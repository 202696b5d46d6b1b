"""The JSON Schema keywords that run patterns, rewritten to run them safely.

jsonschema runs `pattern`, `patternProperties` (and the `additionalProperties` and
`unevaluatedProperties` checks that depend on them) with the stdlib `re`: no time limit,
and no bound on what compiling costs. Here every one of them goes through
`regex_match.compile_pattern` (measured before it is compiled, see `pattern_cost`) and
searches under the deadline `deadline()` sets for the validation in progress — or, for
a pattern RE2 runs with the same meaning, on RE2, which is linear-time and needs no
deadline (`regex_match.linear_for`). The
`unevaluatedProperties` finder is jsonschema's (`_utils` for 2020-12, `_legacy_keywords`
for 2019-09) with only its pattern search changed.

The deadline bounds the whole validation, not only its patterns: every keyword checks it
before it runs (`SchemaTimeout`). A schema that refers back to itself makes the work grow
with the instance's depth, and some grow exponentially: `unevaluatedProperties` (and
`anyOf`, `oneOf`…) through a `$ref` to `#` validate each child more than once, so
`{"type": "object", "properties": {"x": {}}, "unevaluatedProperties": {"$ref": "#"}}` took
9 s on an object 18 levels deep and doubled with each level — on the event loop, where
schemas are validated.
"""

from __future__ import annotations

import math
import time
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from functools import lru_cache
from typing import Any

import attrs
from jsonschema import validators
from jsonschema.exceptions import ValidationError
from referencing.jsonschema import lookup_recursive_ref

from launchgate.scorers.builtin.regex_match import compile_both, linear_for

# jsonschema ships no type information (no py.typed), so its validators are Any to mypy.
Validator = Any

# When the patterns of the validation in progress must give up (time.monotonic()).
_regex_deadline: ContextVar[float] = ContextVar(
    "launchgate_schema_regex_deadline", default=math.inf
)
# When the validation in progress as a whole must give up.
_validation_deadline: ContextVar[float] = ContextVar(
    "launchgate_schema_validation_deadline", default=math.inf
)


class SchemaTimeout(TimeoutError):
    """The validation in progress ran past its deadline outside a pattern search."""


@contextmanager
def deadline(timeout_s: float, validation_s: float | None = None) -> Iterator[None]:
    """Every schema pattern searched inside this block shares one time limit,
    ``timeout_s``; the validation as a whole has ``validation_s`` (the same by default)."""
    now = time.monotonic()
    token = _regex_deadline.set(now + timeout_s)
    whole = _validation_deadline.set(now + (timeout_s if validation_s is None else validation_s))
    try:
        yield
    finally:
        _validation_deadline.reset(whole)
        _regex_deadline.reset(token)


@lru_cache(maxsize=16)
def guarded(draft: Any) -> Any:
    """`draft` with its pattern keywords running on `regex`, bounded, and every keyword
    under the deadline."""
    keywords: dict[str, Any] = dict(draft.VALIDATORS)
    keywords.update(
        pattern=_pattern,
        patternProperties=_pattern_properties,
        additionalProperties=_additional_properties,
    )
    if "unevaluatedProperties" in draft.VALIDATORS:  # 2019-09 and later only
        legacy = "$recursiveRef" in draft.VALIDATORS
        keywords["unevaluatedProperties"] = (
            _unevaluated_properties_2019 if legacy else _unevaluated_properties
        )
    extended = validators.extend(draft, {name: _timed(kw) for name, kw in keywords.items()})
    extended.evolve = _evolve_within(extended)
    return extended


def _evolve_within(cls: Any) -> Any:
    """jsonschema's `evolve`, except that it stays in `cls`. jsonschema's picks the class
    for the subschema's `$schema` when it has one: the stock draft, whose patterns run on
    `re` without a time limit and whose keywords ignore the deadline — reached by any
    `$ref` to the root of a schema that names its `$schema`."""
    init_fields = [(field.name, field.alias) for field in attrs.fields(cls) if field.init]

    def evolve(self: Validator, **changes: Any) -> Validator:
        changes.setdefault("schema", self.schema)
        for attr_name, init_name in init_fields:
            if init_name not in changes:
                changes[init_name] = getattr(self, attr_name)
        return cls(**changes)

    return evolve


def _timed(keyword: Any) -> Any:
    """`keyword`, which first checks the deadline of the validation in progress."""

    def timed(
        validator: Validator, value: Any, instance: Any, schema: Any
    ) -> Iterator[ValidationError]:
        if time.monotonic() > _validation_deadline.get():
            raise SchemaTimeout("schema validation timed out")
        yield from keyword(validator, value, instance, schema) or ()

    return timed


def search(pattern: str, text: str) -> bool:
    """Whether `pattern` occurs in `text`, within what is left of the deadline."""
    remaining = _regex_deadline.get() - time.monotonic()
    if remaining <= 0:
        raise TimeoutError("regex timed out")
    compiled = compile_both(pattern)
    linear = linear_for(compiled, text)
    if linear is not None:  # linear-time: no time limit needed (regex_match, re2_dialect)
        return linear.search(text) is not None
    timeout = None if math.isinf(remaining) else remaining
    return compiled.pattern.search(text, timeout=timeout) is not None


def _pattern(
    validator: Validator, pattern: str, instance: Any, schema: Any
) -> Iterator[ValidationError]:
    if validator.is_type(instance, "string") and not search(pattern, instance):
        yield ValidationError(f"{instance!r} does not match {pattern!r}")


def _pattern_properties(
    validator: Validator, patterns: dict[str, Any], instance: Any, schema: Any
) -> Iterator[ValidationError]:
    if not validator.is_type(instance, "object"):
        return
    for pattern, subschema in patterns.items():
        for key, value in instance.items():
            if search(pattern, key):
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
        yield ValidationError(f"Additional properties are not allowed ({_extras(extras)})")


def _is_declared(key: str, schema: dict[str, Any]) -> bool:
    if key in schema.get("properties", {}):
        return True
    return any(search(pattern, key) for pattern in schema.get("patternProperties", {}))


def _extras(keys: list[str]) -> str:
    names = ", ".join(repr(key) for key in sorted(keys, key=str))
    return f"{names} {'was' if len(keys) == 1 else 'were'} unexpected"


# --- unevaluatedProperties ------------------------------------------------------------------


def _unevaluated_properties(
    validator: Validator, unevaluated: Any, instance: Any, schema: dict[str, Any]
) -> Iterator[ValidationError]:
    yield from _unevaluated(validator, unevaluated, instance, schema, legacy=False)


def _unevaluated_properties_2019(
    validator: Validator, unevaluated: Any, instance: Any, schema: dict[str, Any]
) -> Iterator[ValidationError]:
    yield from _unevaluated(validator, unevaluated, instance, schema, legacy=True)


def _unevaluated(
    validator: Validator,
    unevaluated: Any,
    instance: Any,
    schema: dict[str, Any],
    *,
    legacy: bool,
) -> Iterator[ValidationError]:
    if not validator.is_type(instance, "object"):
        return
    evaluated = _evaluated_keys(validator, instance, schema, legacy)
    failing = [
        key
        for key in instance
        if key not in evaluated
        and not _valid(validator.descend(instance[key], unevaluated, path=key, schema_path=key))
    ]
    if not failing:
        return
    if unevaluated is False:
        yield ValidationError(f"Unevaluated properties are not allowed ({_extras(failing)})")
    else:
        names = ", ".join(repr(key) for key in failing)
        verb = "was" if len(failing) == 1 else "were"
        yield ValidationError(
            "Unevaluated properties are not valid under the given schema "
            f"({names} {verb} unevaluated and invalid)"
        )


def _evaluated_keys(
    validator: Validator, instance: dict[str, Any], schema: Any, legacy: bool
) -> set[str]:
    """The keys of `instance` that `schema` evaluates (the annotations unevaluatedProperties
    reads), following jsonschema's finder of the same draft."""
    if validator.is_type(schema, "boolean"):
        return set()
    keys: set[str] = set()
    for resolved in _references(validator, schema, legacy):
        child = validator.evolve(schema=resolved.contents, _resolver=resolved.resolver)
        keys |= _evaluated_keys(child, instance, resolved.contents, legacy)
    keys |= _keys_by_properties(validator, instance, schema, legacy)
    for pattern in schema.get("patternProperties", {}):
        keys.update(key for key in instance if search(pattern, key))
    for name, subschema in schema.get("dependentSchemas", {}).items():
        if name in instance:
            keys |= _evaluated_keys(validator, instance, subschema, legacy)
    for keyword in ("allOf", "oneOf", "anyOf"):
        for subschema in schema.get(keyword, []):
            if _valid(validator.descend(instance, subschema)):
                keys |= _evaluated_keys(validator, instance, subschema, legacy)
    if "if" in schema:
        if validator.evolve(schema=schema["if"]).is_valid(instance):
            keys |= _evaluated_keys(validator, instance, schema["if"], legacy)
            if "then" in schema:
                keys |= _evaluated_keys(validator, instance, schema["then"], legacy)
        elif "else" in schema:
            keys |= _evaluated_keys(validator, instance, schema["else"], legacy)
    return keys


def _references(validator: Validator, schema: dict[str, Any], legacy: bool) -> Iterator[Any]:
    if (ref := schema.get("$ref")) is not None:
        yield validator._resolver.lookup(ref)
    if legacy and "$recursiveRef" in schema:
        yield lookup_recursive_ref(validator._resolver)
    if not legacy and (dynamic := schema.get("$dynamicRef")) is not None:
        yield validator._resolver.lookup(dynamic)


def _keys_by_properties(
    validator: Validator, instance: dict[str, Any], schema: dict[str, Any], legacy: bool
) -> set[str]:
    keys: set[str] = set()
    properties = schema.get("properties")
    if not legacy and isinstance(properties, dict):
        keys |= properties.keys() & instance.keys()
    for keyword in ("properties", "additionalProperties", "unevaluatedProperties"):
        if keyword not in schema or (keyword == "properties" and not legacy):
            continue
        value = schema[keyword]
        if not legacy:  # 2020-12: the keys whose values the subschema accepts
            keys.update(
                key for key, item in instance.items() if _valid(validator.descend(item, value))
            )
        elif validator.is_type(value, "boolean") and value:
            keys |= instance.keys()
        elif validator.is_type(value, "object"):
            keys.update(name for name in value if name in instance)
    return keys


def _valid(errors: Iterator[ValidationError]) -> bool:
    return next(errors, None) is None
