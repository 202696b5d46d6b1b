"""The `structured-output` template."""

from __future__ import annotations

import json
from typing import Any

from launchgate.suites.templates.model import (
    Template,
    TemplateCase,
    TemplateScorer,
    none_of,
    regex_config,
)

_ORDER_SCHEMA: dict[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "title": "Support request extraction",
    "type": "object",
    "required": ["intent", "order_id", "priority", "items"],
    "additionalProperties": False,
    "properties": {
        "intent": {
            "type": "string",
            "enum": ["refund", "exchange", "order_status", "cancel", "other"],
        },
        "order_id": {"type": "string", "pattern": "^[A-Z]-\\d{4}$"},
        "priority": {"type": "string", "enum": ["low", "normal", "high"]},
        "items": {
            "type": "array",
            "minItems": 1,
            "items": {
                "type": "object",
                "required": ["sku", "quantity"],
                "additionalProperties": False,
                "properties": {
                    "sku": {"type": "string", "pattern": "^SKU-\\d{5}$"},
                    "quantity": {"type": "integer", "minimum": 1},
                    "reason": {"type": ["string", "null"], "maxLength": 200},
                },
            },
        },
    },
}

# The golden extraction for the template's input message; also the quickstart's good output.
# No free-form number (a confidence, say) in it: an exact match on a float would be flaky.
_ORDER_GOLDEN: dict[str, Any] = {
    "intent": "refund",
    "order_id": "A-1042",
    "priority": "normal",
    "items": [{"sku": "SKU-88213", "quantity": 1, "reason": "arrived cracked"}],
}

STRUCTURED_OUTPUT_DEMO_PASS: str = json.dumps(_ORDER_GOLDEN, indent=2)
"""An output that passes every case of `structured-output` (used by the quickstart)."""

STRUCTURED_OUTPUT_DEMO_FAIL: str = (
    "Sure! Here is the order I extracted:\n\n"
    '{"intent": "return", "order_id": "1042", "items": [{"sku": "88213", "quantity": "one"}]}'
    "\n\nLet me know if you need anything else."
)
"""An output that fails `structured-output`: prose around invalid, off-schema JSON."""

_PLACEHOLDERS = ["TODO", "TBD", "lorem ipsum", "<order_id>", "<sku>", "example.com"]

_ORDER_INPUT = {
    "message": (
        "Hi, my order A-1042 arrived yesterday but the mug (SKU-88213) was cracked. "
        "I'd like my money back please."
    ),
}

STRUCTURED_OUTPUT = Template(
    slug="structured-output",
    name="Structured output",
    description=(
        "For features that must answer in JSON: the output is only a JSON object, valid "
        "against a schema (required fields, types, enums), with no placeholders, and equal "
        "to a golden extraction. Fully deterministic: no provider key needed."
    ),
    category="format",
    pass_threshold=1.0,
    scorers=(
        TemplateScorer(
            key="order-schema",
            name="Valid against the order schema",
            type="json_schema",
            config={"schema": _ORDER_SCHEMA},
        ),
        TemplateScorer(
            key="json-only",
            name="JSON only, no prose around it",
            type="regex",
            config=regex_config(r"^\s*\{[\s\S]*\}\s*$"),
        ),
        TemplateScorer(
            key="no-placeholders",
            name="No placeholder values",
            type="contains",
            config=none_of(_PLACEHOLDERS),
        ),
        TemplateScorer(
            key="golden-match",
            name="Equals the golden extraction",
            type="exact_match",
            config={"case_sensitive": True, "strip": True},
        ),
    ),
    cases=(
        TemplateCase(
            name="Valid against the order schema",
            scorer="order-schema",
            input=_ORDER_INPUT,
            threshold=1.0,
        ),
        TemplateCase(
            name="JSON only, no prose around it",
            scorer="json-only",
            input=_ORDER_INPUT,
            threshold=1.0,
        ),
        TemplateCase(
            name="No placeholder values",
            scorer="no-placeholders",
            input=_ORDER_INPUT,
            threshold=1.0,
        ),
        TemplateCase(
            name="Matches the golden extraction",
            scorer="golden-match",
            input=_ORDER_INPUT,
            expected=_ORDER_GOLDEN,
            threshold=1.0,
        ),
    ),
)
