"""Assembling a process's runtime: the same for an API process (app.py's lifespan) and a
``launchgate worker`` process (worker_process.py), so both run jobs with the same parts.

Embedded (no Redis URL): in-memory broker, in-process judge limiter and request limits.
Scaled out (``LAUNCHGATE_REDIS_URL``): the Redis Streams broker, the judge limiter on Redis
(one 20-slot budget per organisation and provider across the fleet) and the request
limits on Redis storage (one count per client IP across API processes).
"""

from __future__ import annotations

import structlog

from launchgate.api_keys.cache import KeyCache
from launchgate.auth.limits import RequestLimits
from launchgate.auth.tokens import OidcVerifier
from launchgate.byok.vault import load_vault
from launchgate.config import Settings
from launchgate.db import create_engine, create_sessionmaker
from launchgate.deps import Runtime
from launchgate.orgs.cache import FactsCache
from launchgate.providers.credential import provider_settings
from launchgate.providers.http import create_client as create_http_client
from launchgate.providers.limiter import LocalJudgeLimiter
from launchgate.providers.retry import retry_policy
from launchgate.runs.admission import Admission
from launchgate.worker import Worker, create_broker

log = structlog.get_logger(__name__)


def build_runtime(settings: Settings) -> Runtime:
    engine = create_engine(
        settings.resolved_database_url,
        settings.database_pool_size,
        settings.database_pool_timeout_s,
    )
    runtime = Runtime(
        settings=settings,
        engine=engine,
        sessions=create_sessionmaker(engine),
        jwt_secret=settings.jwt_secret(),
        limits=RequestLimits(settings, redis_url=settings.redis_url),
        vault=load_vault(settings),
        provider_settings=provider_settings(settings),
        judge_limiter=LocalJudgeLimiter(settings.judge_concurrency),
        retry_policy=retry_policy(settings),
        admission=Admission(settings.max_waiting_sync_runs),
    )
    if settings.embedded:
        runtime.key_cache, runtime.facts_cache = KeyCache(), FactsCache()
    if settings.oidc_jwks_url:
        runtime.oidc = OidcVerifier(
            settings.oidc_jwks_url, settings.oidc_issuer, settings.oidc_audience
        )
    return runtime


async def start_runtime(settings: Settings, *, worker_process: bool = False) -> Runtime:
    """Build the runtime and start what runs in the background: the worker's broker, the
    provider HTTP client and, in a ``launchgate worker`` process, the Redis judge limiter
    (a scaled-out API process only sends jobs, so it never judges)."""
    runtime = build_runtime(settings)
    runtime.worker = Worker(runtime, create_broker(settings))
    await runtime.worker.start()
    runtime.http = create_http_client(settings.provider_timeout_s)
    if settings.redis_url:
        runtime.extras["redis_probe"] = runtime.worker.available
    if settings.redis_url and worker_process:
        from launchgate.providers.limiter_redis import RedisJudgeLimiter

        limiter = RedisJudgeLimiter(
            settings.redis_url,
            concurrency=settings.judge_concurrency,
            lease_s=settings.judge_slot_lease_s,
        )
        await limiter.start()
        runtime.judge_limiter = limiter
    return runtime


async def stop_runtime(runtime: Runtime) -> None:
    if runtime.worker is not None:
        await runtime.worker.stop()
    stop = getattr(runtime.judge_limiter, "stop", None)
    if stop is not None:
        await stop()
    if runtime.limits is not None:
        await runtime.limits.close()
    if runtime.http is not None:
        await runtime.http.aclose()
    await runtime.engine.dispose()
