"""The scorer form: which fields each scorer type shows, and how they become the ``config``
of a ``ScorerCreate``.

The fields mirror the configs of SPEC §4 (and docs/scorers.md); their defaults are the
API's defaults, so a form left as it is makes the scorer a bare API request would. What
is allowed is decided by ``scorers.service`` alone: an empty field is left out of the
config, and the validator says, in its own words, when it was required.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from launchgate.dashboard import forms
from launchgate.dashboard.forms import Fields
from launchgate.scorers.schemas import ScorerCreate

Kind = Literal["text", "textarea", "lines", "checkbox", "select", "number", "integer", "json"]

TYPES: dict[str, str] = {
    "exact_match": "Exact match",
    "contains": "Contains",
    "regex": "Regex",
    "json_schema": "JSON schema",
    "llm_judge": "LLM judge",
}
PROVIDERS: dict[str, str] = {
    "openai": "OpenAI",
    "anthropic": "Anthropic",
    "google": "Google",
    "azure_openai": "Azure OpenAI",
}


@dataclass(frozen=True)
class Field:
    """One input of the form; ``name`` is the config key, posted as ``config.<name>``."""

    name: str
    kind: Kind
    label: str
    help: str = ""
    default: Any = None
    choices: tuple[tuple[str, str], ...] = ()

    @property
    def input_name(self) -> str:
        return f"config.{self.name}"


FIELDS: dict[str, tuple[Field, ...]] = {
    "exact_match": (
        Field("case_sensitive", "checkbox", "Case sensitive", default=True),
        Field("strip", "checkbox", "Ignore leading and trailing whitespace", default=True),
    ),
    "contains": (
        Field(
            "values",
            "lines",
            "Values",
            "One per line. Leave empty to use each case's expected value.",
        ),
        Field(
            "mode",
            "select",
            "Mode",
            default="all",
            choices=(("all", "all values must occur"), ("any", "any one value is enough")),
        ),
        Field("case_sensitive", "checkbox", "Case sensitive", default=True),
        Field(
            "should_contain",
            "checkbox",
            "The output should contain them",
            default=True,
            help="Untick to assert that none of the values occur.",
        ),
        Field(
            "forbidden",
            "lines",
            "Forbidden values",
            "Dual-sided scorers only: one per line; their absence is the precision.",
        ),
    ),
    "regex": (
        Field("pattern", "text", "Pattern", "Searched anywhere in the output."),
        Field("flags", "text", "Flags", "JavaScript style: i (ignore case), m, s, u, g."),
        Field("should_match", "checkbox", "The output should match", default=True),
    ),
    "json_schema": (
        Field(
            "schema",
            "json",
            "JSON schema",
            "The draft named by $schema, else 2020-12. A fenced ```json block is unwrapped.",
        ),
    ),
    "llm_judge": (
        Field("rubric", "textarea", "Rubric", "What the judge scores, in plain words."),
        Field(
            "_provider", "select", "Provider", default="openai", choices=tuple(PROVIDERS.items())
        ),
        Field(
            "model",
            "text",
            "Model",
            "Empty: the provider's default model (for Azure: the deployment name).",
        ),
        Field("key_id", "select", "BYOK key", "Empty: the provider's default key."),
        Field("temperature", "number", "Temperature", default=0),
        Field("max_tokens", "integer", "Max tokens"),
        Field(
            "samples", "integer", "Samples", "Asks this many times and scores the mean.", default=1
        ),
    ),
}


def scorer_type(form: Fields) -> str:
    chosen = forms.text(form, "type")
    return chosen if chosen in TYPES else "exact_match"


def _read(form: Fields, spec: Field) -> Any:
    name = spec.input_name
    match spec.kind:
        case "checkbox":
            return forms.checkbox(form, name)
        case "lines":
            return forms.lines(form, name)
        case "number":
            return forms.number(form, name)
        case "integer":
            return forms.integer(form, name)
        case "json":
            return forms.json_text(form, name)
        case "textarea":
            return forms.text(form, name) or None
        case _:
            return forms.optional_text(form, name)


def config_of(form: Fields, kind: str) -> dict[str, Any]:
    read = {spec.name: _read(form, spec) for spec in FIELDS.get(kind, ())}
    return {name: value for name, value in read.items() if value is not None}


def scorer_create(form: Fields) -> ScorerCreate:
    """Raises ``pydantic.ValidationError`` or ``forms.FormError``, as the API would refuse."""
    kind = scorer_type(form)
    dual = kind == "contains" and forms.checkbox(form, "dual_sided")
    body: dict[str, Any] = {
        "name": forms.text(form, "name"),
        "type": kind,
        "config": config_of(form, kind),
        "dual_sided": dual,
    }
    if dual:
        for name in ("precision_threshold", "recall_threshold"):
            value = forms.number(form, name)
            if value is not None:
                body[name] = value
    return ScorerCreate.model_validate(body)
