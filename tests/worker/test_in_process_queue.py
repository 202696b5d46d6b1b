"""The embedded mode's queue: jobs are tasks of the server's event loop, with what taskiq's
in-memory broker gave them (the sender's request id, the waiting count behind
``launchgate_queue_depth``, a failure logged and reported to whoever waits), and taskiq
is never imported for it. The scaled-out mode still goes through taskiq (tests/scale)."""

from __future__ import annotations

import asyncio
import subprocess
import sys
import uuid
from collections.abc import AsyncIterator
from typing import Any, cast

import pytest
import structlog

from launchgate.kit.jobs import job
from launchgate.observability import context
from launchgate.runtime import WorkerRuntime
from launchgate.worker import JobFailed, Worker, create_broker
from launchgate.worker.queue import LocalJob
from tests.conftest import make_settings

# The runtime jobs receive: these jobs only hand it back, so any object stands in for it.
RUNTIME = cast(WorkerRuntime, object())
SEEN: dict[str, Any] = {}
GATE: dict[str, asyncio.Event] = {}


@job("test.queue.echo")
async def _echo(runtime: WorkerRuntime, key: str, value: Any) -> dict[str, Any]:
    SEEN[key] = {"runtime": runtime, "request_id": context.current(), "value": value}
    return {"value": value}


@job("test.queue.held")
async def _held(runtime: WorkerRuntime, key: str) -> str:
    await GATE[key].wait()
    return key


@job("test.queue.fails")
async def _fails(runtime: WorkerRuntime) -> None:
    raise ValueError("the job's own failure")


@pytest.fixture
async def worker() -> AsyncIterator[Worker]:
    queue = Worker(None)
    queue.run_jobs_with(RUNTIME)
    await queue.start()
    yield queue
    await queue.stop()


def test_the_embedded_broker_is_none_and_a_redis_url_gets_taskiqs(tmp_path: Any) -> None:
    assert create_broker(make_settings("sqlite+aiosqlite:///x", tmp_path)) is None
    assert Worker(None).in_process
    settings = make_settings("sqlite+aiosqlite:///x", tmp_path, redis_url="redis://127.0.0.1:6379")
    broker = create_broker(settings)
    assert broker is not None and type(broker).__module__.startswith("launchgate.worker")
    assert not Worker(broker).in_process


def test_an_embedded_queue_never_imports_taskiq() -> None:
    """In a fresh interpreter: a job sent, run and awaited, and taskiq still not loaded."""
    script = """
import asyncio, sys
from launchgate.kit.jobs import job
from launchgate.worker import Worker

@job("probe.double")
async def double(runtime, n):
    return 2 * n

async def main():
    queue = Worker(None)
    queue.run_jobs_with(object())
    await queue.start()
    sent = await queue.submit("probe.double", n=21)
    done = await queue.result(sent, 5.0)
    called = await queue.call("probe.double", 5.0, n=4)
    await queue.stop()
    return done, called

print(asyncio.run(main()), "taskiq" in sys.modules, "taskiq_redis" in sys.modules)
"""
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=60, check=False
    )
    assert done.returncode == 0, done.stderr
    # The last line: structlog's default configuration prints the jobs' log lines before.
    assert done.stdout.splitlines()[-1] == "((True, 42), 8) False False"


async def test_a_sent_job_runs_in_its_senders_request_and_answers(worker: Worker) -> None:
    key = uuid.uuid4().hex
    with context.bound("req-" + key[:12]):
        sent = await worker.submit("test.queue.echo", key=key, value=[1, "two"])
    assert isinstance(sent, LocalJob)
    assert await worker.result(sent, 5.0) == (True, {"value": [1, "two"]})
    assert SEEN[key] == {"runtime": RUNTIME, "request_id": "req-" + key[:12], "value": [1, "two"]}


async def test_depth_counts_the_jobs_sent_and_not_started(worker: Worker) -> None:
    keys = [uuid.uuid4().hex for _ in range(3)]
    for key in keys:
        GATE[key] = asyncio.Event()
    for key in keys:
        await worker.enqueue("test.queue.held", key=key)
    assert await worker.depth() == 3  # sent; they start at the loop's next turn
    await asyncio.sleep(0)
    await asyncio.sleep(0)
    assert await worker.depth() == 0  # started (and waiting on their gate)
    for key in keys:
        GATE[key].set()


async def test_a_failed_job_is_logged_and_reported_to_whoever_waits(worker: Worker) -> None:
    with structlog.testing.capture_logs() as logs:
        sent = await worker.submit("test.queue.fails")
        with pytest.raises(JobFailed, match=r"'test\.queue\.fails'"):
            await worker.result(sent, 5.0)
        with pytest.raises(JobFailed):
            await worker.call("test.queue.fails", 5.0)
        await worker.enqueue("test.queue.fails")  # nobody waits: logged all the same
        await asyncio.sleep(0.05)
    failures = [line for line in logs if line["event"] == "job failed"]
    assert [line["job"] for line in failures] == ["test.queue.fails"] * 3


async def test_a_job_outlives_a_waiter_that_gives_up(worker: Worker) -> None:
    key = uuid.uuid4().hex
    GATE[key] = asyncio.Event()
    sent = await worker.submit("test.queue.held", key=key)
    assert await worker.result(sent, 0.05) == (False, None)
    with pytest.raises(TimeoutError):
        await worker.call("test.queue.held", 0.05, key=key)
    GATE[key].set()
    assert await worker.result(sent, 5.0) == (True, key)


async def test_stop_waits_for_the_jobs_a_request_is_waiting_on() -> None:
    queue = Worker(None)
    queue.run_jobs_with(RUNTIME)
    await queue.start()
    key = uuid.uuid4().hex
    GATE[key] = asyncio.Event()
    waiting = asyncio.create_task(queue.call("test.queue.held", 5.0, key=key))
    await asyncio.sleep(0.01)
    stopping = asyncio.create_task(queue.stop())
    await asyncio.sleep(0.05)
    assert not stopping.done()  # the job a request awaits is finished first
    GATE[key].set()
    await stopping
    assert await waiting == key


async def test_unknown_job_names_fail_like_any_job(worker: Worker) -> None:
    with pytest.raises(JobFailed):
        await worker.call("test.queue.no-such-job", 5.0)
