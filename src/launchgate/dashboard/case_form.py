"""The case form: the fields of ``CaseCreate`` as a browser can send them.

``expected`` is any JSON value, but most cases expect a plain string; the form asks which
(text, JSON, or none) instead of making people quote their strings.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from launchgate.dashboard import forms
from launchgate.dashboard.forms import Fields
from launchgate.suites.cases.schemas import CaseCreate, CaseUpdate

if TYPE_CHECKING:
    from launchgate.models import Case

EXPECTED_KINDS = {"text": "Text", "json": "JSON", "none": "None"}


def _expected(form: Fields) -> Any:
    kind = forms.text(form, "expected_kind")
    if kind == "none":
        return None
    if kind == "json":
        return forms.json_text(form, "expected")
    return forms.text(form, "expected") or None


def _fields(form: Fields) -> dict[str, Any]:
    body: dict[str, Any] = {
        "name": forms.text(form, "name"),
        "scorer_id": forms.text(form, "scorer_id"),
        "input": forms.json_text(form, "input", default={}),
        "expected": _expected(form),
        "is_active": forms.checkbox(form, "is_active"),
    }
    for name in ("threshold", "weight"):
        value = forms.number(form, name)
        if value is not None:
            body[name] = value
    return body


def case_create(form: Fields) -> CaseCreate:
    """Raises ``pydantic.ValidationError`` or ``forms.FormError``, as the API would refuse."""
    return CaseCreate.model_validate(_fields(form))


def case_update(form: Fields) -> CaseUpdate:
    return CaseUpdate.model_validate(_fields(form))


def values_of(case: Case) -> dict[str, str]:
    """A stored case as the strings of its edit form."""
    expected = case.expected
    kind = "none" if expected is None else "text" if isinstance(expected, str) else "json"
    shown = (
        ""
        if expected is None
        else expected
        if isinstance(expected, str)
        else (forms.pretty(expected))
    )
    values = {
        "name": case.name,
        "scorer_id": str(case.scorer_id),
        "threshold": f"{case.threshold:g}",
        "weight": f"{case.weight:g}",
        "input": forms.pretty(case.input) if case.input else "",
        "expected_kind": kind,
        "expected": shown,
    }
    if case.is_active:
        values["is_active"] = "on"
    return values
