"""The ``/v1`` router: every domain's endpoints, with the error responses they share."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from pydantic import BaseModel

from launchgate.api_keys.endpoints import router as api_keys
from launchgate.audit.endpoints import router as audit
from launchgate.auth.endpoints import router as auth
from launchgate.auth.middleware import is_public
from launchgate.batches.endpoints import router as batches
from launchgate.billing.endpoints import router as billing
from launchgate.byok.endpoints import router as byok
from launchgate.orgs.endpoints import router as organization
from launchgate.projects.endpoints import router as projects
from launchgate.runs.endpoints import router as runs
from launchgate.scorers.endpoints import router as scorers
from launchgate.suites.cases.endpoints import router as cases
from launchgate.suites.endpoints import router as suites
from launchgate.suites.template_endpoints import router as templates


class ErrorBody(BaseModel):
    code: str
    message: str
    details: Any = None


class ErrorEnvelope(BaseModel):
    error: ErrorBody


def _errors(*codes: int) -> dict[int | str, dict[str, Any]]:
    return {code: {"model": ErrorEnvelope} for code in codes}


PUBLIC_ERRORS = _errors(400, 404, 429, 500)
PRIVATE_ERRORS = _errors(400, 401, 402, 404, 409, 429, 500)

router = APIRouter(prefix="/v1")
# POST /v1/run first: routes are matched in order, and it is the one in the request path
# of our customers' applications.
for private in (
    runs,
    batches,
    projects,
    suites,
    cases,
    scorers,
    api_keys,
    byok,
    audit,
    billing,
    organization,
):
    # Runs, batches and key tests may need a worker: 503 while the scaled-out job queue is
    # down.
    queued = private in (runs, batches, byok)
    router.include_router(private, responses=PRIVATE_ERRORS | (_errors(503) if queued else {}))
router.include_router(templates, responses=PUBLIC_ERRORS)
router.include_router(auth, responses=PUBLIC_ERRORS | _errors(401))

# The Stripe webhook carries Stripe's signature instead of a credential (docs/billing.md).
PUBLIC_PATHS = ("/health", "/v1/templates", "/v1/auth/login", "/v1/billing/webhook")


def document_security(schema: dict[str, Any]) -> dict[str, Any]:
    """Declare the Bearer scheme in the OpenAPI schema and mark every operation that needs
    it. Done here rather than with FastAPI's ``HTTPBearer`` dependency, which would add
    its per-request cost to the hot path for what is only documentation."""
    schema.setdefault("components", {})["securitySchemes"] = {
        "bearer": {
            "type": "http",
            "scheme": "bearer",
            "description": "An API key (lg_live_…/lg_test_…) or a JWT",
        }
    }
    for path, operations in schema["paths"].items():
        if not is_public(path, PUBLIC_PATHS):
            for operation in operations.values():
                operation["security"] = [{"bearer": []}]
    return schema
