"""Soak: mixed traffic against a scaled-out LaunchGate for 30 minutes (``--smoke``: 2), with
a worker SIGKILLed and restarted every few minutes, reporting whether anything answered
5xx, lost a run or left one stuck.

One command, from the repository root, with PostgreSQL on 127.0.0.1:5432 (trust auth):

    .venv/bin/python bench/soak.py             # 30 minutes of traffic, + setup and grace
    .venv/bin/python bench/soak.py --smoke     # 2 minutes, a worker killed every 40 s
    .venv/bin/python bench/soak.py --minutes 10 --kill-every-s 120

What it does:

1. Creates a throwaway PostgreSQL database (``--postgres-url``, dropped at the end) and
   starts a ``redis-server`` of its own on a free port of 127.0.0.1 that keeps nothing on
   disk (``--redis-url`` uses an existing Redis database index instead, ``FLUSHDB`` before
   and after), the fake provider (its own process; every judge call answered after
   ``--latency-ms``, and of the chat calls every 10th a 429 ``retry-after: 1`` and every
   20th a 500), and a tiny static HTTP server on 127.0.0.1 serving one JSON document (the
   target of the remote-``$ref`` probes).
2. With ``launchgate.testing.fleet.Fleet``: ``db upgrade``, two organisations (plan
   enterprise, each its own OpenAI BYOK key), ``--apis`` (2) ``launchgate serve`` processes
   and two ``launchgate worker --concurrency C`` processes. Request limits are off (the
   traffic comes from one IP); ``LAUNCHGATE_RUN_LEASE_S`` is ``--lease-s`` (60, the
   default; 20 with ``--smoke`` so that a killed worker's runs come back within the short
   run). Every API and worker process gets an address-space limit (``--memory-cap-mb``,
   4096; ``RLIMIT_AS``): a memory bomb then fails inside that process instead of taking the
   shared machine down, and the soak reports what the process answered or that it died.
   Each organisation gets a deterministic suite ``det`` (contains ×2, regex, json_schema)
   and a judge suite ``judge`` (2 ``llm_judge`` cases and a contains case).
3. Runs ``--clients`` (12) client threads for the duration, each a bounded loop that stops
   by itself at the deadline, with a random think time (mean ``--think-ms``, 250) between
   actions, spread over the API processes: deterministic runs sync and async, judge runs
   sync and async, reads (a run, a suite's run list, projects, BYOK keys, /health) and
   BYOK key operations (create, test, list, delete). One more client sends the bad
   requests of issue 11, one family after the other every ``--bad-every-s`` (2 s): regex
   memory bombs, ``json_schema`` pattern bombs, ``$ref`` to file:// and to
   http://127.0.0.1, oversized bodies with and without credentials, ``cache_ttl_s:
   10**12``, a BYOK key with non-ASCII characters, names with NUL and control characters,
   malformed JSON, invalid UTF-8 and deeply nested JSON. When the server accepts one that it
   should have refused, the client goes on as a user would (runs the scorer once, tests the
   key) so that the consequence shows up in the report, then cleans up what it can.
4. Meanwhile the main thread SIGKILLs the second worker (its process group) every
   ``--kill-every-s`` (300; ``--smoke`` 40) and starts it again at once, samples the
   resident memory (RSS) of every API and worker process every 5 s, refills the fake's
   error schedule, and restarts (and reports) any API or worker process that died by
   itself.
5. After the deadline: waits for the clients' in-flight requests, then for up to a grace
   period (2 × lease + 2 × sweep interval + 30 s) for every run in the database to reach a
   final status, and checks in PostgreSQL that every run id any answer named exists
   (**lost**: must be 0) and that no run is still ``pending`` or ``running`` (**stuck**:
   must be 0).
6. Prints a Markdown report (requests by endpoint family and status; p50/p99 latency of
   run requests per tenth of the run; RSS at start, middle, end and peak; runs lost, stuck
   and by final status; worker kills and restarts; bad requests and what they got; every
   failure) and writes it into bench/RESULTS.md between the ``soak:begin``/``soak:end``
   markers (``soak-smoke:begin``/``soak-smoke:end`` for ``--smoke``), keeping the
   hand-written text outside them.

All traffic goes to 127.0.0.1. Everything it starts is stopped at the end, on an error and
on Ctrl-C / SIGTERM. Exit 1 when any answer was a 5xx, any request got no answer, any run
was lost or stuck, or an API or worker process died by itself (the report is still
written); exit 2 when the soak could not run (the setup failed, or a process could not be
started again).
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import functools
import http.server
import itertools
import json
import math
import os
import random
import re
import resource
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter, defaultdict, deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import httpx

# The sibling benchmarks' helpers (python puts this script's directory on sys.path).
from run_latency import (
    BenchError,
    _raise_interrupt,
    command_line,
    loadavg,
    machine_info,
    write_between_markers,
)
from scale_out import CLK_TCK, emptied_redis, machine_busy_s, server_versions, throwaway_database

if TYPE_CHECKING:
    from launchgate.testing.fake_provider.runner import FakeProviderProcess
    from launchgate.testing.fleet import Fleet

BENCH_DIR = Path(__file__).resolve().parent
RESULTS = BENCH_DIR / "RESULTS.md"
MARKS = {
    "full": (
        "<!-- soak:begin (written by bench/soak.py; edit outside the markers) -->",
        "<!-- soak:end -->",
        "## Soak (issue 11)",
    ),
    "smoke": (
        "<!-- soak-smoke:begin (written by bench/soak.py --smoke; edit outside the markers) -->",
        "<!-- soak-smoke:end -->",
        "## Soak, smoke run (issue 11)",
    ),
}

DEFAULT_PG_URL = "postgresql://postgres@127.0.0.1:5432/postgres"
FINAL = ("cleared", "aborted", "error")
RUN_ID = re.compile(r"run_[0-9a-z]{24}")
# Clears every case of both suites: contains "Paris", the regex, the schema, and the fake
# judge's from_prompt policy reads FAKE_SCORE from the prompt, which quotes the output.
OUTPUT = json.dumps({"answer": "Paris", "note": "FAKE_SCORE=0.9"})
REF_MARKER = "soak-ref-document-marker"
SAMPLE_EVERY_S = 5.0
TIMEOUT_S = 30.0  # every request but the long waits below
BUCKETS = 10  # latency table: one row per tenth of the run
RUN_FAMILIES = ("run det sync", "run judge sync", "run det async", "run judge async")
SYNC_WAIT_S = 600.0  # LAUNCHGATE_SYNC_RUN_TIMEOUT_S's default: a sync judge run may wait this


# --------------------------------------------------------------------------- arguments


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description="Mixed traffic against a scaled-out LaunchGate with a worker killed "
        "every few minutes: 5xx, lost runs, stuck runs, memory."
    )
    parser.add_argument(
        "--smoke", action="store_true", help="2 minutes, a worker killed every 40 s, run lease 20 s"
    )
    parser.add_argument(
        "--minutes", type=float, default=None, help="minutes of traffic (30; --smoke 2)"
    )
    parser.add_argument(
        "--kill-every-s",
        type=float,
        default=None,
        help="SIGKILL and restart the second worker this often (300; --smoke 40)",
    )
    parser.add_argument(
        "--lease-s",
        type=float,
        default=None,
        help="LAUNCHGATE_RUN_LEASE_S of the fleet (60, the default; --smoke 20)",
    )
    parser.add_argument(
        "--clients",
        type=int,
        default=12,
        help="client threads of mixed traffic (12), plus one for bad requests",
    )
    parser.add_argument(
        "--think-ms",
        type=float,
        default=250.0,
        help="mean pause of a client between two actions (250)",
    )
    parser.add_argument(
        "--bad-every-s",
        type=float,
        default=2.0,
        help="pause of the bad-request client between two families (2)",
    )
    parser.add_argument(
        "--apis", type=int, default=2, choices=(1, 2), help="launchgate serve processes (2)"
    )
    parser.add_argument(
        "--worker-concurrency",
        type=int,
        default=8,
        help="--concurrency of each of the two workers (8)",
    )
    parser.add_argument(
        "--latency-ms",
        type=float,
        default=200.0,
        help="the fake provider's latency on every answer (200)",
    )
    parser.add_argument(
        "--big-body-mb",
        type=float,
        default=16.0,
        help="size of the oversized request bodies in MiB (16)",
    )
    parser.add_argument(
        "--memory-cap-mb",
        type=int,
        default=4096,
        help="RLIMIT_AS of every API and worker process, in MiB (4096; 0: none)",
    )
    parser.add_argument("--seed", type=int, default=11, help="random seed of the clients (11)")
    parser.add_argument(
        "--postgres-url",
        default=DEFAULT_PG_URL,
        help=f"server to create the throwaway database on ({DEFAULT_PG_URL})",
    )
    parser.add_argument(
        "--redis-url",
        default=None,
        help="use this Redis database index (emptied before and after) instead "
        "of a redis-server of the soak's own",
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
    if args.minutes is None:
        args.minutes = 2.0 if args.smoke else 30.0
    if args.kill_every_s is None:
        args.kill_every_s = 40.0 if args.smoke else 300.0
    if args.lease_s is None:
        args.lease_s = 20.0 if args.smoke else 60.0
    if (
        min(
            args.minutes,
            args.kill_every_s,
            args.lease_s,
            args.latency_ms,
            args.big_body_mb,
            args.bad_every_s,
        )
        <= 0
        or args.think_ms < 0
        or args.memory_cap_mb < 0
    ):
        parser.error("durations, intervals, sizes and latencies must be positive")
    if not 1 <= args.clients <= 64 or not 1 <= args.worker_concurrency <= 100:
        parser.error("--clients must be 1-64 and --worker-concurrency 1-100")
    args.duration_s = args.minutes * 60
    args.grace_s = 2 * args.lease_s + 2 * 10.0 + 30.0  # lease, reclaim, sweep interval
    args.kind = "smoke" if args.smoke else "full"
    return args


# --------------------------------------------------------------------------- recording


@dataclass
class Sample:
    at: float  # seconds from the start of the traffic to the request's start
    family: str
    status: str  # "200", or "no answer (ReadTimeout)"
    seconds: float


@dataclass
class Failure:
    """One reason to fail: a 5xx, a request without an answer, a process that died."""

    at: float
    family: str
    status: str
    detail: str
    request_id: str = ""
    error_type: str = ""  # from the server's log line for request_id

    def line(self) -> str:
        cause = f" [server log: error_type={self.error_type}]" if self.error_type else ""
        return f"t={self.at:7.1f} s  {self.family}: {self.status} {self.detail}{cause}"


@dataclass
class Recorder:
    """Everything the clients saw, shared by the client threads (one lock)."""

    t0: float
    samples: list[Sample] = field(default_factory=list)
    run_ids: set[str] = field(default_factory=set)
    recent: dict[str, deque[str]] = field(
        default_factory=lambda: defaultdict(lambda: deque(maxlen=200))
    )
    failures: list[Failure] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def record(
        self,
        family: str,
        started: float,
        answer: httpx.Response | None,
        error: Exception | None = None,
        org: str | None = None,
    ) -> None:
        seconds = time.monotonic() - started
        at = started - self.t0
        failure = None
        if answer is None:
            status = f"no answer ({type(error).__name__})"
            failure = Failure(at, family, status, f"after {seconds:.1f} s: {error}"[:300])
        else:
            status = str(answer.status_code)
            if answer.status_code >= 500:
                failure = Failure(at, family, status, *_error_summary(answer))
        ids = (
            set(RUN_ID.findall(answer.text))
            if answer is not None and family.startswith(("run", "bad"))
            else set()
        )
        with self.lock:
            self.samples.append(Sample(at, family, status, seconds))
            self.run_ids |= ids
            if org:
                self.recent[org].extend(ids)
            if failure:
                self.failures.append(failure)

    def note(self, text: str) -> None:
        with self.lock:
            self.notes.append(f"t={time.monotonic() - self.t0:7.1f} s  {text}")

    def failure(self, family: str, detail: str) -> None:
        with self.lock:
            self.failures.append(Failure(time.monotonic() - self.t0, family, "died", detail))

    def recent_run(self, org: str, rng: random.Random) -> str | None:
        with self.lock:
            runs = self.recent.get(org)
            return rng.choice(runs) if runs else None

    def explain(self, logs: list[Path]) -> None:
        """Fill each 5xx's ``error_type`` from the fleet's logs (``unhandled error
        error_type=… request_id=…``), so the report names the exception without a trace."""
        wanted = {f.request_id: f for f in self.failures if f.request_id}
        if not wanted:
            return
        pattern = re.compile(r"error_type=(\S+).*?request_id=([0-9a-f]{32})")
        for log in logs:
            with contextlib.suppress(OSError):
                for match in pattern.finditer(log.read_text(errors="replace")):
                    if match.group(2) in wanted:
                        wanted[match.group(2)].error_type = match.group(1)


def _error_summary(answer: httpx.Response) -> tuple[str, str]:
    """The envelope's code and message, and the request id: never the whole body."""
    try:
        error = answer.json()["error"]
        details = error.get("details") or {}
        request_id = details.get("request_id", "") if isinstance(details, dict) else ""
        return f"{error.get('code')} {str(error.get('message'))[:200]!r}", str(request_id)
    except (ValueError, KeyError, TypeError, AttributeError):
        return repr(answer.text[:200]), ""


# --------------------------------------------------------------------------- processes


def rss_mb(pid: int) -> float | None:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        return None
    return None


def cpu_s(pid: int) -> float | None:
    """User + system CPU seconds of one process, from /proc/<pid>/stat."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return None
    return (int(fields[11]) + int(fields[12])) / CLK_TCK


@dataclass
class Memory:
    """RSS of each process at start, middle, end, and the peak of the 5 s samples; and the
    CPU each process name used from the start of the traffic until ``freeze`` (summed over
    the instances of a restarted worker: each pid's last sample)."""

    points: dict[str, dict[str, float | None]] = field(default_factory=lambda: defaultdict(dict))
    peak: dict[str, float] = field(default_factory=dict)
    cpu_base: dict[int, float] = field(default_factory=dict)
    cpu_last: dict[str, dict[int, float]] = field(default_factory=lambda: defaultdict(dict))
    machine: list[float] = field(default_factory=list)  # busy CPU s: start, freeze
    frozen: bool = False

    def sample(self, pids: dict[str, int], point: str | None = None) -> None:
        for name, pid in pids.items():
            value = rss_mb(pid)
            if value is not None:
                self.peak[name] = max(self.peak.get(name, 0.0), value)
            if point:
                self.points[name][point] = value
            cpu = None if self.frozen else cpu_s(pid)
            if cpu is not None:
                if point == "start":
                    self.cpu_base[pid] = cpu
                self.cpu_last[name][pid] = cpu
        if point == "start":
            self.machine = [machine_busy_s()]

    def freeze(self, pids: dict[str, int]) -> None:
        self.sample(pids)
        self.machine.append(machine_busy_s())
        self.frozen = True

    def cpu(self, name: str) -> float:
        return sum(v - self.cpu_base.get(pid, 0.0) for pid, v in self.cpu_last[name].items())


@contextlib.contextmanager
def own_redis(directory: Path) -> Iterator[tuple[str, int]]:
    """(URL, pid) of a redis-server of the soak's own on a free port, nothing on disk."""
    from launchgate.testing.fake_provider.runner import free_port

    if shutil.which("redis-server") is None:
        raise BenchError("redis-server is not installed (or pass --redis-url)")
    import redis

    port = free_port()
    process = subprocess.Popen(
        [
            "redis-server",
            "--port",
            str(port),
            "--bind",
            "127.0.0.1",
            "--save",
            "",
            "--appendonly",
            "no",
            "--dir",
            str(directory),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 10
        while True:
            try:
                redis.Redis(port=port, socket_connect_timeout=0.5).ping()
                break
            except redis.RedisError:
                if time.monotonic() > deadline or process.poll() is not None:
                    raise BenchError("redis-server did not start") from None
                time.sleep(0.05)
        yield f"redis://127.0.0.1:{port}/0", process.pid
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@contextlib.contextmanager
def static_server(directory: Path) -> Iterator[tuple[str, list[int]]]:
    """An HTTP server on 127.0.0.1 serving ``directory``: the remote ``$ref`` target. Yields
    its base URL and a one-element list counting the GETs it answered (a fetch at run time
    is the SSRF of issue 11)."""
    hits = [0]

    class Handler(http.server.SimpleHTTPRequestHandler):
        def do_GET(self) -> None:
            hits[0] += 1
            super().do_GET()

        def log_message(self, format: str, *args: Any) -> None:
            pass

    handler = functools.partial(Handler, directory=str(directory))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, name="ref-server", daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", hits
    finally:
        server.shutdown()
        server.server_close()


def error_schedule(rounds: int) -> list[dict[str, Any]]:
    """Of the next 20 × ``rounds`` chat calls, every 10th a 429 and every 20th a 500. The
    fake has no "answer normally" kind; a ``timeout`` of 0 s is one."""
    entries: list[dict[str, Any]] = []
    for _ in range(rounds):
        entries += [
            {"kind": "timeout", "seconds": 0, "count": 9, "endpoint": "chat"},
            {"kind": "rate_limit", "retry_after": 1, "endpoint": "chat"},
            {"kind": "timeout", "seconds": 0, "count": 9, "endpoint": "chat"},
            {"kind": "server_error", "endpoint": "chat"},
        ]
    return entries


@contextlib.contextmanager
def stderr_to(path: Path) -> Iterator[None]:
    """File descriptor 2 goes to ``path`` while a child process is started, so the child's
    stderr lands there for good; ours is restored afterwards."""
    sys.stderr.flush()
    saved = os.dup(2)
    with path.open("ab") as log:
        os.dup2(log.fileno(), 2)
    try:
        yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)


def git_commit() -> str:
    """The commit the fleet runs (``-dirty`` when the working tree has changes): fixes land
    while soaks are compared."""
    done = subprocess.run(
        ["git", "describe", "--always", "--dirty"],
        cwd=BENCH_DIR,
        capture_output=True,
        text=True,
        check=False,
    )
    return done.stdout.strip() or "unknown"


def cap_memory(pid: int, megabytes: int) -> None:
    if megabytes:
        limit = megabytes * 1024 * 1024
        resource.prlimit(pid, resource.RLIMIT_AS, (limit, limit))


# --------------------------------------------------------------------------- setup


@dataclass
class Org:
    name: str
    api_key: str
    provider_key: str
    suites: dict[str, str] = field(default_factory=dict)  # slug → id


def setup_org(url: str, org: Org) -> None:
    """``setup_judged_suite`` (project ``fleet``, the org's default OpenAI key, a judge and a
    contains scorer) twice, then a regex and a json_schema case on the deterministic suite."""
    from launchgate.testing.fleet import setup_judged_suite

    det = setup_judged_suite(
        url, org.api_key, provider_key=org.provider_key, slug="det", judge_cases=0, exact_cases=2
    )
    judge = setup_judged_suite(
        url, org.api_key, provider_key=org.provider_key, slug="judge", judge_cases=2, exact_cases=1
    )
    org.suites = {"det": str(det["id"]), "judge": str(judge["id"])}
    with httpx.Client(
        base_url=url + "/v1", timeout=TIMEOUT_S, headers={"Authorization": f"Bearer {org.api_key}"}
    ) as client:
        for name, kind, config in (
            ("answer regex", "regex", {"pattern": r'"answer":\s*"Paris"'}),
            (
                "answer schema",
                "json_schema",
                {
                    "schema": {
                        "type": "object",
                        "required": ["answer"],
                        "properties": {"answer": {"type": "string", "pattern": "^[A-Z][a-z]+$"}},
                    }
                },
            ),
        ):
            scorer = _created(
                client.post(
                    "/projects/fleet/scorers", json={"name": name, "type": kind, "config": config}
                )
            )
            _created(
                client.post(
                    f"/suites/{det['id']}/cases", json={"name": name, "scorer_id": scorer["id"]}
                )
            )
        answer = client.post("/run", json={"suite": "det", "output": OUTPUT})
        if answer.status_code != 200 or answer.json().get("status") != "cleared":
            raise BenchError(
                f"the det suite does not clear: {answer.status_code} {answer.text[:500]}"
            )


def _created(answer: httpx.Response) -> dict[str, Any]:
    if answer.status_code != 201:
        raise BenchError(
            f"{answer.request.method} {answer.request.url.path}: "
            f"{answer.status_code} {answer.text[:500]}"
        )
    data: dict[str, Any] = answer.json()["data"]
    return data


# --------------------------------------------------------------------------- traffic


class Traffic:
    """The client threads. Each action is a few requests; every request is recorded under
    an endpoint family with its status and its time."""

    def __init__(
        self,
        args: argparse.Namespace,
        urls: list[str],
        orgs: list[Org],
        recorder: Recorder,
        ref_url: str,
        ref_file: Path,
    ) -> None:
        self.args = args
        self.urls = urls  # replaced in place when an API process is restarted
        self.orgs = orgs
        self.rec = recorder
        self.ref_url = ref_url
        self.ref_file = ref_file
        self.stop = threading.Event()
        self.big = b'{"suite": "det", "output": "' + b"a" * int(args.big_body_mb * 2**20) + b'"}'
        self.serial = 0
        self.serial_lock = threading.Lock()

    def unique(self, prefix: str) -> str:
        with self.serial_lock:
            self.serial += 1
            return f"{prefix}-{self.serial}"

    # -- plumbing -----------------------------------------------------------------------

    def send(
        self,
        client: httpx.Client,
        family: str,
        method: str,
        path: str,
        *,
        org: Org | None,
        timeout: float = TIMEOUT_S,
        **kwargs: Any,
    ) -> httpx.Response | None:
        url = self.urls[random.randrange(len(self.urls))] + path
        headers = dict(kwargs.pop("headers", {}))
        if org is not None:
            headers["Authorization"] = f"Bearer {org.api_key}"
        started = time.monotonic()
        try:
            answer = client.request(method, url, headers=headers, timeout=timeout, **kwargs)
        except httpx.HTTPError as exc:
            self.rec.record(family, started, None, exc)
            return None
        self.rec.record(family, started, answer, org=org.name if org else None)
        return answer

    def pause(self, rng: random.Random, mean_s: float) -> None:
        self.stop.wait(rng.uniform(0, 2 * mean_s))

    # -- the mixed clients --------------------------------------------------------------

    def mixed(self, index: int) -> None:
        rng = random.Random(self.args.seed * 1000 + index)
        org = self.orgs[index % len(self.orgs)]
        actions: list[tuple[Callable[[httpx.Client, Org, random.Random], None], int]] = [
            (functools.partial(self.run, suite="det", sync=True), 30),
            (functools.partial(self.run, suite="det", sync=False), 12),
            (functools.partial(self.run, suite="judge", sync=True), 8),
            (functools.partial(self.run, suite="judge", sync=False), 12),
            (self.read, 30),
            (self.byok, 4),
        ]
        functions, weights = zip(*actions, strict=True)
        with httpx.Client() as client:
            while not self.stop.is_set():
                rng.choices(functions, weights)[0](client, org, rng)
                self.pause(rng, self.args.think_ms / 1000)

    def run(
        self, client: httpx.Client, org: Org, rng: random.Random, *, suite: str, sync: bool
    ) -> None:
        family = f"run {suite} {'sync' if sync else 'async'}"
        timeout = SYNC_WAIT_S + 60 if sync and suite == "judge" else TIMEOUT_S
        self.send(
            client,
            family,
            "POST",
            "/v1/run",
            org=org,
            timeout=timeout,
            json={
                "suite": suite,
                "output": OUTPUT,
                "async": not sync,
                "trigger": "api",
                "trigger_meta": {"soak": True},
            },
        )

    def read(self, client: httpx.Client, org: Org, rng: random.Random) -> None:
        choice = rng.random()
        run_id = self.rec.recent_run(org.name, rng)
        if choice < 0.5 and run_id:
            self.send(client, "read run", "GET", f"/v1/runs/{run_id}", org=org)
        elif choice < 0.75:
            suite = org.suites[rng.choice(("det", "judge"))]
            self.send(
                client,
                "read run list",
                "GET",
                f"/v1/suites/{suite}/runs",
                org=org,
                params={"pageSize": 20},
            )
        elif choice < 0.85:
            self.send(client, "read other", "GET", "/v1/projects", org=org)
        elif choice < 0.95:
            self.send(client, "read other", "GET", "/v1/byok-keys", org=org)
        else:
            self.send(client, "health", "GET", "/health", org=None)

    def byok(self, client: httpx.Client, org: Org, rng: random.Random) -> None:
        key = "sk-test-soak-" + uuid.uuid4().hex
        answer = self.send(
            client,
            "byok create",
            "POST",
            "/v1/byok-keys",
            org=org,
            json={"provider": "openai", "name": self.unique("soak key"), "key": key},
        )
        if answer is None or answer.status_code != 201:
            return
        key_id = answer.json()["data"]["id"]
        self.send(
            client,
            "byok test",
            "POST",
            f"/v1/byok-keys/{key_id}/test",
            org=org,
            timeout=SYNC_WAIT_S + 60,
        )
        self.send(
            client, "byok list", "GET", "/v1/byok-keys", org=org, params={"provider": "openai"}
        )
        self.send(client, "byok delete", "DELETE", f"/v1/byok-keys/{key_id}", org=org)

    # -- the bad-request client ---------------------------------------------------------

    def bad(self) -> None:
        rng = random.Random(self.args.seed)
        org = self.orgs[0]
        families = self.bad_families()
        with httpx.Client() as client:
            for turn in itertools.count():
                if self.stop.is_set():
                    return
                name, action = families[turn % len(families)]
                action(client, org, "bad: " + name)
                self.pause(rng, self.args.bad_every_s)

    def bad_families(self) -> list[tuple[str, Callable[[httpx.Client, Org, str], None]]]:
        nested = "(a{1000}){1000}x"
        return [
            (
                "regex a{1000000000}",
                functools.partial(
                    self.bad_scorer, kind="regex", config={"pattern": "a{1000000000}"}
                ),
            ),
            (
                "regex (a{1000}){1000}x",
                functools.partial(self.bad_scorer, kind="regex", config={"pattern": nested}),
            ),
            (
                "json_schema pattern (a{1000}){1000}x",
                functools.partial(
                    self.bad_scorer,
                    kind="json_schema",
                    config={"schema": {"type": "string", "pattern": nested}},
                ),
            ),
            (
                "json_schema patternProperties a{1000000000}",
                functools.partial(
                    self.bad_scorer,
                    kind="json_schema",
                    config={
                        "schema": {"type": "object", "patternProperties": {"a{1000000000}": {}}}
                    },
                ),
            ),
            (
                "json_schema $ref file://",
                functools.partial(
                    self.bad_scorer,
                    kind="json_schema",
                    config={"schema": {"$ref": self.ref_file.as_uri()}},
                    probe="det",
                ),
            ),
            (
                "json_schema $ref http://127.0.0.1",
                functools.partial(
                    self.bad_scorer,
                    kind="json_schema",
                    config={"schema": {"$ref": self.ref_url + "/ref.json"}},
                    probe="det",
                ),
            ),
            (
                "llm_judge cache_ttl_s 10**12",
                functools.partial(
                    self.bad_scorer,
                    kind="llm_judge",
                    config={"rubric": "Correct?", "_provider": "openai", "cache_ttl_s": 10**12},
                    probe="judge",
                ),
            ),
            (
                "oversized body, authenticated",
                functools.partial(self.raw, auth=True, body=self.big),
            ),
            (
                "oversized body, no credentials",
                functools.partial(self.raw, auth=False, body=self.big),
            ),
            (
                "malformed JSON",
                functools.partial(self.raw, auth=True, body=b'{"suite": "det", "output": '),
            ),
            (
                "invalid UTF-8",
                functools.partial(
                    self.raw, auth=True, body=b'{"suite": "det", "output": "\xff\xfe\xc3"}'
                ),
            ),
            (
                "JSON nested 100000 deep",
                functools.partial(
                    self.raw,
                    auth=True,
                    body=b'{"suite": "det", "output": "x", "trigger_meta": '
                    + b'{"a": ' * 100_000
                    + b"1"
                    + b"}" * 100_000
                    + b"}",
                ),
            ),
            ("BYOK key with non-ASCII characters", self.bad_byok_key),
            ("project name with NUL", self.bad_project_name),
            (
                "scorer name with control characters",
                functools.partial(
                    self.bad_scorer,
                    kind="contains",
                    config={"values": ["x"]},
                    name="soak\x07\x1b[31mred\x08",
                ),
            ),
        ]

    def raw(self, client: httpx.Client, org: Org, family: str, *, auth: bool, body: bytes) -> None:
        self.send(
            client,
            family,
            "POST",
            "/v1/run",
            org=org if auth else None,
            content=body,
            headers={"Content-Type": "application/json"},
        )

    def bad_scorer(
        self,
        client: httpx.Client,
        org: Org,
        family: str,
        *,
        kind: str,
        config: dict[str, Any],
        probe: str | None = None,
        name: str | None = None,
    ) -> None:
        """Create a scorer the server should refuse; when it does not, run it once the way a
        user would (a one-case suite) so the consequence is measured, then delete it."""
        answer = self.send(
            client,
            family,
            "POST",
            "/v1/projects/fleet/scorers",
            org=org,
            json={"name": self.unique(name or "soak bad"), "type": kind, "config": config},
        )
        if answer is None or answer.status_code != 201:
            return
        scorer_id = answer.json()["data"]["id"]
        if probe:
            self.probe(client, org, family, scorer_id, sync=probe == "det")
        else:
            self.send(client, family + " → delete", "DELETE", f"/v1/scorers/{scorer_id}", org=org)

    def probe(
        self, client: httpx.Client, org: Org, family: str, scorer_id: str, *, sync: bool
    ) -> None:
        """A one-case suite on the accepted scorer and one run of it. The suite is kept:
        deleting it would delete its run, which the lost/stuck check must still find."""
        slug = self.unique("probe")
        suite = self.send(
            client,
            family + " → probe setup",
            "POST",
            "/v1/projects/fleet/suites",
            org=org,
            json={"name": slug, "slug": slug},
        )
        if suite is None or suite.status_code != 201:
            return
        suite_id = suite.json()["data"]["id"]
        case = self.send(
            client,
            family + " → probe setup",
            "POST",
            f"/v1/suites/{suite_id}/cases",
            org=org,
            json={"name": "probe", "scorer_id": scorer_id},
        )
        if case is None or case.status_code != 201:
            return
        answer = self.send(
            client,
            family + " → probe run",
            "POST",
            "/v1/run",
            org=org,
            timeout=SYNC_WAIT_S + 60,
            json={"suite": slug, "output": "1", "async": not sync},
        )
        if answer is not None and REF_MARKER in answer.text:
            self.rec.note(
                f"{family}: the referenced document's content is in the run's "
                f"answer (the server read it)"
            )

    def bad_byok_key(self, client: httpx.Client, org: Org, family: str) -> None:
        answer = self.send(
            client,
            family,
            "POST",
            "/v1/byok-keys",
            org=org,
            json={
                "provider": "openai",
                "name": self.unique("soak bad key"),
                "key": "sk-test-ключ-" + uuid.uuid4().hex,
            },
        )
        if answer is None or answer.status_code != 201:
            return
        key_id = answer.json()["data"]["id"]
        self.send(
            client,
            family + " → test",
            "POST",
            f"/v1/byok-keys/{key_id}/test",
            org=org,
            timeout=SYNC_WAIT_S + 60,
        )
        self.send(client, family + " → delete", "DELETE", f"/v1/byok-keys/{key_id}", org=org)

    def bad_project_name(self, client: httpx.Client, org: Org, family: str) -> None:
        slug = self.unique("soak-nul")
        answer = self.send(
            client,
            family,
            "POST",
            "/v1/projects",
            org=org,
            json={"name": "soak\x00nul", "slug": slug},
        )
        if answer is not None and answer.status_code == 201:
            self.send(client, family + " → delete", "DELETE", f"/v1/projects/{slug}", org=org)


# --------------------------------------------------------------------------- the run


@dataclass
class Outcome:
    """What the soak found, beyond the recorder's samples."""

    kills: int = 0
    restarts: int = 0
    crashes: list[str] = field(default_factory=list)
    drain_s: float = 0.0
    grace_used_s: float = 0.0
    db_statuses: dict[str, int] = field(default_factory=dict)
    lost: list[str] = field(default_factory=list)
    stuck: list[tuple[str, str]] = field(default_factory=list)
    fake_statuses: dict[str, int] = field(default_factory=dict)
    ref_fetches: int = 0
    memory: Memory = field(default_factory=Memory)
    load_start: str = ""
    load_end: str = ""


class Soak:
    """The main thread's side: the fleet's processes, the kills, the memory samples."""

    def __init__(
        self,
        args: argparse.Namespace,
        fleet: Fleet,
        fake: FakeProviderProcess,
        extra_pids: dict[str, int],
    ) -> None:
        self.args = args
        self.fleet = fleet
        self.fake = fake
        self.extra_pids = extra_pids
        self.outcome = Outcome()
        self.api_names = [f"api-{i + 1}" for i in range(args.apis)]
        self.urls: list[str] = []

    def start_api(self, name: str) -> str:
        url = self.fleet.start_api(name)
        cap_memory(self.fleet.processes[name].pid, self.args.memory_cap_mb)
        return url

    def start_worker(self, name: str) -> None:
        self.fleet.start_worker(name, concurrency=self.args.worker_concurrency)
        cap_memory(self.fleet.processes[name].pid, self.args.memory_cap_mb)

    def start(self) -> None:
        self.urls[:] = [self.start_api(name) for name in self.api_names]
        for name in ("worker-1", "worker-2"):
            self.start_worker(name)

    def pids(self) -> dict[str, int]:
        return {**{name: p.pid for name, p in self.fleet.processes.items()}, **self.extra_pids}

    def check_alive(self, recorder: Recorder) -> None:
        """An API or worker process that exited by itself is a failure; start it again so
        the soak goes on."""
        for name, process in list(self.fleet.processes.items()):
            code = process.poll()
            if code is None:
                continue
            tail = self.fleet.log_tail(name, 600).strip().splitlines()[-3:]
            recorder.failure(name, f"exited by itself with status {code}; log: {tail!r}")
            self.outcome.crashes.append(name)
            del self.fleet.processes[name]
            if name.startswith("api"):
                self.urls[self.api_names.index(name)] = self.start_api(name)
            else:
                self.start_worker(name)

    def kill_and_restart(self, recorder: Recorder) -> None:
        self.outcome.memory.sample(self.pids())  # the CPU of the instance about to die
        self.fleet.kill("worker-2", signal.SIGKILL)
        self.outcome.kills += 1
        self.start_worker("worker-2")
        self.outcome.restarts += 1
        recorder.note(f"worker-2 SIGKILLed and restarted (kill {self.outcome.kills})")

    def refill_schedule(self) -> None:
        left = self.fake.counters().get("scheduled_remaining", {}).get("openai", 0)
        if left < 400:
            self.fake.schedule("openai", *error_schedule(50))

    def drive(self, traffic: Traffic, recorder: Recorder) -> list[threading.Thread]:
        """Run the clients until the deadline, killing and sampling from this thread."""
        args = self.args
        threads = [
            threading.Thread(target=traffic.mixed, args=(i,), name=f"client-{i}", daemon=True)
            for i in range(args.clients)
        ]
        threads.append(threading.Thread(target=traffic.bad, name="bad-client", daemon=True))
        self.outcome.memory.sample(self.pids(), "start")
        recorder.t0 = t0 = time.monotonic()
        for thread in threads:
            thread.start()
        next_kill, next_sample, middle_done = t0 + args.kill_every_s, t0, False
        every = max(10.0, args.duration_s / 30)
        next_progress = t0 + every
        while (now := time.monotonic()) < t0 + args.duration_s:
            self.check_alive(recorder)
            if now >= next_kill:
                self.kill_and_restart(recorder)
                next_kill += args.kill_every_s
            if now >= next_sample:
                self.refill_schedule()
                point = None
                if not middle_done and now >= t0 + args.duration_s / 2:
                    point, middle_done = "middle", True
                self.outcome.memory.sample(self.pids(), point)
                next_sample += SAMPLE_EVERY_S
            if now >= next_progress:
                progress(recorder, now - t0, args.duration_s)
                next_progress += every
            time.sleep(0.25)
        traffic.stop.set()
        return threads

    def drain(self, threads: list[threading.Thread], recorder: Recorder) -> None:
        """Wait for the clients' in-flight requests (each has a timeout of its own)."""
        started = time.monotonic()
        for thread in threads:
            while thread.is_alive():
                thread.join(timeout=1)
                self.check_alive(recorder)
                self.outcome.memory.sample(self.pids())
        self.outcome.drain_s = time.monotonic() - started
        self.outcome.memory.freeze(self.pids())

    def settle(self, database_url: str, recorder: Recorder) -> None:
        """Up to the grace period for every run to be final; then lost and stuck."""
        import psycopg

        started = time.monotonic()
        with psycopg.connect(database_url, autocommit=True, connect_timeout=5) as conn:
            while True:
                open_ = conn.execute(
                    "SELECT count(*) FROM runs WHERE status NOT IN ('cleared', 'aborted', 'error')"
                ).fetchone()
                if not open_ or open_[0] == 0 or time.monotonic() - started > self.args.grace_s:
                    break
                self.check_alive(recorder)
                self.outcome.memory.sample(self.pids())
                time.sleep(2)
            self.outcome.grace_used_s = time.monotonic() - started
            rows = conn.execute("SELECT id, status FROM runs").fetchall()
        statuses = {run_id: status for run_id, status in rows}
        self.outcome.db_statuses = dict(Counter(statuses.values()))
        self.outcome.lost = sorted(recorder.run_ids - statuses.keys())
        self.outcome.stuck = sorted((i, s) for i, s in statuses.items() if s not in FINAL)
        self.outcome.memory.sample(self.pids(), "end")
        openai = self.fake.counters().get("providers", {}).get("openai", {})
        self.outcome.fake_statuses = dict(openai.get("statuses", {}))


def progress(recorder: Recorder, elapsed: float, total: float) -> None:
    with recorder.lock:
        n, failures = len(recorder.samples), len(recorder.failures)
    print(f"  {elapsed:6.0f} / {total:.0f} s: {n} requests, {failures} failures", flush=True)


# --------------------------------------------------------------------------- report


def percentile(values: list[float], p: float) -> float:
    """Nearest rank: the smallest value with at least p % of the values at or below it."""
    ordered = sorted(values)
    return ordered[max(0, math.ceil(p / 100 * len(ordered)) - 1)]


def _ms(values: list[float]) -> str:
    if not values:
        return "–"
    return f"{1000 * percentile(values, 50):.0f} / {1000 * percentile(values, 99):.0f}"


def family_table(samples: list[Sample]) -> list[str]:
    by_family: dict[str, Counter[str]] = defaultdict(Counter)
    for s in samples:
        by_family[s.family][s.status] += 1
    lines = ["| Endpoint family | requests | by status | 5xx or no answer |", "|---|---:|---|---:|"]
    for family in sorted(by_family, key=lambda f: (f.startswith("bad"), f)):
        counts = by_family[family]
        bad = sum(n for status, n in counts.items() if status[:1] not in "1234")
        statuses = ", ".join(f"{status} ×{n}" for status, n in sorted(counts.items()))
        lines.append(
            f"| {family} | {sum(counts.values())} | {statuses} | {f'**{bad}**' if bad else 0} |"
        )
    return lines


def bad_table(samples: list[Sample]) -> list[str]:
    """The bad-request families: each should be refused with a 4xx."""
    by_family: dict[str, Counter[str]] = defaultdict(Counter)
    for s in samples:
        if s.family.startswith("bad: ") and "→" not in s.family:
            by_family[s.family[5:]][s.status] += 1
    lines = ["| Bad request (issue 11) | sent | answers | verdict |", "|---|---:|---|---|"]
    for family, counts in sorted(by_family.items()):
        answers = ", ".join(f"{status} ×{n}" for status, n in sorted(counts.items()))
        lines.append(f"| {family} | {sum(counts.values())} | {answers} | {bad_verdict(counts)} |")
    return lines


def bad_verdict(counts: Counter[str]) -> str:
    failed = sum(n for status, n in counts.items() if status[:1] not in "1234")
    accepted = sum(n for status, n in counts.items() if status[:1] == "2")
    if failed:
        return f"**FAIL: {failed} × 5xx or no answer**"
    if accepted:
        return f"**accepted {accepted} × (should be 4xx)**"
    return "refused (4xx)"


def latency_table(samples: list[Sample], duration_s: float) -> list[str]:
    width = duration_s / BUCKETS
    lines = [
        "| Window (s) | requests | 5xx / no answer | det sync p50 / p99 ms | judge sync "
        "p50 / p99 ms | async accept (202) p50 / p99 ms |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for b in range(BUCKETS):
        lo, hi = b * width, (b + 1) * width
        window = [s for s in samples if lo <= s.at < hi or (b == BUCKETS - 1 and s.at >= hi)]
        errors = sum(1 for s in window if s.status[:1] not in "1234")

        def secs(families: tuple[str, ...], rows: list[Sample] = window) -> list[float]:
            return [s.seconds for s in rows if s.family in families and s.status[:1] == "2"]

        lines.append(
            f"| {lo:.0f}–{hi:.0f} | {len(window)} | {f'**{errors}**' if errors else 0} | "
            f"{_ms(secs(('run det sync',)))} | {_ms(secs(('run judge sync',)))} | "
            f"{_ms(secs(('run det async', 'run judge async')))} |"
        )
    return lines


def memory_table(memory: Memory, outcome: Outcome, window_s: float) -> list[str]:
    """RSS and CPU per process; CPU over the traffic and the drain (``window_s``), in
    cores (CPU s / wall s; the machine has 2)."""
    lines = [
        "| Process | RSS start MB | middle MB | end MB | peak MB (5 s samples) | CPU, cores | "
        "note |",
        "|---|---:|---:|---:|---:|---:|---|",
    ]

    def cell(value: float | None) -> str:
        return "–" if value is None else f"{value:.0f}"

    for name in sorted(memory.points):
        point = memory.points[name]
        note = ""
        if name == "worker-2":
            note = (
                f"SIGKILLed and restarted {outcome.kills} ×: each figure is the instance "
                "running then"
            )
        if name in outcome.crashes:
            note = (note + "; " if note else "") + "**died by itself**"
        lines.append(
            f"| {name} | {cell(point.get('start'))} | {cell(point.get('middle'))} | "
            f"{cell(point.get('end'))} | {cell(memory.peak.get(name))} | "
            f"{memory.cpu(name) / window_s:.2f} | {note} |"
        )
    if len(memory.machine) == 2:
        busy = (memory.machine[1] - memory.machine[0]) / window_s
        lines.append(
            f"| whole machine (ours, PostgreSQL and anything else) | | | | | {busy:.2f} | |"
        )
    return lines


def verdict(recorder: Recorder, outcome: Outcome) -> list[str]:
    """The reasons to fail: 5xx, no answer, lost, stuck, a process that died."""
    server_errors = sum(1 for s in recorder.samples if s.status[:1] == "5")
    no_answer = sum(1 for s in recorder.samples if s.status.startswith("no answer"))
    reasons = []
    if server_errors:
        reasons.append(f"{server_errors} answers were 5xx")
    if no_answer:
        reasons.append(f"{no_answer} requests got no answer")
    if outcome.lost:
        reasons.append(f"{len(outcome.lost)} runs lost")
    if outcome.stuck:
        reasons.append(f"{len(outcome.stuck)} runs stuck non-final")
    if outcome.crashes:
        reasons.append(
            f"{len(outcome.crashes)} processes died by themselves ({', '.join(outcome.crashes)})"
        )
    return reasons


def render(
    args: argparse.Namespace,
    info: dict[str, str],
    started: dt.datetime,
    recorder: Recorder,
    outcome: Outcome,
) -> str:
    samples = recorder.samples
    reasons = verdict(recorder, outcome)
    label = "**Smoke run** (`--smoke`)" if args.smoke else "**Full run**"
    accepted = sum(1 for s in samples if s.family.startswith("run") and s.status[:1] == "2")
    fake = ", ".join(f"{k} ×{v}" for k, v in sorted(outcome.fake_statuses.items()))
    lines = [
        f"{label}: {args.minutes:g} min of traffic, worker-2 SIGKILLed and restarted every "
        f"{args.kill_every_s:g} s.  ",
        f"Command: `{command_line()}`  ",
        f"Date: {started.strftime('%Y-%m-%d %H:%M UTC')}; code at `{info['commit']}`  ",
        f"Machine: {info['cores']} cores ({info['cpu']}), {info['os']}, Python "
        f"{info['python']}; {info['servers']}  ",
        f"Stack: {info['packages']}  ",
        f"Load average at start {outcome.load_start}, at end {outcome.load_end}  ",
        f"Setup: {args.apis} × `launchgate serve` and 2 × `launchgate worker --concurrency "
        f"{args.worker_concurrency}` on a throwaway PostgreSQL database and "
        f"{'a redis-server of its own' if args.redis_url is None else 'a Redis index'}; "
        f"`LAUNCHGATE_RUN_LEASE_S={args.lease_s:g}`, request limits off, every API and worker "
        f"process capped at {args.memory_cap_mb or 'no'} MiB of address space; the fake "
        f"provider at {args.latency_ms:g} ms with every 10th chat call a 429 and every 20th a "
        f"500; {args.clients} mixed clients (mean think time {args.think_ms:g} ms) and one "
        f"bad-request client (a family every ~{args.bad_every_s:g} s).  ",
        f"After the traffic: {outcome.drain_s:.0f} s for in-flight requests, then "
        f"{outcome.grace_used_s:.0f} s (of up to {args.grace_s:.0f} s) until every run was "
        "final.",
        "",
        f"**Verdict: {'FAIL — ' + '; '.join(reasons) if reasons else 'PASS'}** "
        f"({len(samples)} requests, {accepted} runs accepted).",
        "",
        "| Runs and processes | value |",
        "|---|---:|",
        f"| run ids named by answers | {len(recorder.run_ids)} |",
        f"| runs in the database, by status | "
        f"{', '.join(f'{k} ×{v}' for k, v in sorted(outcome.db_statuses.items())) or '–'} |",
        f"| **lost** (named by an answer, not in the database) | **{len(outcome.lost)}** |",
        f"| **stuck** (pending/running after the grace period) | **{len(outcome.stuck)}** |",
        f"| worker kills (SIGKILL) / restarts | {outcome.kills} / {outcome.restarts} |",
        f"| processes that died by themselves | {len(outcome.crashes)} |",
        f"| judge calls the fake answered, by status | {fake or '–'} |",
        f"| fetches of the remote `$ref` document | {outcome.ref_fetches} |",
        "",
        *family_table(samples),
        "",
        "Latency of the requests that answered 2xx, per tenth of the run (by start time); a "
        "sync judge run includes its worker's wait, and one whose worker was killed waits "
        "for the lease.",
        "",
        *latency_table(samples, args.duration_s),
        "",
        *memory_table(outcome.memory, outcome, args.duration_s + outcome.drain_s),
        "",
        *bad_table(samples),
        "",
    ]
    if recorder.notes:
        lines += ["Notes:", "", *[f"- `{n}`" for n in recorder.notes[:40]], ""]
    lines += failure_lines(recorder.failures, outcome)
    return "\n".join(lines)


def failure_lines(failures: list[Failure], outcome: Outcome) -> list[str]:
    """The failures grouped by family, status and cause, then the first ones in full."""
    if not failures and not outcome.lost and not outcome.stuck:
        return []
    groups: dict[tuple[str, str, str], list[Failure]] = defaultdict(list)
    for f in failures:
        cause = f.error_type or f.detail.split(" ", 1)[0]
        groups[(f.family, f.status, cause)].append(f)
    lines = [
        "| Failure: family | status | cause (server log, or the error code) | count | first at s |",
        "|---|---|---|---:|---:|",
    ]
    for (family, status, cause), group in sorted(groups.items(), key=lambda g: g[1][0].at):
        lines.append(f"| {family} | {status} | {cause} | {len(group)} | {group[0].at:.1f} |")
    if outcome.lost:
        lines.append(f"| lost runs | – | {', '.join(outcome.lost[:5])} | {len(outcome.lost)} | – |")
    if outcome.stuck:
        stuck = ", ".join(f"{r} ({s})" for r, s in outcome.stuck[:5])
        lines.append(f"| stuck runs | – | {stuck} | {len(outcome.stuck)} | – |")
    shown = [f"- `{f.line()[:300].replace('`', chr(39))}`" for f in failures[:20]]
    return (
        ["", *lines, "", f"The first {len(shown)} of {len(failures)} failures:", "", *shown, ""]
        if shown
        else ["", *lines, ""]
    )


def write_results(args: argparse.Namespace, report: str) -> None:
    begin, end, title = MARKS[args.kind]
    write_between_markers(
        args.output,
        begin,
        end,
        report,
        lambda block: (
            f"{title}\n\nProduced by `bench/soak.py` (how to run it: "
            f"[bench/README.md](README.md)). The block between the markers is rewritten by every "
            f"run; the analysis below it is written by hand and dated.\n\n{block}\n"
        ),
    )


# --------------------------------------------------------------------------- main


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    from launchgate.testing.fake_provider.runner import FakeProviderProcess
    from launchgate.testing.fleet import QUIET_LIMITS, Fleet

    started = dt.datetime.now(dt.UTC)
    signal.signal(signal.SIGTERM, _raise_interrupt)
    signal.signal(signal.SIGINT, signal.default_int_handler)
    work = Path(tempfile.mkdtemp(prefix="launchgate-soak-"))
    recorder = Recorder(t0=time.monotonic())
    t0 = time.monotonic()
    try:
        with contextlib.ExitStack() as stack:
            database_url, database = stack.enter_context(throwaway_database(args.postgres_url))
            if args.redis_url is None:
                redis_url, redis_pid = stack.enter_context(own_redis(work))
            else:
                redis_url, pid = args.redis_url, stack.enter_context(emptied_redis(args.redis_url))
                redis_pid = pid or -1
            info = machine_info(
                (
                    "fastapi",
                    "uvicorn",
                    "sqlalchemy",
                    "psycopg",
                    "redis",
                    "taskiq",
                    "taskiq-redis",
                    "httpx",
                ),
                servers=server_versions(args.postgres_url, redis_url),
                commit=git_commit(),
            )
            ref_dir = work / "ref"
            ref_dir.mkdir()
            (ref_dir / "ref.json").write_text(json.dumps({"enum": [REF_MARKER]}))
            ref_url, ref_hits = stack.enter_context(static_server(ref_dir))
            fake = FakeProviderProcess(
                extra_args=["--log-level", "warning", "--latency-ms", str(args.latency_ms)]
            )
            stack.callback(fake.stop)
            with stderr_to(work / "fake.log"):  # its tracebacks of dropped calls, not ours
                fake.start()
            fake.schedule("openai", *error_schedule(50))
            fleet = Fleet(
                work / "fleet",
                database_url,
                redis_url,
                settings={
                    **QUIET_LIMITS,
                    "LAUNCHGATE_OPENAI_BASE_URL": fake.openai_base_url,
                    "LAUNCHGATE_ALLOW_PRIVATE_PROVIDER_URLS": "true",
                    "LAUNCHGATE_RUN_LEASE_S": str(args.lease_s),
                    # Random, not Fleet's fixed one: start-up refuses low-entropy secrets.
                    "LAUNCHGATE_SECRET_KEY": secrets.token_urlsafe(48),
                },
            )
            stack.callback(fleet.stop)
            fleet.migrate()
            orgs = [
                Org(name, fleet.create_org(name), f"sk-test-{name}-" + uuid.uuid4().hex)
                for name in ("soak-a", "soak-b")
            ]
            soak = Soak(
                args,
                fleet,
                fake,
                {
                    "fake": fake.process.pid if fake.process else -1,
                    "redis": redis_pid,
                    "soak (clients)": os.getpid(),
                },
            )
            soak.start()
            for org in orgs:
                setup_org(soak.urls[0], org)
            print(
                f"Database {database}, Redis {redis_url}, APIs {', '.join(soak.urls)}, "
                f"fake provider {fake.base_url}; setup took {time.monotonic() - t0:.0f} s. "
                f"Traffic for {args.duration_s:.0f} s.",
                flush=True,
            )
            soak.outcome.load_start = loadavg()
            traffic = Traffic(args, soak.urls, orgs, recorder, ref_url, ref_dir / "ref.json")
            threads = soak.drive(traffic, recorder)
            print("Traffic over; waiting for in-flight requests.", flush=True)
            soak.drain(threads, recorder)
            print(f"Waiting up to {args.grace_s:.0f} s for every run to be final.", flush=True)
            soak.settle(database_url, recorder)
            recorder.explain(sorted((work / "fleet").glob("*.log")))
            soak.outcome.ref_fetches = ref_hits[0]
            soak.outcome.load_end = loadavg()
            outcome = soak.outcome
    except (BenchError, RuntimeError, OSError, httpx.HTTPError) as exc:
        print(f"\nSoak failed to run: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("\nInterrupted; processes stopped.", file=sys.stderr)
        return 130
    finally:
        if args.keep_data:
            print(f"Fleet logs kept in {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)
    print(f"Total time {time.monotonic() - t0:.0f} s", flush=True)
    report = render(args, info, started, recorder, outcome)
    print("\n" + report)
    if not args.no_write:
        write_results(args, report)
        print(f"Written to {args.output}")
    reasons = verdict(recorder, outcome)
    if reasons:
        print("FAILED: " + "; ".join(reasons), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
