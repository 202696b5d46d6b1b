"""The suite settings form: name, pass threshold, description, ``on_inconclusive`` and the
batch settings (docs/batches.md), read into the API's own ``SuiteUpdate`` (so the form is
refused for the API's reasons)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from launchgate.dashboard import forms
from launchgate.dashboard.forms import Fields
from launchgate.suites.schemas import SuiteUpdate

if TYPE_CHECKING:
    from launchgate.models import Suite

# What a run ends as when its undecided judge cases leave the verdict open
# (docs/sampling.md): the words the select shows for each value of ``on_inconclusive``.
ON_INCONCLUSIVE: dict[str, str] = {
    "inconclusive": "inconclusive — the run says the judge could not decide (default)",
    "abort": "abort — such a run is aborted",
    "clear": "clear — such a run is cleared",
}
ON_INCONCLUSIVE_HELP = (
    "A run is undecided when counting its inconclusive judge cases as passed clears it and "
    "counting them as failed aborts it. “abort” or “clear” makes a binary gate for CI; the "
    "run keeps the raw outcome in verdict_detail either way."
)


def values_of(suite: Suite) -> dict[str, str]:
    """A stored suite as the strings its settings form is filled with."""
    return {
        "name": suite.name,
        "pass_threshold": f"{suite.pass_threshold:g}",
        "on_inconclusive": suite.on_inconclusive,
        "batch_threshold": f"{suite.batch_threshold:g}",
        "baseline_branch": suite.baseline_branch,
        # A checkbox's value: present when checked, absent otherwise.
        **({"fail_on_regression": "on"} if suite.fail_on_regression else {}),
        "description": suite.description or "",
    }


def suite_update(form: Fields) -> SuiteUpdate:
    """Raises ``pydantic.ValidationError`` as ``PATCH /v1/projects/{p}/suites/{s}`` would.
    An empty description clears it; an empty pass threshold is handed over as typed, so
    the model says it is required rather than keeping the old value silently."""
    threshold = forms.number(form, "pass_threshold")
    batch_threshold = forms.number(form, "batch_threshold")
    return SuiteUpdate.model_validate(
        {
            "name": forms.text(form, "name"),
            "pass_threshold": threshold if threshold is not None else "",
            "on_inconclusive": forms.text(form, "on_inconclusive"),
            "batch_threshold": batch_threshold if batch_threshold is not None else "",
            "baseline_branch": forms.text(form, "baseline_branch"),
            "fail_on_regression": forms.checkbox(form, "fail_on_regression"),
            "description": forms.optional_text(form, "description"),
        }
    )
