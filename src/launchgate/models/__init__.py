"""ORM tables, one module each; importing this package registers them all on ``Base``."""

from launchgate.models import versioning  # noqa: F401  (registers the version bump)
from launchgate.models.api_key import ApiKey
from launchgate.models.audit_event import AuditEvent
from launchgate.models.base import Base
from launchgate.models.batch import Batch
from launchgate.models.byok_key import ByokKey
from launchgate.models.case import Case
from launchgate.models.judge_spend import JudgeSpend
from launchgate.models.judge_verdict import JudgeVerdict
from launchgate.models.organisation import Organisation
from launchgate.models.project import Project
from launchgate.models.run import Run
from launchgate.models.scorer import Scorer
from launchgate.models.stripe_checkout import StripeCheckout
from launchgate.models.stripe_event import StripeEvent
from launchgate.models.suite import Suite
from launchgate.models.usage import UsageCounter
from launchgate.models.user import User

__all__ = [
    "ApiKey",
    "AuditEvent",
    "Base",
    "Batch",
    "ByokKey",
    "Case",
    "JudgeSpend",
    "JudgeVerdict",
    "Organisation",
    "Project",
    "Run",
    "Scorer",
    "StripeCheckout",
    "StripeEvent",
    "Suite",
    "UsageCounter",
    "User",
]
