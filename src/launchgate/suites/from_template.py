"""Create a suite, its scorers and its cases from one of the six templates, in one
transaction: a name clash anywhere leaves nothing behind."""

from __future__ import annotations

import copy

from sqlalchemy.ext.asyncio import AsyncSession

from launchgate.errors import NotFound
from launchgate.kit.auth_context import AuthContext
from launchgate.models import Project
from launchgate.projects import service as projects
from launchgate.scorers import repository as scorer_repository
from launchgate.scorers import service as scorers
from launchgate.scorers.schemas import ScorerCreate
from launchgate.suites import service as suites
from launchgate.suites.cases import service as cases
from launchgate.suites.cases.schemas import CaseCreate
from launchgate.suites.schemas import SuiteCreate, SuiteFromTemplate
from launchgate.suites.service import SuiteView
from launchgate.suites.templates import Template, get_template


async def create_from_template(
    session: AsyncSession, auth: AuthContext, project_slug: str, body: SuiteFromTemplate
) -> SuiteView:
    template = get_template(body.template_slug)
    if template is None:
        raise NotFound.of("Template", body.template_slug)
    project = await projects.get_project(session, auth, project_slug)
    return await instantiate(session, project, template, name=body.name, slug=body.slug)


async def _scorer_name(session: AsyncSession, project: Project, wanted: str) -> str:
    """Template scorers are reusable: a second suite from the same template gets
    ``"Name (2)"`` rather than a conflict."""
    name, n = wanted, 1
    while await scorer_repository.name_taken(session, project.org_id, project.id, name):
        n += 1
        name = f"{wanted} ({n})"
    return name


async def instantiate(
    session: AsyncSession,
    project: Project,
    template: Template,
    name: str | None = None,
    slug: str | None = None,
) -> SuiteView:
    suite = await suites.add_suite(
        session,
        project,
        SuiteCreate(
            name=name or template.name,
            slug=slug or (None if name else template.slug),
            pass_threshold=template.pass_threshold,
            description=template.description,
        ),
    )
    scorer_ids = {}
    for spec in template.scorers:
        scorer = await scorers.add_scorer(
            session,
            project,
            ScorerCreate(
                name=await _scorer_name(session, project, spec.name),
                type=spec.type,  # type: ignore[arg-type]
                config=copy.deepcopy(spec.config),
                dual_sided=spec.dual_sided,
                precision_threshold=spec.precision_threshold,
                recall_threshold=spec.recall_threshold,
            ),
        )
        scorer_ids[spec.key] = scorer.id
    for case in template.cases:
        await cases.add_case(
            session,
            suite,
            CaseCreate(
                name=case.name,
                input=copy.deepcopy(case.input),
                expected=copy.deepcopy(case.expected),
                scorer_id=scorer_ids[case.scorer],
                threshold=case.threshold,
                weight=case.weight,
            ),
        )
    active = len(template.cases)
    return SuiteView(suite, active, active)
