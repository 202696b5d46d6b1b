"""The worker facade's queue. Embedded (no Redis URL), a job is a task of this event loop
and taskiq is never imported: its in-memory broker only ran the job as a task too, and
importing it cost the server ~10 MB of resident memory and 149 modules (bench/RESULTS.md,
"Resident memory"). Scaled out, the Redis Streams broker of redis_queue.py carries jobs to
``launchgate worker`` processes.
"""

from __future__ import annotations

import asyncio
import contextlib
import importlib
import time
from typing import TYPE_CHECKING, Any

import structlog

from launchgate.errors import ServiceUnavailable
from launchgate.kit.jobs import get_job
from launchgate.observability import context, setup_process, worker_metrics_port
from launchgate.observability.sql import instrument_engine

if TYPE_CHECKING:
    from taskiq import AsyncBroker, AsyncTaskiqTask
    from taskiq_redis import RedisStreamBroker

    from launchgate.runtime import WorkerRuntime

log = structlog.get_logger(__name__)

# Modules whose @job functions the worker must know about.
TASK_MODULES = ("launchgate.runs.tasks", "launchgate.byok.tasks")


class JobFailed(RuntimeError):
    """A job awaited with ``Worker.call`` raised; its own error is in the worker's log."""

    def __init__(self, name: str) -> None:
        super().__init__(f"job {name!r} failed")


_QUEUE_DOWN = (
    "The job queue (Redis) is unreachable, so work that needs a worker cannot be "
    "accepted now; retry shortly. Synchronous runs of suites without llm_judge "
    "cases still work."
)


class QueueUnavailable(ServiceUnavailable):
    """The job queue (Redis) cannot be reached: nothing was sent. A 503 to the caller."""


class LocalJob:
    """A job sent in process: the task running it, for ``Worker.result``. Its failure is
    read here, so an unawaited failed job does not log "exception never retrieved" (the
    job's own ``job failed`` line is the record)."""

    def __init__(self, name: str, task: asyncio.Task[Any]) -> None:
        self.name = name
        self.task = task
        task.add_done_callback(_retrieve)


def _retrieve(task: asyncio.Task[Any]) -> None:
    if not task.cancelled():
        task.exception()


class Worker:
    """The jobs' queue, and the runtime its jobs run with in this process. Each app has its
    own, so two apps in one process (tests) never share a queue.

    Embedded (``broker`` None): jobs run in this process, each as a task of its event loop,
    started as soon as it is sent. Scaled out: a Redis Streams broker
    (worker/redis_queue.py); the API process only sends, ``launchgate worker`` processes
    consume (worker/consumer.py). wiring.py builds it and, in a process that runs jobs,
    gives it their ``WorkerRuntime`` with ``run_jobs_with``."""

    def __init__(self, broker: AsyncBroker | None = None) -> None:
        self.broker = broker
        self._runtime: WorkerRuntime | None = None
        # In process: jobs sent and not yet started (a task starts at the loop's next turn).
        self._waiting: int = 0
        # In process: jobs sent and running; kept so none is collected mid-flight.
        self._sent: set[asyncio.Task[Any]] = set()
        # Jobs awaited by ``call`` in this process; likewise kept.
        self._calls: set[asyncio.Task[Any]] = set()
        self._started = False
        self._observing: contextlib.AsyncExitStack | None = None
        self.metrics_port: int | None = None  # a worker's own /metrics, once serving
        if broker is None:
            return

        # The envelope: the job's name, its arguments, and what its sender's context
        # carries on (``context.envelope()``: the request id, the W3C trace context). A
        # message sent before ``carried`` existed still runs (its default).
        async def dispatch(
            name: str, payload: dict[str, Any], carried: dict[str, str] | None = None
        ) -> Any:
            with context.adopt(carried, name):
                return await self._run(name, payload)

        self._dispatch = broker.register_task(dispatch, task_name="launchgate.dispatch")

    def run_jobs_with(self, runtime: WorkerRuntime) -> None:
        """The runtime jobs received in this process run with (wiring.py, once)."""
        self._runtime = runtime

    async def _run(self, name: str, payload: dict[str, Any]) -> Any:
        if self._runtime is None:  # a sending-only process (a scaled-out API) got a job
            raise RuntimeError("this process sends jobs but does not run them")
        started = time.perf_counter()
        try:
            result = await get_job(name)(self._runtime, **payload)
        except Exception:
            log.exception("job failed", job=name)
            raise
        log.debug("job finished", job=name, duration_ms=_ms(started))
        return result

    @property
    def stream(self) -> RedisStreamBroker:
        """The scaled-out broker, for the consuming loop of ``launchgate worker``."""
        from taskiq_redis import RedisStreamBroker

        if not isinstance(self.broker, RedisStreamBroker):
            raise RuntimeError("the job queue is not the Redis stream of the scaled-out mode")
        return self.broker

    @property
    def in_process(self) -> bool:
        """Jobs run in this process (the embedded mode: no broker)."""
        return self.broker is None

    async def start(self) -> None:
        for module in TASK_MODULES:
            importlib.import_module(module)
        if self.broker is None:
            self._started = True
            return
        if self._runtime is not None:
            await self._observe(self._runtime)
        try:
            await self.broker.startup()
            self._started = True
        except Exception as exc:
            # An API process must start while Redis is down (SPEC §12: deterministic runs
            # keep working); sending retries the start-up.
            log.warning("job queue unreachable at start", error_type=type(exc).__name__)

    async def _observe(self, runtime: WorkerRuntime) -> None:
        """A ``launchgate worker`` process (it runs the jobs it takes from Redis): its logs,
        metrics and traces, and its own ``/metrics`` port, since it has no HTTP server."""
        from launchgate.observability.worker_endpoint import serve_metrics  # aiohttp's server

        settings = runtime.settings
        setup_process(settings, "launchgate-worker")
        instrument_engine(runtime.engine)
        port = worker_metrics_port(settings)
        if port is None:
            return
        token = (
            settings.metrics_token.get_secret_value() if settings.metrics_token else ""
        ) or None
        self._observing = contextlib.AsyncExitStack()
        bound = await self._observing.enter_async_context(
            serve_metrics("0.0.0.0", port, token, self.depth)
        )
        self.metrics_port = bound
        log.info("worker metrics", port=bound)

    async def stop(self) -> None:
        if self._calls:
            await asyncio.wait(self._calls)
        if self.broker is not None:
            await self.broker.shutdown()
        if self._observing is not None:
            await self._observing.aclose()
            self._observing = None

    async def depth(self) -> int:
        """Jobs sent and not yet taken by a worker: in process, those not started yet;
        scaled out, the consumer group's lag on the Redis stream."""
        if self.broker is None:
            return self._waiting
        from launchgate.worker.redis_queue import depth

        return await depth(self.broker)

    async def _ensure_started(self) -> None:
        if not self._started and self.broker is not None:
            await self.broker.startup()
            self._started = True

    async def check_available(self) -> None:
        """Refuse early, before anything is written, when the queue is down."""
        if not await self.available():
            raise QueueUnavailable(_QUEUE_DOWN)

    async def available(self) -> bool:
        """The queue answers now: a request that needs it is refused early if not."""
        if self.broker is None:
            return True
        from launchgate.worker.redis_queue import ping

        return await ping(self.broker)

    async def call(self, name: str, timeout_s: float, **payload: Any) -> Any:
        """Run job ``name`` on the worker and wait for what it returns (at most
        ``timeout_s``): for work that must happen worker-side but that a request answers
        with, such as testing a provider key, or a synchronous run with judge cases.

        In process the job runs as a task of this event loop, awaited directly.
        Shielded: a request that gives up (its client gone, the timeout) leaves the job
        to finish and record its own outcome."""
        if self.in_process:
            job = asyncio.ensure_future(self._adopted(name, payload, context.envelope()))
            self._calls.add(job)
            job.add_done_callback(self._calls.discard)
            try:
                return await asyncio.wait_for(asyncio.shield(job), timeout_s)
            except Exception as exc:
                if job.done() and job.exception() is exc:
                    raise JobFailed(name) from None
                raise
        task = await self.submit(name, **payload)
        done, value = await self.result(task, timeout_s)
        if not done:
            raise TimeoutError(f"job {name!r} did not finish within {timeout_s:g} s")
        return value

    async def _adopted(self, name: str, payload: dict[str, Any], carried: dict[str, str]) -> Any:
        """A job run in process by ``call``, in the same context as one sent through the
        queue: its sender's request id, its trace continued."""
        with context.adopt(carried, name):
            return await self._run(name, payload)

    async def submit(self, name: str, **payload: Any) -> AsyncTaskiqTask[Any] | LocalJob:
        """Send job ``name``; the handle lets the sender wait for its result."""
        if self.in_process:
            return self._send_here(name, payload)
        try:
            await self._ensure_started()
            return await self._dispatch.kiq(name, payload, context.envelope())
        except Exception as exc:
            log.warning("job queue unreachable", job=name, error_type=type(exc).__name__)
            raise QueueUnavailable(_QUEUE_DOWN) from None

    def _send_here(self, name: str, payload: dict[str, Any]) -> LocalJob:
        """In process: the job starts at the event loop's next turn, in its sender's
        context (its request id, its trace), and runs to the end whoever waits for it."""
        self._waiting += 1
        task = asyncio.create_task(self._queued(name, payload, context.envelope()))
        self._sent.add(task)
        task.add_done_callback(self._sent.discard)
        return LocalJob(name, task)

    async def _queued(self, name: str, payload: dict[str, Any], carried: dict[str, str]) -> Any:
        self._waiting = max(0, self._waiting - 1)
        return await self._adopted(name, payload, carried)

    async def result(
        self, task: AsyncTaskiqTask[Any] | LocalJob, timeout_s: float
    ) -> tuple[bool, Any]:
        """(True, what the job returned) once it finished within ``timeout_s``, else
        (False, None). Raises ``JobFailed`` when the job raised."""
        if isinstance(task, LocalJob):
            done, _ = await asyncio.wait({task.task}, timeout=max(0.0, timeout_s))
            if not done:
                return False, None
            if task.task.cancelled() or task.task.exception() is not None:
                raise JobFailed(task.name)
            return True, task.task.result()
        from taskiq.exceptions import ResultGetError

        deadline = time.monotonic() + timeout_s
        # Quick jobs answer within a few polls; a long judge run is polled ever less often,
        # so many waiting requests do not keep Redis busy.
        pause = 0.005
        while True:
            try:
                if await task.is_ready():
                    result = await task.get_result()
                    if result.is_err:
                        raise JobFailed(task.task_id)
                    return True, result.return_value
            except (ResultGetError, OSError, ConnectionError) as exc:
                log.warning("job result unreadable", error_type=type(exc).__name__)
            left = deadline - time.monotonic()
            if left <= 0:
                return False, None
            await asyncio.sleep(min(pause, left))
            pause = min(pause * 1.5, 0.1)

    async def enqueue(self, name: str, **payload: Any) -> None:
        """Send job ``name``; it runs on the worker, never inside the caller's request.
        Raises ``QueueUnavailable`` when the scaled-out queue cannot be reached."""
        await self.submit(name, **payload)


def _ms(started: float) -> float:
    return round((time.perf_counter() - started) * 1000, 1)
