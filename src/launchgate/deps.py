"""Request dependencies shared by every router: the runtime, the session, the caller."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Annotated, Any

from fastapi import Depends, Request
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from launchgate.config import Settings
from launchgate.db import commit, rollback
from launchgate.kit.auth_context import AuthContext
from launchgate.runs.cache import SnapshotCache

if TYPE_CHECKING:
    from launchgate.api_keys.cache import KeyCache
    from launchgate.orgs.cache import FactsCache

if TYPE_CHECKING:
    from launchgate.auth.limits import RequestLimits
    from launchgate.auth.tokens import OidcVerifier
    from launchgate.byok.vault import Vault
    from launchgate.providers.credential import ProviderSettings
    from launchgate.providers.http import HttpClient
    from launchgate.providers.limiter import JudgeLimiter
    from launchgate.providers.retry import RetryPolicy
    from launchgate.runs.admission import Admission
    from launchgate.runs.writer import RunWriter
    from launchgate.worker import Worker


@dataclass
class Runtime:
    """Everything the lifespan wires up; handed to requests through ``app.state``."""

    settings: Settings
    engine: AsyncEngine
    sessions: async_sessionmaker[AsyncSession]
    jwt_secret: str
    limits: RequestLimits | None = None
    oidc: OidcVerifier | None = None
    worker: Worker | None = None
    # BYOK: the vault seals keys (and, worker side, opens them); providers are called
    # over one shared HTTP client.
    vault: Vault = field(default=None)  # type: ignore[assignment]
    http: HttpClient | None = None
    provider_settings: ProviderSettings = field(default=None)  # type: ignore[assignment]
    # The judge: at most N calls in flight per (organisation, provider), and SPEC §7 retries.
    judge_limiter: JudgeLimiter = field(default=None)  # type: ignore[assignment]
    retry_policy: RetryPolicy = field(default=None)  # type: ignore[assignment]
    run_writer: RunWriter | None = None
    admission: Admission | None = None
    snapshots: SnapshotCache = field(default_factory=SnapshotCache)
    # Embedded mode only (one process owns the database): see api_keys/cache.py, orgs/cache.py.
    key_cache: KeyCache | None = None
    facts_cache: FactsCache | None = None
    extras: dict[str, Any] = field(default_factory=dict)


async def get_runtime(request: Request) -> Runtime:  # async: a sync one costs a thread hop
    runtime: Runtime = request.app.state.runtime
    return runtime


RuntimeDep = Annotated[Runtime, Depends(get_runtime)]


async def get_session(runtime: RuntimeDep) -> AsyncIterator[AsyncSession]:
    async with runtime.sessions() as session:
        try:
            yield session
            await commit(session)
        except BaseException:
            await rollback(session)
            raise


# scope="function": commit before the response is sent, so a client that reads the answer
# and immediately asks again sees its own write.
SessionDep = Annotated[AsyncSession, Depends(get_session, scope="function")]


async def end_unit(session: AsyncSession) -> None:
    """Finish the request's unit of work now, before a long wait, so that its connection
    goes back to the pool while the request waits (a synchronous judge run waiting on
    the worker: seconds). What the request did so far is committed — for such a request
    only reads, and the caller's credentials' bookkeeping — and its after-commit actions
    run; the dependency's own commit at the end then has nothing left to do.

    An endpoint calls this, not a service: services never commit (STYLE.md). A request
    that kept its connection while waiting held one of the pool's few connections idle,
    and the worker's job, which needs connections to finish that very run, starved: at
    25 simultaneous judge runs the pool (10 + 10 on SQLite) ran dry and every request
    answered 500 after the pool's 30 s timeout (issue 11)."""
    await commit(session)


async def _current_auth(request: Request, runtime: RuntimeDep, session: SessionDep) -> AuthContext:
    from launchgate.auth.middleware import authenticated_caller
    from launchgate.auth.service import authenticate

    # The app's AuthMiddleware authenticated the caller before the body was read; doing it
    # again would cost a second lookup and count a failure twice towards the lockout.
    caller = authenticated_caller(request.scope)
    if caller is not None:
        return caller
    # Only without that middleware (an app assembled differently): still never unchecked.
    return await authenticate(
        session, runtime, request.headers.get("authorization"),
        request.client.host if request.client else "unknown",
    )


CurrentAuth = Annotated[AuthContext, Depends(_current_auth)]
