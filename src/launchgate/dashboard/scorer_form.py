"""The scorer form: which fields each scorer type shows, and how they become the ``config``
of a ``ScorerCreate``.

The fields mirror the configs of SPEC §4 (and docs/scorers.md); their defaults are the
API's defaults, so a form left as it is makes the scorer a bare API request would. What
is allowed is decided by ``scorers.service`` alone: an empty field is left out of the
config, and the validator says, in its own words, when it was required.

Editing shows a stored scorer in the same fields (``values_of``); config keys the form has
no field for (``cache_ttl_s``, set through the API) are kept as they are on save.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from launchgate.dashboard import forms
from launchgate.dashboard.forms import Fields
from launchgate.scorers.schemas import ScorerCreate, ScorerUpdate

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
        Field(
            "temperature",
            "number",
            "Temperature",
            "0 to 2. Sampling more than once needs a temperature above 0 (say 0.7): at 0 "
            "many providers answer the same every time.",
            default=0,
        ),
        Field("max_tokens", "integer", "Max tokens"),
        Field(
            "samples",
            "integer",
            "Samples",
            "1 to 20: the most judgements per case. Above 1 the judge is asked again only "
            "while the interval of the mean still contains the case threshold.",
            default=1,
        ),
        Field(
            "min_samples",
            "integer",
            "Min samples",
            "1 to Samples: judgements made before the first look. Empty: min(3, samples).",
        ),
        Field(
            "confidence",
            "number",
            "Confidence",
            "0.5 to 0.999: of the interval that decides a case. Empty: 0.95.",
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


def _shown(spec: Field, value: Any) -> str | None:
    """A stored config value as the form's field holds it; None leaves the field empty."""
    if value is None:
        return None
    match spec.kind:
        case "checkbox":
            return "on" if value else None
        case "lines":
            return "\n".join(str(v) for v in value) if isinstance(value, list) else str(value)
        case "json":
            return forms.pretty(value)
        case "number" | "integer":
            return f"{value:g}" if isinstance(value, int | float) else str(value)
        case _:
            return str(value)


def values_of(
    kind: str,
    name: str,
    config: dict[str, Any],
    dual_sided: bool,
    thresholds: tuple[float | None, float | None],
) -> dict[str, str]:
    """A stored scorer as the strings its form is filled with."""
    shown: dict[str, str] = {"name": name, "type": kind}
    for spec in FIELDS.get(kind, ()):
        value = _shown(spec, config.get(spec.name))
        if value is not None:
            shown[spec.input_name] = value
    if dual_sided:
        shown["dual_sided"] = "on"
    for field_name, threshold in zip(
        ("precision_threshold", "recall_threshold"), thresholds, strict=True
    ):
        if threshold is not None:
            shown[field_name] = f"{threshold:g}"
    return shown


def scorer_update(form: Fields, kind: str, stored: dict[str, Any]) -> ScorerUpdate:
    """The form as a ``PATCH``: a field left empty drops its key (the API's default
    applies), and keys the form does not show are sent back unchanged."""
    fields = {spec.name for spec in FIELDS.get(kind, ())} | {"dual_sided"}
    kept = {key: value for key, value in stored.items() if key not in fields}
    dual = kind == "contains" and forms.checkbox(form, "dual_sided")
    body: dict[str, Any] = {
        "name": forms.text(form, "name"),
        "config": kept | config_of(form, kind),
        "dual_sided": dual,
    }
    if kind == "contains":
        for name in ("precision_threshold", "recall_threshold"):
            body[name] = forms.number(form, name) if dual else None
    return ScorerUpdate.model_validate(body)
