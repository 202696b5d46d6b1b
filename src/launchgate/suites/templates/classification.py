"""The `classification` template."""

from __future__ import annotations

from launchgate.suites.templates.model import (
    Template,
    TemplateCase,
    TemplateScorer,
    any_of,
    none_of,
    regex_config,
)

_LABELS = ["billing", "technical", "account", "shipping", "other"]
_HEDGES = ["maybe", "probably", "not sure", "i think", "could be", "possibly"]
_CLASSIFY_INPUT = {
    "text": "I was charged twice for my subscription this month, please fix it.",
    "labels": _LABELS,
}

CLASSIFICATION = Template(
    slug="classification",
    name="Classification",
    description=(
        "For routing and labelling features: the answer is exactly one label from the "
        "allowed set, bare and without hedging, and it is the expected label. Set "
        "`expected` per case to your gold label. Fully deterministic: no provider key needed."
    ),
    category="classification",
    pass_threshold=1.0,
    scorers=(
        TemplateScorer(
            key="label-match",
            name="Expected label",
            type="exact_match",
            config={"case_sensitive": False, "strip": True},
        ),
        TemplateScorer(
            key="allowed-label",
            name="Label from the allowed set",
            type="contains",
            config=any_of(_LABELS),
        ),
        TemplateScorer(
            key="single-word",
            name="Single-word answer",
            type="regex",
            config=regex_config(r"^\s*\w+\s*$"),
        ),
        TemplateScorer(
            key="no-hedging",
            name="No hedging",
            type="contains",
            config=none_of(_HEDGES),
        ),
    ),
    cases=(
        TemplateCase(
            name="Correct label",
            scorer="label-match",
            input=_CLASSIFY_INPUT,
            expected="billing",
            threshold=1.0,
            weight=2.0,
        ),
        TemplateCase(
            name="Label from the allowed set",
            scorer="allowed-label",
            input=_CLASSIFY_INPUT,
            threshold=1.0,
        ),
        TemplateCase(
            name="Single-word answer", scorer="single-word", input=_CLASSIFY_INPUT, threshold=1.0
        ),
        TemplateCase(name="No hedging", scorer="no-hedging", input=_CLASSIFY_INPUT, threshold=1.0),
    ),
)
