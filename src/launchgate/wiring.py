"""Assembling each kind of process's runtime (runtime.py), in one place, whole: an API
process (app.py's lifespan, and the quickstart's demo runs), a ``launchgate worker``
process (worker_process.py), an operator command (cli/operations.py).

Embedded (no Redis URL): in-memory broker, jobs run in the API process with an in-process
``WorkerRuntime`` and a local judge limiter; in-process request limits.
Scaled out (``LAUNCHGATE_REDIS_URL``): the Redis Streams broker; the API process only
sends jobs; each worker process judges under the limiter on Redis (one 20-slot budget per
organisation and provider across the fleet); request limits on Redis storage (one count
per client IP across API processes).
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator

from launchgate.api_keys.cache import KeyCache
from launchgate.auth.limits import RequestLimits
from launchgate.auth.tokens import OidcVerifier
from launchgate.billing.prices import load_prices
from launchgate.byok.vault import Vault, load_vault
from launchgate.config import Settings
from launchgate.db import create_engine, create_sessionmaker
from launchgate.orgs.cache import FactsCache
from launchgate.providers.credential import provider_settings
from launchgate.providers.http import create_client as create_http_client
from launchgate.providers.limiter import JudgeLimiter, LocalJudgeLimiter
from launchgate.providers.retry import retry_policy
from launchgate.runs.admission import Admission
from launchgate.runs.cache import SnapshotCache
from launchgate.runs.writer import RunWriter
from launchgate.runtime import ApiRuntime, Core, WorkerRuntime
from launchgate.worker import Worker, create_broker


def build_core(settings: Settings) -> Core:
    """Settings and the database pool: what an operator command needs."""
    engine = create_engine(
        settings.resolved_database_url,
        settings.database_pool_size,
        settings.database_pool_timeout_s,
    )
    return Core(settings=settings, engine=engine, sessions=create_sessionmaker(engine))


@contextlib.asynccontextmanager
async def core_runtime(settings: Settings) -> AsyncIterator[Core]:
    core = build_core(settings)
    try:
        yield core
    finally:
        await core.engine.dispose()


async def _judge_limiter(settings: Settings, shared: bool) -> JudgeLimiter:
    """On Redis across the fleet for ``launchgate worker`` processes, else in process."""
    if not (shared and settings.redis_url):
        return LocalJudgeLimiter(settings.judge_concurrency)
    from launchgate.providers.limiter_redis import RedisJudgeLimiter

    limiter = RedisJudgeLimiter(
        settings.redis_url,
        concurrency=settings.judge_concurrency,
        lease_s=settings.judge_slot_lease_s,
    )
    await limiter.start()
    return limiter


async def _worker_runtime(
    core: Core, queue: Worker, vault: Vault, *, shared_limiter: bool
) -> WorkerRuntime:
    settings = core.settings
    runtime = WorkerRuntime(
        settings=settings,
        engine=core.engine,
        sessions=core.sessions,
        vault=vault,
        http=create_http_client(settings.provider_timeout_s),
        provider_settings=provider_settings(settings),
        judge_limiter=await _judge_limiter(settings, shared_limiter),
        retry_policy=retry_policy(settings),
        queue=queue,
    )
    queue.run_jobs_with(runtime)
    return runtime


async def start_worker_runtime(settings: Settings) -> WorkerRuntime:
    """A ``launchgate worker`` process: jobs from Redis, the judge limiter on Redis."""
    vault = load_vault(settings)  # first: a missing master key stops the start, cleanly
    load_prices(settings.prices_file)  # likewise a bad operator price table (cached per path)
    queue = Worker(create_broker(settings))
    runtime = await _worker_runtime(build_core(settings), queue, vault, shared_limiter=True)
    await queue.start()
    return runtime


async def stop_worker_runtime(runtime: WorkerRuntime, *, dispose: bool = True) -> None:
    await runtime.queue.stop()
    await _stop_judging(runtime)
    if dispose:
        await runtime.engine.dispose()


async def _stop_judging(runtime: WorkerRuntime) -> None:
    stop = getattr(runtime.judge_limiter, "stop", None)  # the Redis limiter's renewals
    if stop is not None:
        await stop()
    await runtime.http.aclose()


async def start_api_runtime(settings: Settings) -> ApiRuntime:
    """An API process. Its queue runs jobs in process (with a ``WorkerRuntime`` on the same
    database pool) when there is no Redis, and only sends them when there is one."""
    # The secrets first: a missing one stops the start before anything is opened.
    jwt_secret, vault = settings.jwt_secret(), load_vault(settings)
    load_prices(settings.prices_file)
    core = build_core(settings)
    queue = Worker(create_broker(settings))
    worker = (
        await _worker_runtime(core, queue, vault, shared_limiter=False)
        if queue.in_process
        else None
    )
    await queue.start()
    writer = RunWriter(settings.resolved_database_url)
    writer.start()
    oidc = (
        OidcVerifier(settings.oidc_jwks_url, settings.oidc_issuer, settings.oidc_audience)
        if settings.oidc_jwks_url
        else None
    )
    return ApiRuntime(
        settings=settings,
        engine=core.engine,
        sessions=core.sessions,
        jwt_secret=jwt_secret,
        vault=vault,
        limits=RequestLimits(settings, redis_url=settings.redis_url),
        oidc=oidc,
        queue=queue,
        run_writer=writer,
        admission=Admission(settings.max_waiting_sync_runs),
        snapshots=SnapshotCache(),
        key_cache=KeyCache() if settings.embedded else None,
        facts_cache=FactsCache() if settings.embedded else None,
        redis_probe=queue.available if settings.redis_url else None,
        worker=worker,
    )


async def stop_api_runtime(runtime: ApiRuntime) -> None:
    """Writes the runs still queued for the writer, lets in-process jobs finish, then
    closes everything the runtime opened."""
    await runtime.run_writer.stop()
    await runtime.queue.stop()
    if runtime.worker is not None:
        await _stop_judging(runtime.worker)
    await runtime.limits.close()
    await runtime.engine.dispose()


@contextlib.asynccontextmanager
async def api_runtime(settings: Settings) -> AsyncIterator[ApiRuntime]:
    runtime = await start_api_runtime(settings)
    try:
        yield runtime
    finally:
        await stop_api_runtime(runtime)
