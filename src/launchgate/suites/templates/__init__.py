"""The six suite templates of SPEC §10, as plain data.

A template is a suite with its scorers and cases, ready to run: `from-template` copies it
into a project (scorers first, then cases pointing at them by `TemplateScorer.key`). Every
case scores the same single output, so the cases of a template must agree with one good
answer. Templates that use `llm_judge` name `openai` as a placeholder provider; at run time
the judge uses the organisation's default provider key (SPEC §10).

The configs are shared module data: callers copy them (`copy.deepcopy`) before storing or
changing them.
"""

from __future__ import annotations

from launchgate.suites.templates.classification import CLASSIFICATION
from launchgate.suites.templates.content_safety import CONTENT_SAFETY
from launchgate.suites.templates.model import Template, TemplateCase, TemplateScorer
from launchgate.suites.templates.pii_protection import PII_PROTECTION
from launchgate.suites.templates.rag_faithfulness import RAG_FAITHFULNESS
from launchgate.suites.templates.structured_output import (
    STRUCTURED_OUTPUT,
    STRUCTURED_OUTPUT_DEMO_FAIL,
    STRUCTURED_OUTPUT_DEMO_PASS,
)
from launchgate.suites.templates.support_tone import SUPPORT_TONE

__all__ = [
    "STRUCTURED_OUTPUT_DEMO_FAIL",
    "STRUCTURED_OUTPUT_DEMO_PASS",
    "TEMPLATES",
    "Template",
    "TemplateCase",
    "TemplateScorer",
    "get_template",
]

TEMPLATES: tuple[Template, ...] = (
    RAG_FAITHFULNESS,
    CONTENT_SAFETY,
    STRUCTURED_OUTPUT,
    PII_PROTECTION,
    CLASSIFICATION,
    SUPPORT_TONE,
)

_BY_SLUG = {template.slug: template for template in TEMPLATES}


def get_template(slug: str) -> Template | None:
    return _BY_SLUG.get(slug)
