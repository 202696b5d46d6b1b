"""The error base: every failure we raise knows its HTTP status and the spec's error code.

Services raise these (never ``HTTPException``); ``app.py`` renders them as the envelope
``{"error": {"code", "message", "details"}}``.
"""

from __future__ import annotations

from typing import Any, ClassVar


class LaunchGateError(Exception):
    """Base of our own errors; carries status and code so one handler can render it."""

    status_code: ClassVar[int] = 500
    code: ClassVar[str] = "INTERNAL_ERROR"

    def __init__(self, message: str, details: Any = None, headers: dict[str, str] | None = None):
        super().__init__(message)
        self.message = message
        self.details = details
        self.headers = headers or {}


class ValidationFailed(LaunchGateError):
    """The request is well-formed JSON but breaks a rule."""

    status_code = 400
    code = "VALIDATION_ERROR"


class Unauthorized(LaunchGateError):
    """Missing, malformed, expired or revoked credentials."""

    status_code = 401
    code = "UNAUTHORIZED"


class UsageLimitExceeded(LaunchGateError):
    """The organisation used its monthly runs."""

    status_code = 402
    code = "USAGE_LIMIT_EXCEEDED"


class NotFound(LaunchGateError):
    """Absent, or belongs to another organisation: the two are indistinguishable on purpose."""

    status_code = 404
    code = "NOT_FOUND"

    @classmethod
    def of(cls, what: str, ident: object) -> NotFound:
        return cls(f"{what} '{ident}' not found")


class Conflict(LaunchGateError):
    """A slug or name is taken, or a resource is still in use."""

    status_code = 409
    code = "CONFLICT"


class ServiceUnavailable(LaunchGateError):
    """A part the request needs is down (the job queue); nothing was done, retry later.
    ``SERVICE_UNAVAILABLE`` is ours: SPEC §2 names no code for 503."""

    status_code = 503
    code = "SERVICE_UNAVAILABLE"
