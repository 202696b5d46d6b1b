"""What a test key (``lg_test_…``) may do.

A test key is for running suites where usage must not count (CI, local development,
staging) and for reading: it can run suites, read everything its organisation can read,
and create, edit and delete eval definitions (projects, suites, cases, scorers — a CI job
that keeps its suites in its repository syncs them with the same key). It cannot manage
credentials: creating or revoking API keys, and creating, editing, testing or revoking BYOK
keys, need a live key or a signed-in user. Otherwise a test key that leaked from a CI log
could mint a live key (usage that counts, no expiry) or swap the provider key every judge
run uses. Refused with 403 ``FORBIDDEN``: the key is valid (not a 401, which would tell a
client to authenticate again), it only lacks the scope.
"""

from __future__ import annotations

from typing import ClassVar

from launchgate.errors import LaunchGateError
from launchgate.kit.auth_context import AuthContext


class TestKeyNotAllowed(LaunchGateError):
    """A test key asked for something only live keys and users may do."""

    __test__ = False  # not a pytest class, whatever its name says
    status_code: ClassVar[int] = 403
    code: ClassVar[str] = "FORBIDDEN"


def require_credential_scope(auth: AuthContext | None, action: str) -> None:
    """Refuse ``action`` (a credential change, e.g. "create API keys") to a test key.
    ``auth`` is ``None`` for server-side callers (the CLI, start-up), which may."""
    if auth is not None and auth.key_mode == "test":
        raise TestKeyNotAllowed(
            f"A test key (lg_test_) cannot {action}: test keys run suites and read; "
            "use a live key (lg_live_) or sign in to the dashboard to manage credentials"
        )
