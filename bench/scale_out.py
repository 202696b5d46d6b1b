"""Scaled-out throughput: async runs per second with 1 and with 2 ``launchgate worker``
processes, for a deterministic suite and for an LLM-judge suite, and where the
per-organisation judge limit (20 calls in flight per organisation and provider, held on
Redis across the fleet) binds.

One command, from the repository root:

    .venv/bin/python bench/scale_out.py            # ~2.5 min on a quiet machine
    .venv/bin/python bench/scale_out.py --quick    # < 1 min: smaller batches, 5 configurations

What it does:

1. Creates a throwaway PostgreSQL database (``CREATE DATABASE lg_scale_bench_<hex>`` on
   ``--postgres-url``, default postgresql://postgres@127.0.0.1:5432/postgres) and empties a
   Redis database index of its own (``--redis-url``, default redis://127.0.0.1:6379/14,
   ``FLUSHDB`` before and after).
2. Starts the fake provider (``python -m launchgate.testing.fake_provider``, its own
   process, log level warning) answering every call after a fixed 200 ms, and with
   ``launchgate.testing.fleet.Fleet`` one ``launchgate serve`` (the API) on that database and
   Redis: every request limit off, ``LAUNCHGATE_OPENAI_BASE_URL`` at the fake,
   ``LAUNCHGATE_ALLOW_PRIVATE_PROVIDER_URLS=true``, ``LAUNCHGATE_JUDGE_CONCURRENCY=20``;
   the run lease, sweep and requeue settings are left at their defaults. ``db upgrade``,
   then two organisations (``orgs create … --plan enterprise``), each with its own OpenAI
   BYOK key (``sk-test-…``, so the fake counts each organisation's calls under its own key)
   and ``setup_judged_suite``: organisation A gets a deterministic suite ``det`` (4
   ``contains`` cases, ``judge_cases=0, exact_cases=4``) and a judge suite ``judge`` (3
   ``llm_judge`` cases, ``judge_cases=3, exact_cases=0``); organisation B a ``judge`` suite.
3. Measures configurations in three stages. Each stage starts fresh ``launchgate worker
   --concurrency C`` processes (one, measures, then a second one, measures), and stops them
   (SIGTERM) at its end; every configuration begins with an unmeasured warm-up batch of its
   workload (2 × the fleet's worker slots, at least 10 runs):
   - deterministic suite, C = 10 (the default concurrency): 1 worker, then 2 workers;
   - judge suite, C = 6, so that 1 worker puts at most 6 × 3 = 18 calls in flight (under
     the limit) and 2 workers would put 36 (over it): 1 worker with runs from organisation
     A only and with runs split evenly over A and B (not with ``--quick``: with 18 calls
     in flight the split cannot matter), then 2 workers, A only and split (each
     organisation has its own 20);
   - judge suite, C = 3 (9 and 18 calls in flight, under the limit either way), organisation
     A only: 1, then 2 workers (not with ``--quick``).
   Each configuration is measured twice with the same N runs (``"async": true``, submitted
   by 16 client threads with one keep-alive httpx client each):
   - **end to end**: submitted while the workers run; from just before the first submit
     to the ``completed_at`` of the last run to complete;
   - **drain**: submitted while the workers are paused (SIGSTOP to their process groups),
     then timed from SIGCONT to the last ``completed_at``: the workers' own rate, with the
     API idle instead of accepting runs beside them (``--no-drain`` skips it).
   The script polls ``GET /v1/billing/usage`` (``current_usage``; a run counts when its
   completion commits) every 0.1 s until it has grown by N, then lists the batch's runs
   (``GET /v1/suites/{id}/runs``) and checks that each one is ``cleared`` with every case
   passed, and that the fake saw exactly N × 3 judge calls (no run judged twice). The
   fake's counters are reset before each batch: afterwards they give the most judge calls
   in flight at once (``max_concurrent``) per key, i.e. per organisation. The CPU time of
   every process over the end-to-end batch (API, each worker, fake, this database's
   PostgreSQL backends plus the server's shared processes, Redis, this script) and of the
   whole machine (``/proc/stat``) shows which part is saturated.
4. Prints Markdown tables (raw numbers, 2-vs-1 ratios, CPU) and writes them into
   bench/RESULTS.md between the ``scale:begin``/``scale:end`` markers, keeping the
   hand-written analysis outside them (the section is appended when the markers are
   absent). Records the load average at start and end: the 2 cores are shared with anything
   else running on the machine.

Every process it starts is stopped (also on Ctrl-C and SIGTERM), the database is dropped and
the Redis index emptied; every phase has a time limit. Exit 1 when a run does not clear or
a phase fails (RESULTS.md is then not written), and also when any key had more than 20
judge calls in flight (the results are written, with the breach flagged).
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import math
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit, urlunsplit

import httpx

# The sibling benchmark's helpers (python puts this script's directory on sys.path).
from run_latency import (
    BenchError,
    _raise_interrupt,
    command_line,
    loadavg,
    machine_info,
    write_between_markers,
)

if TYPE_CHECKING:
    from launchgate.testing.fake_provider.runner import FakeProviderProcess
    from launchgate.testing.fleet import Fleet

BENCH_DIR = Path(__file__).resolve().parent
RESULTS = BENCH_DIR / "RESULTS.md"
BEGIN_MARK = "<!-- scale:begin (written by bench/scale_out.py; edit outside the markers) -->"
END_MARK = "<!-- scale:end -->"
SECTION_TITLE = "## Scaled-out throughput (issue 5)"

DEFAULT_PG_URL = "postgresql://postgres@127.0.0.1:5432/postgres"
DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/14"
JUDGE_LIMIT = 20  # LAUNCHGATE_JUDGE_CONCURRENCY: per organisation and provider
JUDGE_CASES = 3
DET_CASES = 4
OUTPUT = "Paris is the capital of France. FAKE_SCORE=0.9"  # clears contains and the judge
CLIENT_THREADS = 16
POLL_S = 0.1
BATCH_TIMEOUT_S = 120.0
WORKER_START_TIMEOUT_S = 60.0
CLK_TCK = os.sysconf("SC_CLK_TCK")


# --------------------------------------------------------------------------- CPU accounting


def _proc_stats() -> Iterator[tuple[int, str, int, float]]:
    """(pid, comm, process group, user+system CPU s) of every process we can read."""
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            raw = Path(f"/proc/{entry.name}/stat").read_text()
        except OSError:
            continue
        comm = raw[raw.find("(") + 1 : raw.rfind(")")]
        fields = raw.rsplit(")", 1)[1].split()
        yield int(entry.name), comm, int(fields[2]), (int(fields[11]) + int(fields[12])) / CLK_TCK


def _cmdline(pid: int) -> str:
    try:
        return (
            Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        )
    except OSError:
        return ""


def machine_busy_s() -> float:
    """CPU seconds the whole machine spent not idle (all cores), from /proc/stat."""
    values = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = values[3] + (values[4] if len(values) > 4 else 0)  # idle + iowait
    return (sum(values[:8]) - idle) / CLK_TCK


@dataclass
class CpuWatch:
    """Which processes to account for, by name: process groups (the fleet's processes run
    in sessions of their own), single pids, and PostgreSQL (this database's backends plus
    the server's shared processes, when the server is on this machine)."""

    groups: dict[str, int] = field(default_factory=dict)
    pids: dict[str, int] = field(default_factory=dict)
    pg_database: str | None = None

    def snapshot(self) -> dict[str, Any]:
        by_group: dict[int, float] = {}
        by_pid: dict[int, float] = {}
        pg: dict[int, float] = {}
        for pid, comm, pgrp, cpu in _proc_stats():
            by_group[pgrp] = by_group.get(pgrp, 0.0) + cpu
            by_pid[pid] = cpu
            if self.pg_database and comm == "postgres":
                line = _cmdline(pid)
                shared = "(" not in line and "[local]" not in line
                if self.pg_database in line or shared:
                    pg[pid] = cpu
        out: dict[str, Any] = {name: by_group.get(g, 0.0) for name, g in self.groups.items()}
        out.update({name: by_pid.get(p, 0.0) for name, p in self.pids.items()})
        out["_pg"] = pg
        out["_machine"] = machine_busy_s()
        return out

    @staticmethod
    def delta(before: dict[str, Any], after: dict[str, Any]) -> dict[str, float]:
        out = {k: after[k] - before.get(k, 0.0) for k in after if not k.startswith("_")}
        pg_before: dict[int, float] = before["_pg"]
        pg_after: dict[int, float] = after["_pg"]
        out["postgres"] = (
            sum(cpu - pg_before.get(pid, 0.0) for pid, cpu in pg_after.items())
            if pg_after
            else float("nan")
        )
        out["machine"] = after["_machine"] - before["_machine"]
        return out


# --------------------------------------------------------------------------- services


def with_path(url: str, path: str) -> str:
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, path, parts.query, parts.fragment))


def is_local(url: str) -> bool:
    return urlsplit(url).hostname in ("127.0.0.1", "localhost", "::1")


@contextlib.contextmanager
def throwaway_database(admin_url: str) -> Iterator[tuple[str, str]]:
    """(URL, name) of a new empty database, dropped afterwards."""
    import psycopg

    name = f"lg_scale_bench_{uuid.uuid4().hex[:10]}"
    try:
        with psycopg.connect(admin_url, autocommit=True, connect_timeout=5) as admin:
            admin.execute(f'CREATE DATABASE "{name}"')
    except psycopg.Error as exc:
        raise BenchError(f"cannot create a database on {admin_url}: {exc}") from exc
    try:
        yield with_path(admin_url, "/" + name), name
    finally:
        with psycopg.connect(admin_url, autocommit=True, connect_timeout=5) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        print(f"Dropped database {name}", flush=True)


@contextlib.contextmanager
def emptied_redis(url: str) -> Iterator[int | None]:
    """FLUSHDB on the bench's own Redis database index, before and after; yields the Redis
    server's pid when it runs on this machine (for the CPU table)."""
    import redis

    client = redis.Redis.from_url(url, socket_connect_timeout=3)
    try:
        client.flushdb()
        info: dict[str, Any] = client.info("server")
    except redis.RedisError as exc:
        raise BenchError(f"Redis unreachable at {url}: {exc}") from exc
    pid = int(info["process_id"]) if is_local(url) else None
    try:
        yield pid
    finally:
        with contextlib.suppress(redis.RedisError):
            client.flushdb()
        client.close()


def server_versions(pg_url: str, redis_url: str) -> str:
    import psycopg
    import redis

    parts = []
    with contextlib.suppress(Exception), psycopg.connect(pg_url, connect_timeout=5) as conn:
        row = conn.execute("SHOW server_version").fetchone()
        parts.append(f"PostgreSQL {row[0].split()[0] if row else '?'}")
    with contextlib.suppress(Exception):
        client = redis.Redis.from_url(redis_url, socket_connect_timeout=3)
        parts.append(f"Redis {client.info('server')['redis_version']}")
        client.close()
    return ", ".join(parts)


# --------------------------------------------------------------------------- workload


@dataclass
class Org:
    name: str
    api_key: str
    provider_key: str
    fingerprint: str
    suites: dict[str, str] = field(default_factory=dict)  # slug → suite id


@dataclass
class Config:
    key: str
    label: str
    workload: str  # "det" | "judge"
    workers: int
    concurrency: int
    orgs: int
    runs: int

    def ideal_runs_s(self, latency_ms: float) -> float | None:
        """Judge runs with zero overhead: runs in flight are capped by the workers' slots
        and by the judge limit (20 calls per organisation, 3 calls per run, all at once)."""
        if self.workload != "judge":
            return None
        calls = min(self.workers * self.concurrency * JUDGE_CASES, JUDGE_LIMIT * self.orgs)
        return calls / JUDGE_CASES / (latency_ms / 1000)

    def wanted_in_flight(self) -> int:
        return self.workers * self.concurrency * JUDGE_CASES


@dataclass
class Timing:
    """One measured batch."""

    runs: int
    seconds: float  # clock start → the last run's completed_at
    accepted_s: float  # first submit → last 202
    judge_calls: int
    max_in_flight: dict[str, int]  # org name → the fake's max_concurrent for its key

    @property
    def runs_s(self) -> float:
        return self.runs / self.seconds

    @property
    def calls_s(self) -> float:
        return self.judge_calls / self.seconds


@dataclass
class Batch:
    config: Config
    e2e: Timing  # submitted while the workers run: first submit → last final
    drain: Timing | None  # queued while the workers were paused: resume → last final
    cpu: dict[str, float]  # over the end-to-end batch
    cpu_window_s: float
    worker_names: list[str]

    def timings(self) -> list[Timing]:
        return [self.e2e] + ([self.drain] if self.drain else [])


class Client:
    """One keep-alive httpx client per thread (httpx.Client is not shared across threads)."""

    def __init__(self, url: str) -> None:
        self.url = url
        self._local = threading.local()
        self._all: list[httpx.Client] = []
        self._lock = threading.Lock()

    def get(self) -> httpx.Client:
        client: httpx.Client | None = getattr(self._local, "client", None)
        if client is None:
            client = httpx.Client(base_url=self.url, timeout=30.0)
            self._local.client = client
            with self._lock:
                self._all.append(client)
        return client

    def close(self) -> None:
        for client in self._all:
            client.close()


def submit_all(client: Client, jobs: list[tuple[Org, str]]) -> list[tuple[Org, str]]:
    """POST every (org, suite slug) as an async run from CLIENT_THREADS threads; (org, run
    id) pairs. Any answer but 202 fails the bench. On Ctrl-C the queued submits are
    cancelled rather than waited for."""

    def one(job: tuple[Org, str]) -> tuple[Org, str]:
        org, slug = job
        answer = client.get().post(
            "/v1/run",
            headers={"Authorization": f"Bearer {org.api_key}"},
            json={
                "suite": slug,
                "output": OUTPUT,
                "async": True,
                "trigger": "api",
                "trigger_meta": {"bench": "scale_out"},
            },
        )
        if answer.status_code != 202:
            raise BenchError(f"POST /v1/run answered {answer.status_code}: {answer.text[:500]}")
        return org, str(answer.json()["id"])

    pool = ThreadPoolExecutor(CLIENT_THREADS, thread_name_prefix="submit")
    try:
        results = list(pool.map(one, jobs))
    except BaseException:
        pool.shutdown(wait=False, cancel_futures=True)
        raise
    pool.shutdown()
    return results


def usage(client: Client, org: Org) -> int:
    answer = client.get().get(
        "/v1/billing/usage", headers={"Authorization": f"Bearer {org.api_key}"}
    )
    if answer.status_code != 200:
        raise BenchError(f"GET /v1/billing/usage answered {answer.status_code}: {answer.text}")
    return int(answer.json()["current_usage"])


def wait_usage(
    client: Client, targets: dict[str, tuple[Org, int]], timeout_s: float, logs: Callable[[], str]
) -> None:
    """Poll each org's usage until it reaches its target (a run counts when it completes)."""
    deadline = time.monotonic() + timeout_s
    while True:
        short = {name: target - usage(client, org) for name, (org, target) in targets.items()}
        if all(left <= 0 for left in short.values()):
            return
        if time.monotonic() > deadline:
            raise BenchError(
                f"runs still open after {timeout_s:.0f} s ({short}); fleet logs:\n{logs()}"
            )
        time.sleep(POLL_S)


def parse_time(value: str) -> float:
    return dt.datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp()


def batch_runs(client: Client, org: Org, suite_id: str, ids: set[str]) -> list[dict[str, Any]]:
    """The runs with these ids, from the suite's run list (newest first)."""
    found: list[dict[str, Any]] = []
    page = 1
    while len(found) < len(ids):
        answer = client.get().get(
            f"/v1/suites/{suite_id}/runs",
            params={"page": page, "pageSize": 100},
            headers={"Authorization": f"Bearer {org.api_key}"},
        )
        if answer.status_code != 200:
            raise BenchError(f"GET runs answered {answer.status_code}: {answer.text[:500]}")
        body = answer.json()
        found += [run for run in body["data"] if run["id"] in ids]
        if not body["pagination"]["hasMore"]:
            break
        page += 1
    return found


# --------------------------------------------------------------------------- the bench


class Bench:
    def __init__(
        self,
        args: argparse.Namespace,
        fleet: Fleet,
        fake: FakeProviderProcess,
        url: str,
        orgs: list[Org],
        watch: CpuWatch,
    ) -> None:
        self.args = args
        self.fleet = fleet
        self.fake = fake
        self.url = url
        self.orgs = orgs
        self.watch = watch
        self.client = Client(url)
        self.workers: list[str] = []
        self.stage = 0
        self.paused = False

    # workers -------------------------------------------------------------------------

    def start_worker(self, concurrency: int) -> None:
        name = f"worker-s{self.stage}-{len(self.workers) + 1}"
        self.fleet.start_worker(name, concurrency=concurrency)
        deadline = time.monotonic() + WORKER_START_TIMEOUT_S
        while "worker started" not in self.fleet.log_tail(name, 20000):
            process = self.fleet.processes[name]
            if process.poll() is not None:
                raise BenchError(
                    f"{name} exited with {process.returncode}:\n{self.fleet.log_tail(name)}"
                )
            if time.monotonic() > deadline:
                raise BenchError(
                    f"{name} did not start in {WORKER_START_TIMEOUT_S:.0f} s:\n"
                    f"{self.fleet.log_tail(name)}"
                )
            time.sleep(0.05)
        self.workers.append(name)
        self.watch.groups[name] = self.fleet.processes[name].pid
        print(f"  {name} started (--concurrency {concurrency})", flush=True)

    def stop_workers(self) -> None:
        for name in self.workers:
            process = self.fleet.processes.get(name)
            try:
                self.fleet.kill(name, signal.SIGTERM)  # finish what runs, then exit
            except subprocess.TimeoutExpired:
                if process is not None:
                    with contextlib.suppress(ProcessLookupError):
                        os.killpg(process.pid, signal.SIGKILL)
                    process.wait(timeout=10)
            self.watch.groups.pop(name, None)
        self.workers = []
        self.stage += 1

    # batches -------------------------------------------------------------------------

    def jobs(self, config: Config, n: int) -> list[tuple[Org, str]]:
        slug = "det" if config.workload == "det" else "judge"
        return [(self.orgs[i % config.orgs], slug) for i in range(n)]

    def pause_workers(self) -> None:
        for name in self.workers:
            os.killpg(self.fleet.processes[name].pid, signal.SIGSTOP)
        self.paused = True

    def resume_workers(self) -> None:
        for name in self.workers:
            process = self.fleet.processes.get(name)
            if process is not None and process.poll() is None:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(process.pid, signal.SIGCONT)
        self.paused = False

    def targets(self, jobs: list[tuple[Org, str]]) -> dict[str, tuple[Org, int]]:
        """Each org's usage once these jobs are all complete."""
        out: dict[str, tuple[Org, int]] = {}
        for org in {org.name: org for org, _ in jobs}.values():
            out[org.name] = (org, usage(self.client, org) + sum(1 for o, _ in jobs if o is org))
        return out

    def warm_up(self, config: Config) -> None:
        jobs = self.jobs(config, max(10, 2 * config.workers * config.concurrency))
        targets = self.targets(jobs)
        submit_all(self.client, jobs)
        wait_usage(self.client, targets, BATCH_TIMEOUT_S, self.fleet.logs)

    def check(
        self, config: Config, runs: list[tuple[Org, str]], started: float, accepted_s: float
    ) -> Timing:
        """Every run cleared with all its cases passed; the fake saw exactly the judge calls
        expected. The timing ends at the last run's completed_at."""
        slug = "det" if config.workload == "det" else "judge"
        last = 0.0
        for org in {org.name: org for org, _ in runs}.values():
            ids = {run_id for o, run_id in runs if o is org}
            found = batch_runs(self.client, org, org.suites[slug], ids)
            if len(found) != len(ids):
                raise BenchError(
                    f"{config.label}: {len(ids) - len(found)} runs of {org.name} "
                    "missing from the run list"
                )
            bad = [
                r
                for r in found
                if r["status"] != "cleared"
                or r["passed_cases"] != r["total_cases"]
                or r["completed_at"] is None
            ]
            if bad:
                raise BenchError(f"{config.label}: {len(bad)} runs did not clear, e.g. {bad[0]}")
            last = max(last, *(parse_time(r["completed_at"]) for r in found))
        keys: dict[str, Any] = self.fake.counters()["keys"]
        calls = sum(int(k.get("endpoints", {}).get("chat", 0)) for k in keys.values())
        expected = len(runs) * JUDGE_CASES if config.workload == "judge" else 0
        if calls != expected:
            raise BenchError(
                f"{config.label}: the fake saw {calls} judge calls, expected "
                f"{expected} ({len(runs)} runs × {JUDGE_CASES})"
            )
        in_flight = (
            {
                org.name: int(keys.get(org.fingerprint, {}).get("max_concurrent", 0))
                for org in self.orgs[: config.orgs]
            }
            if config.workload == "judge"
            else {}
        )
        return Timing(len(runs), last - started, accepted_s, calls, in_flight)

    def measure(self, config: Config) -> Batch:
        self.warm_up(config)
        jobs = self.jobs(config, config.runs)

        # End to end: submitted while the workers run.
        self.fake.reset(counters=True, config=False)
        targets = self.targets(jobs)
        cpu_before = self.watch.snapshot()
        t_first = time.time()
        runs = submit_all(self.client, jobs)
        accepted = time.time() - t_first
        wait_usage(self.client, targets, BATCH_TIMEOUT_S, self.fleet.logs)
        window = time.time() - t_first
        cpu = CpuWatch.delta(cpu_before, self.watch.snapshot())
        e2e = self.check(config, runs, t_first, accepted)
        report(config, "end to end", e2e)

        # Drain: the same batch queued while the workers are paused (SIGSTOP), timed from
        # SIGCONT: the workers' own rate, without the API accepting runs beside them.
        drain: Timing | None = None
        if not self.args.no_drain:
            self.fake.reset(counters=True, config=False)
            targets = self.targets(jobs)
            self.pause_workers()
            try:
                t_first = time.time()
                runs = submit_all(self.client, jobs)
                accepted = time.time() - t_first
                t_resume = time.time()
            finally:
                self.resume_workers()
            wait_usage(self.client, targets, BATCH_TIMEOUT_S, self.fleet.logs)
            drain = self.check(config, runs, t_resume, accepted)
            report(config, "drain", drain)
        return Batch(config, e2e, drain, cpu, window, list(self.workers))


def report(config: Config, mode: str, t: Timing) -> None:
    flag = (
        "  ** JUDGE LIMIT EXCEEDED **"
        if any(v > JUDGE_LIMIT for v in t.max_in_flight.values())
        else ""
    )
    print(
        f"  {config.label}, {mode}: {t.runs} runs in {t.seconds:.2f} s = {t.runs_s:.1f} "
        f"runs/s (accepted in {t.accepted_s:.2f} s)"
        + (
            f", {t.judge_calls} judge calls = {t.calls_s:.1f}/s, max in flight {t.max_in_flight}"
            if t.judge_calls
            else ""
        )
        + flag,
        flush=True,
    )


def plan(args: argparse.Namespace) -> list[tuple[int, list[Config]]]:
    """Stages: (worker concurrency, configurations with 1 worker then 2)."""
    c, low, n_det, n_judge = args.concurrency, args.low_concurrency, args.det_runs, args.judge_runs
    stages = [
        (
            args.det_concurrency,
            [
                Config(
                    "det1",
                    f"deterministic, 1 worker × {args.det_concurrency}",
                    "det",
                    1,
                    args.det_concurrency,
                    1,
                    n_det,
                ),
                Config(
                    "det2",
                    f"deterministic, 2 workers × {args.det_concurrency}",
                    "det",
                    2,
                    args.det_concurrency,
                    1,
                    n_det,
                ),
            ],
        ),
        (
            c,
            [
                Config("j1", f"judge, 1 worker × {c}, 1 org", "judge", 1, c, 1, n_judge),
                *(
                    []
                    if args.quick
                    else [
                        Config("j1o2", f"judge, 1 worker × {c}, 2 orgs", "judge", 1, c, 2, n_judge)
                    ]
                ),
                Config("j2", f"judge, 2 workers × {c}, 1 org", "judge", 2, c, 1, n_judge),
                Config("j2o2", f"judge, 2 workers × {c}, 2 orgs", "judge", 2, c, 2, n_judge),
            ],
        ),
    ]
    if not args.quick:
        stages.append(
            (
                low,
                [
                    Config("l1", f"judge, 1 worker × {low}, 1 org", "judge", 1, low, 1, n_judge),
                    Config("l2", f"judge, 2 workers × {low}, 1 org", "judge", 2, low, 1, n_judge),
                ],
            )
        )
    return stages


# --------------------------------------------------------------------------- report


def fleet_machine_info(pg_url: str, redis_url: str) -> dict[str, str]:
    return machine_info(
        ("fastapi", "uvicorn", "sqlalchemy", "psycopg", "redis", "taskiq", "taskiq-redis", "httpx"),
        servers=server_versions(pg_url, redis_url),
    )


def _cores(cpu_s: float, window_s: float) -> str:
    return "n/a" if math.isnan(cpu_s) else f"{cpu_s / window_s:.2f}"


def _in_flight(t: Timing | None) -> str:
    if t is None or not t.max_in_flight:
        return "–"
    parts = []
    for org, value in t.max_in_flight.items():
        text = f"{org} {value}"
        parts.append(f"**{text} (over {JUDGE_LIMIT})**" if value > JUDGE_LIMIT else text)
    return ", ".join(parts)


def render(
    batches: list[Batch],
    args: argparse.Namespace,
    info: dict[str, str],
    started: dt.datetime,
    load_start: str,
    load_end: str,
) -> str:
    lat = args.latency_ms
    ceiling1 = JUDGE_LIMIT / (lat / 1000)
    drain = not args.no_drain
    lines = [
        f"Command: `{command_line()}`  ",
        f"Date: {started:%Y-%m-%d %H:%M} UTC  ",
        f"Machine: {info['cores']} cores ({info['cpu']}), {info['os']}, "
        f"Python {info['python']}; {info['servers']}  ",
        f"Stack: {info['packages']}  ",
        f"Load average at start {load_start}, at end {load_end}  ",
        f"Setup: one `launchgate serve`, `launchgate worker` processes, PostgreSQL and Redis "
        f"(a database index of its own), all on this machine, and the fake provider in its "
        f"own process answering after {lat:g} ms; request limits off, "
        f"`LAUNCHGATE_JUDGE_CONCURRENCY={JUDGE_LIMIT}`, run lease and sweep at their defaults. "
        f"Deterministic suite: {DET_CASES} `contains` cases. Judge suite: {JUDGE_CASES} "
        f"`llm_judge` cases, a run's calls made at once. Each organisation has its own BYOK "
        f"key, so the fake counts its calls apart. **End to end**: N async runs submitted by "
        f"{CLIENT_THREADS} client threads while the workers run, timed from the first submit "
        f"to the last run's `completed_at`. **Drain**: the same N queued while the workers "
        f"are paused (SIGSTOP), timed from SIGCONT to the last `completed_at`: the workers' "
        f"own rate, with the API idle. Before each configuration, an unmeasured warm-up "
        f"batch; each stage starts fresh worker processes. Ideal (judge) = min(workers × "
        f"concurrency × {JUDGE_CASES}, {JUDGE_LIMIT} × orgs) / {JUDGE_CASES} / "
        f"{lat / 1000:g} s: the run rate with zero overhead. The limit's ceiling is "
        f"{JUDGE_LIMIT} / {lat / 1000:g} s = {ceiling1:g} judge calls/s per organisation.",
        "",
        "| Configuration | runs | accepted after s | all final after s | runs/s "
        + ("| drain: all final after s | drain runs/s " if drain else "")
        + "| ideal runs/s | judge calls/s | limit ceiling calls/s | calls in flight wanted "
        "| max in flight per key (fake) |",
        "|---|---:|---:|---:|---:|" + ("---:|---:|" if drain else "") + "---:|---:|---:|---:|---|",
    ]
    for b in batches:
        c, e = b.config, b.e2e
        ideal = c.ideal_runs_s(lat)
        row = (
            f"| {c.label} | {c.runs} | {e.accepted_s:.2f} | {e.seconds:.2f} | **{e.runs_s:.1f}** | "
        )
        if drain:
            row += f"{b.drain.seconds:.2f} | **{b.drain.runs_s:.1f}** | " if b.drain else "– | – | "
        if c.workload == "judge":
            calls = f"{e.calls_s:.1f}" + (f" / {b.drain.calls_s:.1f}" if b.drain else "")
            flights = _in_flight(e) + (f" / {_in_flight(b.drain)}" if b.drain else "")
            row += (
                f"{ideal:.1f} | {calls} | {ceiling1 * c.orgs:g} | {c.wanted_in_flight()} | "
                f"{flights} |"
            )
        else:
            row += "– | – | – | – | – |"
        lines.append(row)
    if drain:
        lines += ["", "Judge calls/s and max in flight: end to end / drain."]

    by_key = {b.config.key: b for b in batches}
    pairs = [
        ("det1", "det2", f"Deterministic ({DET_CASES} contains cases), 1 org", None),
        ("l1", "l2", f"Judge, concurrency {args.low_concurrency}, 1 org: under the limit", None),
        (
            "j1",
            "j2",
            f"Judge, concurrency {args.concurrency}, 1 org: the limit binds with 2 workers",
            None,
        ),
        (
            "j1o2",
            "j2o2",
            f"Judge, concurrency {args.concurrency}, runs split over 2 orgs "
            f"(each its own {JUDGE_LIMIT})",
            None,
        ),
    ]
    if "j1o2" not in by_key:  # --quick: 1 worker never reaches the limit, orgs or not
        pairs[-1] = (
            "j1",
            "j2o2",
            f"Judge, concurrency {args.concurrency}: 1 worker (1 org) "
            f"vs 2 workers with runs split over 2 orgs",
            None,
        )
    lines += [
        "",
        "| Workload | 1 worker runs/s | 2 workers runs/s | 2 / 1 "
        + ("| drain 1 worker | drain 2 workers | drain 2 / 1 " if drain else "")
        + "| ideal 2 / 1 | calls in flight wanted (1 → 2 workers) vs the limit |",
        "|---|---:|---:|---:|" + ("---:|---:|---:|" if drain else "") + "---:|---|",
    ]
    for one, two, label, _ in pairs:
        if one not in by_key or two not in by_key:
            continue
        a, b = by_key[one], by_key[two]
        ia, ib = a.config.ideal_runs_s(lat), b.config.ideal_runs_s(lat)
        row = (
            f"| {label} | {a.e2e.runs_s:.1f} | {b.e2e.runs_s:.1f} | "
            f"**{b.e2e.runs_s / a.e2e.runs_s:.2f}** | "
        )
        if drain:
            if a.drain and b.drain:
                row += (
                    f"{a.drain.runs_s:.1f} | {b.drain.runs_s:.1f} | "
                    f"**{b.drain.runs_s / a.drain.runs_s:.2f}** | "
                )
            else:
                row += "– | – | – | "
        if ia and ib:
            row += (
                f"{ib / ia:.2f} | {a.config.wanted_in_flight()} → "
                f"{b.config.wanted_in_flight()} vs {JUDGE_LIMIT} × {b.config.orgs} "
                f"org{'s' if b.config.orgs > 1 else ''} |"
            )
        else:
            row += "– | no judge calls |"
        lines.append(row)

    lines += [
        "",
        f"CPU over each end-to-end batch (first submit → all final seen by the "
        f"poll), in cores (CPU s / wall s; the machine has {info['cores']}). PostgreSQL ="
        f" this database's backends + the server's shared processes; other = the rest "
        f"of the machine (kernel, other users' work); ours per run = API, workers, fake, "
        f"PostgreSQL, Redis and the bench client together, CPU ms per run, which other "
        f"load changes little.",
        "",
        "| Configuration | machine busy | API | worker(s) | fake | PostgreSQL | Redis | "
        "bench client | other | ours, CPU ms per run |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for b in batches:
        w = b.cpu_window_s
        cpu = b.cpu
        workers = " + ".join(_cores(cpu.get(name, float("nan")), w) for name in b.worker_names)
        parts = ["api", "fake", "client", "postgres", "redis", *b.worker_names]
        ours = sum(v for v in (cpu.get(k, 0.0) for k in parts) if not math.isnan(v))
        lines.append(
            f"| {b.config.label} | **{_cores(cpu['machine'], w)}** | {_cores(cpu['api'], w)} | "
            f"{workers} | {_cores(cpu['fake'], w)} | {_cores(cpu['postgres'], w)} | "
            f"{_cores(cpu.get('redis', float('nan')), w)} | {_cores(cpu['client'], w)} | "
            f"{_cores(max(0.0, cpu['machine'] - ours), w)} | "
            f"{1000 * ours / b.config.runs:.1f} |"
        )
    breaches = [
        f"- {b.config.label}, {mode}: {org} had {value} judge calls in flight"
        for b in batches
        for mode, t in (("end to end", b.e2e), ("drain", b.drain))
        if t is not None
        for org, value in t.max_in_flight.items()
        if value > JUDGE_LIMIT
    ]
    if breaches:
        lines += [
            "",
            f"**JUDGE LIMIT EXCEEDED**: more than {JUDGE_LIMIT} calls in flight for "
            "one organisation and provider:",
            "",
            *breaches,
        ]
    return "\n".join(lines) + "\n"


def write_results(block_text: str, path: Path) -> None:
    write_between_markers(
        path,
        BEGIN_MARK,
        END_MARK,
        block_text,
        lambda block: (
            f"{SECTION_TITLE}\n\nProduced by `bench/scale_out.py` (how to run it: "
            "[bench/README.md](README.md)). The block between the `scale:` markers is "
            "rewritten by every run; the analysis below it is written by hand and dated."
            "\n\n### Latest run\n\n" + block + "\n"
        ),
    )


# --------------------------------------------------------------------------- main


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description="Async-run throughput with 1 and 2 launchgate worker processes "
        "(PostgreSQL + Redis), deterministic and judge suites."
    )
    parser.add_argument(
        "--quick",
        action="store_true",
        help="smaller batches, no 1-worker/2-org and no low-concurrency judge pair (< 1 min)",
    )
    parser.add_argument(
        "--det-runs", type=int, default=None, help="runs per deterministic batch (500; --quick 100)"
    )
    parser.add_argument(
        "--judge-runs", type=int, default=None, help="runs per judge batch (120; --quick 60)"
    )
    parser.add_argument(
        "--det-concurrency",
        type=int,
        default=10,
        help="worker --concurrency for the deterministic suite (10)",
    )
    parser.add_argument(
        "--concurrency",
        type=int,
        default=6,
        help="worker --concurrency for the judge suite; with 3 judge cases "
        "per run, 6 keeps 1 worker under the limit of 20 and takes 2 "
        "over it (6)",
    )
    parser.add_argument(
        "--low-concurrency",
        type=int,
        default=3,
        help="worker --concurrency of the under-the-limit judge pair (3)",
    )
    parser.add_argument(
        "--latency-ms",
        type=float,
        default=200.0,
        help="the fake provider's latency on every answer (200)",
    )
    parser.add_argument(
        "--postgres-url",
        default=DEFAULT_PG_URL,
        help=f"server to create the throwaway database on ({DEFAULT_PG_URL})",
    )
    parser.add_argument(
        "--redis-url",
        default=DEFAULT_REDIS_URL,
        help=f"Redis with a database index of the bench's own, emptied before "
        f"and after ({DEFAULT_REDIS_URL})",
    )
    parser.add_argument(
        "--no-drain",
        action="store_true",
        help="skip the drain measurement (runs queued while the workers are "
        "paused, then timed from resume)",
    )
    parser.add_argument(
        "--output",
        type=Path,
        default=RESULTS,
        help="Markdown file to update (default bench/RESULTS.md)",
    )
    parser.add_argument("--no-write", action="store_true", help="do not touch the results file")
    parser.add_argument(
        "--keep-data",
        action="store_true",
        help="keep the fleet's logs (the database is dropped regardless)",
    )
    args = parser.parse_args(argv)
    if args.det_runs is None:
        args.det_runs = 100 if args.quick else 500
    if args.judge_runs is None:
        args.judge_runs = 60 if args.quick else 120
    if (
        min(
            args.det_runs,
            args.judge_runs,
            args.det_concurrency,
            args.concurrency,
            args.low_concurrency,
        )
        < 1
        or args.latency_ms <= 0
    ):
        parser.error("run counts, concurrencies and --latency-ms must be positive")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    from launchgate.testing.fake_provider import key_fingerprint
    from launchgate.testing.fake_provider.runner import FakeProviderProcess
    from launchgate.testing.fleet import QUIET_LIMITS, Fleet, setup_judged_suite

    started = dt.datetime.now(dt.UTC)
    load_start = loadavg()
    signal.signal(signal.SIGTERM, _raise_interrupt)
    signal.signal(signal.SIGINT, signal.default_int_handler)  # even if started with it ignored
    work = Path(tempfile.mkdtemp(prefix="launchgate-scale-bench-"))
    info = fleet_machine_info(args.postgres_url, args.redis_url)
    batches: list[Batch] = []
    t0 = time.monotonic()
    try:
        with contextlib.ExitStack() as stack:
            database_url, database = stack.enter_context(throwaway_database(args.postgres_url))
            redis_pid = stack.enter_context(emptied_redis(args.redis_url))
            print(f"Database {database}, Redis {args.redis_url} (emptied)", flush=True)
            fake = FakeProviderProcess(
                extra_args=["--log-level", "warning", "--latency-ms", str(args.latency_ms)]
            )
            stack.callback(fake.stop)
            fake.start()
            fake.configure(latency_ms=args.latency_ms)
            fleet = Fleet(
                work / "fleet",
                database_url,
                args.redis_url,
                settings={
                    **QUIET_LIMITS,
                    "LAUNCHGATE_OPENAI_BASE_URL": fake.openai_base_url,
                    "LAUNCHGATE_ALLOW_PRIVATE_PROVIDER_URLS": "true",
                    "LAUNCHGATE_JUDGE_CONCURRENCY": str(JUDGE_LIMIT),
                },
            )
            stack.callback(fleet.stop)
            fleet.migrate()
            orgs = []
            for name in ("org-a", "org-b"):
                provider_key = f"sk-test-{name}-" + uuid.uuid4().hex
                orgs.append(
                    Org(name, fleet.create_org(name), provider_key, key_fingerprint(provider_key))
                )
            url = fleet.start_api("api")
            print(
                f"API on {url}, fake provider on {fake.base_url} ({args.latency_ms:g} ms); "
                f"setup took {time.monotonic() - t0:.1f} s",
                flush=True,
            )
            a = orgs[0]
            a.suites["det"] = str(
                setup_judged_suite(
                    url,
                    a.api_key,
                    provider_key=a.provider_key,
                    slug="det",
                    judge_cases=0,
                    exact_cases=DET_CASES,
                )["id"]
            )
            for org in orgs:
                org.suites["judge"] = str(
                    setup_judged_suite(
                        url,
                        org.api_key,
                        provider_key=org.provider_key,
                        slug="judge",
                        judge_cases=JUDGE_CASES,
                        exact_cases=0,
                    )["id"]
                )
            watch = CpuWatch(
                groups={"api": fleet.processes["api"].pid},
                pids={
                    "fake": fake.process.pid if fake.process else -1,
                    "client": os.getpid(),
                    "redis": redis_pid or -1,
                },
                pg_database=database if is_local(args.postgres_url) else None,
            )
            bench = Bench(args, fleet, fake, url, orgs, watch)
            stack.callback(bench.client.close)
            stack.callback(bench.resume_workers)  # a paused worker would not stop on SIGTERM
            for concurrency, configs in plan(args):
                print(f"Stage: worker --concurrency {concurrency}", flush=True)
                for config in configs:
                    while len(bench.workers) < config.workers:
                        bench.start_worker(concurrency)
                    batches.append(bench.measure(config))
                bench.stop_workers()
            load_end = loadavg()
    except (BenchError, RuntimeError, OSError, httpx.HTTPError) as exc:
        print(f"\nBench failed: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("\nInterrupted; processes stopped.", file=sys.stderr)
        return 130
    finally:
        if args.keep_data:
            print(f"Fleet logs kept in {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)
    print(f"Total time {time.monotonic() - t0:.0f} s", flush=True)

    table = render(batches, args, info, started, load_start, load_end)
    print("\n" + table)
    if not args.no_write:
        write_results(table, args.output)
        print(f"Written to {args.output}")
    if any(v > JUDGE_LIMIT for b in batches for t in b.timings() for v in t.max_in_flight.values()):
        print(
            f"FAILED: more than {JUDGE_LIMIT} judge calls in flight for one key (see the table).",
            file=sys.stderr,
        )
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
