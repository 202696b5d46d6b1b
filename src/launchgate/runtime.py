"""What each kind of process runs with: one fully typed container per kind, each built in
one place (wiring.py), so that no service can be handed a half-built one.

- ``Core`` — settings and the database: all an operator command (``launchgate orgs
  create``…) needs.
- ``WorkerRuntime`` — a core plus what scoring with the judge needs: the vault that opens
  BYOK keys, the provider HTTP client and settings, the judge limiter and retry policy,
  and the job queue (the sweep sends jobs again). Jobs receive it.
- ``ApiRuntime`` — a core plus what serving requests needs: the JWT secret, the request
  limits, OIDC, the run writer, the admission of waiting runs, the caches, the job queue
  (to send jobs, and in the embedded mode to run them) and the Redis probe. In the
  embedded mode it also holds the in-process ``WorkerRuntime`` its jobs run with.

A field is optional only where the part itself is: OIDC when it is configured, the
embedded mode's caches and in-process worker, the Redis probe when there is a Redis.
Services take the narrowest container they need.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

    from launchgate.api_keys.cache import KeyCache
    from launchgate.auth.limits import RequestLimits
    from launchgate.auth.tokens import OidcVerifier
    from launchgate.byok.vault import Vault
    from launchgate.config import Settings
    from launchgate.orgs.cache import FactsCache
    from launchgate.providers.credential import ProviderSettings
    from launchgate.providers.http import HttpClient
    from launchgate.providers.limiter import JudgeLimiter
    from launchgate.providers.retry import RetryPolicy
    from launchgate.runs.admission import Admission
    from launchgate.runs.cache import SnapshotCache
    from launchgate.runs.writer import RunWriter
    from launchgate.worker import Worker


@dataclass(kw_only=True)
class Core:
    """Settings and the database."""

    settings: Settings
    engine: AsyncEngine
    sessions: async_sessionmaker[AsyncSession]


@dataclass(kw_only=True)
class WorkerRuntime(Core):
    """What jobs run with: a ``launchgate worker`` process, or the embedded server's
    in-process worker."""

    vault: Vault  # opens BYOK keys, through byok.resolver, for one provider call at a time
    http: HttpClient
    provider_settings: ProviderSettings
    # At most N judge calls in flight per (organisation, provider), and SPEC §7's retries.
    judge_limiter: JudgeLimiter
    retry_policy: RetryPolicy
    queue: Worker


@dataclass(kw_only=True)
class ApiRuntime(Core):
    """What an API process serves requests with; handed to them through ``app.state``."""

    jwt_secret: str
    vault: Vault  # seals keys as they are created; never opens one on the request side
    limits: RequestLimits
    oidc: OidcVerifier | None  # external OIDC tokens, when configured
    queue: Worker  # sends jobs; embedded, runs them in this process
    run_writer: RunWriter
    admission: Admission
    snapshots: SnapshotCache
    # Embedded mode only (one process owns the database): api_keys/cache.py, orgs/cache.py.
    key_cache: KeyCache | None
    facts_cache: FactsCache | None
    redis_probe: Callable[[], Awaitable[bool]] | None  # with a Redis: is it reachable?
    worker: WorkerRuntime | None  # the in-process worker (no Redis); scaled out: None
