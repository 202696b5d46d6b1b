"""``GET /v1/templates``: public, no auth, the six templates of SPEC §10."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from launchgate.errors import NotFound
from launchgate.kit.pagination import Envelope, Page, Paging
from launchgate.kit.schema import WireModel
from launchgate.suites.templates import TEMPLATES, Template, get_template

router = APIRouter(prefix="/templates", tags=["templates"])


class TemplateScorerOut(WireModel):
    key: str
    name: str
    type: str
    config: dict[str, Any]
    dual_sided: bool


class TemplateCaseOut(WireModel):
    name: str
    scorer: str
    input: dict[str, Any]
    expected: Any
    threshold: float
    weight: float


class TemplateOut(WireModel):
    slug: str
    name: str
    description: str
    category: str
    pass_threshold: float
    uses_llm: bool
    scorers: list[TemplateScorerOut]
    cases: list[TemplateCaseOut]


def _out(template: Template) -> TemplateOut:
    return TemplateOut.model_validate(template)


@router.get("", response_model=Page[TemplateOut])
async def list_templates(paging: Paging) -> Page[TemplateOut]:
    chosen = TEMPLATES[paging.offset : paging.offset + paging.page_size]
    return Page.of([_out(t) for t in chosen], len(TEMPLATES), paging)


@router.get("/{slug}", response_model=Envelope[TemplateOut])
async def get_template_by_slug(slug: str) -> Envelope[TemplateOut]:
    template = get_template(slug)
    if template is None:
        raise NotFound.of("Template", slug)
    return Envelope(data=_out(template))
