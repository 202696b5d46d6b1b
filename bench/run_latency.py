"""Latency and throughput of ``POST /v1/run`` against a bare FastAPI baseline.

One command, from the repository root:

    .venv/bin/python bench/run_latency.py            # 10 s per phase
    .venv/bin/python bench/run_latency.py --quick    # ~3 s per phase

What it does:

1. Starts a real ``launchgate serve`` subprocess on 127.0.0.1 with a fresh temporary
   ``LAUNCHGATE_DATA_DIR`` and every limit off (``LAUNCHGATE_RATE_LIMIT``,
   ``LAUNCHGATE_AUTH_RATE_LIMIT``, ``LAUNCHGATE_LOCKOUT_LIMIT``), once per backend
   (``--backend``, default both): the embedded SQLite, then PostgreSQL — a fresh database
   created on ``--postgres-url`` (default the local server on 127.0.0.1:5432), migrated
   with ``launchgate db upgrade`` and dropped afterwards.
2. Creates an organisation with ``launchgate orgs create bench --json`` (same environment),
   then, through the API, a project, five scorers and a five-case deterministic suite
   (contains ×2, regex, exact_match, json_schema), and checks one run clears.
3. Drives ``POST /v1/run`` with Debian's ``wrk`` (bench/post_run.lua sets the body and the
   Authorization header, counts non-200 answers and prints p50/p95/p99 in µs from its
   ``done`` hook): a warm-up, then latency with 1 connection / 1 thread, then throughput
   with 32 connections.
4. Does the same against bench/baseline_app.py, a bare FastAPI POST endpoint served with
   the same uvicorn settings in the same single worker process.
5. Prints a Markdown table (p50/p95/p99, runs/s, ratios to the baseline, the goals of
   issue 17 per backend) and writes
   it into bench/RESULTS.md between the ``bench:begin``/``bench:end`` markers, keeping the
   hand-written analysis around them.

The servers it started are always stopped (also on Ctrl-C). Any non-200 answer or socket
error during the load makes the command fail (exit 1); ``--strict`` also fails when a goal
is missed. ``--profile`` adds a py-spy phase after the measurements (not counted in the
numbers) and prints where the server's CPU time goes.
"""

from __future__ import annotations

import argparse
import collections
import contextlib
import datetime as dt
import json
import os
import platform
import re
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

BENCH_DIR = Path(__file__).resolve().parent
REPO = BENCH_DIR.parent
LUA_SCRIPT = BENCH_DIR / "post_run.lua"
BASELINE_APP = BENCH_DIR / "baseline_app.py"
RESULTS = BENCH_DIR / "RESULTS.md"
BEGIN_MARK = "<!-- bench:begin (written by bench/run_latency.py; edit outside the markers) -->"
END_MARK = "<!-- bench:end -->"

# Goals of issue 17, on each backend, against the baseline measured in the same run.
GOAL_P50_MS = 2.0
GOAL_P99_MS = 10.0
GOAL_THROUGHPUT_RATIO = 0.40
GOAL_CPU_MS = 1.0

BACKENDS = ("sqlite", "postgres")
BACKEND_NAMES = {"sqlite": "SQLite (embedded)", "postgres": "PostgreSQL"}
# The server the PostgreSQL backend creates its throwaway database on (as tests/pg.py).
DEFAULT_POSTGRES_URL = os.environ.get(
    "LAUNCHGATE_BENCH_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres"
)

SUITE_SLUG = "bench-suite"
PROJECT_SLUG = "bench"

# The model answer every run scores: JSON text that all five cases accept.
OUTPUT = json.dumps(
    {
        "answer": "Paris",
        "confidence": 0.92,
        "sources": [
            "https://en.wikipedia.org/wiki/Paris",
            "https://www.britannica.com/place/Paris",
        ],
        "explanation": (
            "Paris is the capital and most populous city of France. It has been the seat of the "
            "French government since the 10th century, apart from brief periods, and hosts the "
            "President's official residence, the Elysee Palace."
        ),
    }
)
RUN_BODY = {
    "suite": SUITE_SLUG,
    "output": OUTPUT,
    "input": {"question": "What is the capital of France?", "locale": "en-GB"},
    "trigger": "api",
    "trigger_meta": {"bench": True},
}
SCORERS: list[dict[str, Any]] = [
    {"name": "mentions", "type": "contains", "config": {"mode": "all"}},
    {
        "name": "no-refusal",
        "type": "contains",
        "config": {
            "values": ["I cannot", "As an AI"],
            "mode": "any",
            "should_contain": False,
            "case_sensitive": False,
        },
    },
    {
        "name": "confidence-format",
        "type": "regex",
        "config": {"pattern": r"\"confidence\"\s*:\s*0\.\d+", "flags": "i"},
    },
    {"name": "exact-answer", "type": "exact_match", "config": {}},
    {
        "name": "answer-schema",
        "type": "json_schema",
        "config": {
            "schema": {
                "type": "object",
                "required": ["answer", "confidence", "sources"],
                "properties": {
                    "answer": {"type": "string", "minLength": 1},
                    "confidence": {"type": "number", "minimum": 0, "maximum": 1},
                    "sources": {
                        "type": "array",
                        "items": {"type": "string", "pattern": "^https://"},
                        "minItems": 1,
                    },
                    "explanation": {"type": "string"},
                },
                "additionalProperties": False,
            }
        },
    },
]
CASES: list[dict[str, Any]] = [
    {"name": "names the capital", "scorer": "mentions", "expected": ["Paris", "France"]},
    {"name": "does not refuse", "scorer": "no-refusal"},
    {"name": "confidence is a fraction", "scorer": "confidence-format"},
    {"name": "exact structured answer", "scorer": "exact-answer", "expected": json.loads(OUTPUT)},
    {"name": "matches the answer schema", "scorer": "answer-schema"},
]


# --------------------------------------------------------------------------- processes


@dataclass
class Server:
    name: str
    proc: subprocess.Popen[bytes]
    url: str
    log_path: Path

    def log_tail(self, lines: int = 30) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def launchgate_command() -> list[str]:
    exe = Path(sys.executable).parent / "launchgate"
    if exe.exists():
        return [str(exe)]
    return [sys.executable, "-c", "from launchgate.cli.main import main; main()"]


def server_env(data_dir: Path, database_url: str | None = None) -> dict[str, str]:
    """The caller's environment without any LAUNCHGATE_* setting, plus the bench's; with
    ``database_url``, the server runs on that PostgreSQL database instead of the embedded
    SQLite (a shared database needs a secret key and a BYOK master key: random ones)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("LAUNCHGATE_")}
    env.update(
        {
            "LAUNCHGATE_DATA_DIR": str(data_dir),
            "LAUNCHGATE_RATE_LIMIT": "off",
            "LAUNCHGATE_AUTH_RATE_LIMIT": "off",
            "LAUNCHGATE_LOCKOUT_LIMIT": "off",
            "PYTHONUNBUFFERED": "1",
        }
    )
    if database_url:
        import secrets

        env["LAUNCHGATE_DATABASE_URL"] = database_url
        env["LAUNCHGATE_SECRET_KEY"] = secrets.token_urlsafe(48)
        env["LAUNCHGATE_BYOK_ENCRYPTION_KEY"] = secrets.token_hex(32)
    return env


@contextlib.contextmanager
def postgres_database(server_url: str) -> Iterator[str]:
    """A new, empty database on the PostgreSQL server at ``server_url``, dropped after
    (as the tests make theirs: tests/pg.py); yields its URL."""
    import uuid

    try:
        import psycopg
    except ImportError as exc:
        raise BenchError("the PostgreSQL backend needs psycopg (the dev extra)") from exc
    name = f"launchgate_bench_{uuid.uuid4().hex[:12]}"
    try:
        with psycopg.connect(server_url, autocommit=True, connect_timeout=5) as admin:
            admin.execute(f'CREATE DATABASE "{name}"')
    except psycopg.Error as exc:
        raise BenchError(
            f"cannot create a database on {server_url} ({exc}); start PostgreSQL, point "
            "--postgres-url at one, or measure SQLite only: --backend sqlite"
        ) from None
    try:
        yield f"{server_url.rpartition('/')[0]}/{name}"
    finally:
        with (
            contextlib.suppress(psycopg.Error),
            psycopg.connect(server_url, autocommit=True, connect_timeout=5) as admin,
        ):
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def migrate(env: dict[str, str]) -> None:
    """``launchgate db upgrade``: an external database is migrated by the operator."""
    argv = [*launchgate_command(), "db", "upgrade"]
    done = subprocess.run(argv, env=env, cwd=REPO, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise BenchError(f"launchgate db upgrade failed ({done.returncode}):\n{done.stderr}")


def process_cpu_s(pid: int) -> float:
    """User + system CPU seconds of a process, all its threads (Linux /proc)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return float("nan")
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def loadavg() -> str:
    with contextlib.suppress(OSError):
        return " ".join(Path("/proc/loadavg").read_text().split()[:3])
    return "n/a"


def start_server(
    name: str, argv: list[str], env: dict[str, str], port: int, log_dir: Path, pin: str | None
) -> Server:
    log_path = log_dir / f"{name}.log"
    if pin:
        argv = ["taskset", "-c", pin, *argv]
    with log_path.open("wb") as log:
        proc = subprocess.Popen(
            argv,
            env=env,
            cwd=REPO,
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )
    return Server(name, proc, f"http://127.0.0.1:{port}", log_path)


def wait_ready(server: Server, timeout_s: float = 60.0) -> None:
    import httpx

    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if server.proc.poll() is not None:
            raise BenchError(
                f"{server.name} exited with {server.proc.returncode} before it "
                f"answered:\n{server.log_tail()}"
            )
        with contextlib.suppress(httpx.HTTPError):
            httpx.get(server.url + "/health", timeout=2.0)
            return
        time.sleep(0.1)
    raise BenchError(
        f"{server.name} did not answer on {server.url} within {timeout_s:.0f} s:\n"
        f"{server.log_tail()}"
    )


def stop_server(server: Server) -> None:
    """SIGINT (uvicorn's graceful stop) to the process group we created, then SIGKILL."""
    proc = server.proc
    if proc.poll() is not None:
        return
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGINT)
    try:
        proc.wait(timeout=15)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=5)


@contextlib.contextmanager
def running(server: Server) -> Iterator[Server]:
    try:
        wait_ready(server)
        yield server
    finally:
        stop_server(server)


class BenchError(RuntimeError):
    pass


def _raise_interrupt(signum: int, _frame: Any) -> None:
    raise KeyboardInterrupt(f"signal {signum}")


# --------------------------------------------------------------------------- wrk


def ensure_wrk(install: bool) -> str:
    found = shutil.which("wrk")
    if found:
        return found
    hint = (
        "wrk is not installed. On Debian/Ubuntu: sudo apt-get update && "
        "sudo apt-get install -y wrk  (macOS: brew install wrk)"
    )
    if not install or not shutil.which("apt-get") or os.geteuid() != 0:
        raise BenchError(hint)
    print("wrk not found; installing it with apt-get ...", flush=True)

    def apt(*argv: str) -> int:
        return subprocess.call(
            ["apt-get", *argv], stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT
        )

    if apt("install", "-y", "-qq", "wrk") != 0:
        apt("update", "-qq")
        apt("install", "-y", "-qq", "wrk")
    found = shutil.which("wrk")
    if not found:
        raise BenchError(hint)
    return found


@dataclass
class Phase:
    server: str
    label: str
    connections: int
    threads: int
    duration_s: float
    result: dict[str, Any] = field(default_factory=dict)

    @property
    def problems(self) -> list[str]:
        r = self.result
        out = []
        if r["non200"]:
            out.append(
                f"{r['non200']} non-200 answers (first: {r['first_bad_status']} "
                f"{r['first_bad_body'][:200]})"
            )
        socket_errors = {
            k: r[k]
            for k in ("errors_connect", "errors_read", "errors_write", "errors_timeout")
            if r[k]
        }
        if socket_errors:
            out.append(f"socket errors {socket_errors}")
        if r["requests"] == 0:
            out.append("no request completed")
        return out


def run_wrk(
    wrk: str,
    url: str,
    body_file: Path,
    auth: str | None,
    connections: int,
    threads: int,
    duration_s: float,
    pin: str | None,
) -> dict[str, Any]:
    argv = [
        wrk,
        f"-t{threads}",
        f"-c{connections}",
        f"-d{max(1, round(duration_s))}s",
        "--timeout",
        "10s",
        "-s",
        str(LUA_SCRIPT),
        url + "/v1/run",
    ]
    if pin:
        argv = ["taskset", "-c", pin, *argv]
    env = dict(os.environ, BENCH_BODY_FILE=str(body_file), BENCH_AUTH=auth or "")
    done = subprocess.run(argv, env=env, capture_output=True, text=True, check=False)
    for line in done.stdout.splitlines():
        if line.startswith("BENCH_RESULT "):
            return dict(json.loads(line.removeprefix("BENCH_RESULT ")))
    raise BenchError(
        f"wrk printed no result (exit {done.returncode}):\n{done.stdout}\n{done.stderr}"
    )


# --------------------------------------------------------------------------- setup


def create_org(env: dict[str, str], plan: str) -> str:
    argv = [*launchgate_command(), "orgs", "create", "bench", "--json", "--plan", plan]
    done = subprocess.run(argv, env=env, cwd=REPO, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise BenchError(f"launchgate orgs create failed ({done.returncode}):\n{done.stderr}")
    return str(json.loads(done.stdout.strip().splitlines()[-1])["api_key"])


def create_suite(url: str, api_key: str) -> dict[str, Any]:
    """Project, scorers, suite and cases through the public API; returns one sample run."""
    import httpx

    with httpx.Client(
        base_url=url + "/v1", timeout=30.0, headers={"Authorization": f"Bearer {api_key}"}
    ) as client:

        def post(path: str, payload: dict[str, Any], expect: int = 201) -> dict[str, Any]:
            answer = client.post(path, json=payload)
            if answer.status_code != expect:
                raise BenchError(f"POST /v1{path} answered {answer.status_code}: {answer.text}")
            data: dict[str, Any] = answer.json()
            return data

        post("/projects", {"name": "Bench", "slug": PROJECT_SLUG})
        scorer_ids = {
            s["name"]: post(f"/projects/{PROJECT_SLUG}/scorers", s)["data"]["id"] for s in SCORERS
        }
        suite = post(
            f"/projects/{PROJECT_SLUG}/suites",
            {"name": "Bench suite", "slug": SUITE_SLUG, "pass_threshold": 1.0},
        )["data"]
        for case in CASES:
            payload = {
                "name": case["name"],
                "scorer_id": scorer_ids[case["scorer"]],
                "threshold": 1.0,
            }
            if "expected" in case:
                payload["expected"] = case["expected"]
            post(f"/suites/{suite['id']}/cases", payload)
        run = post("/run", RUN_BODY, expect=200)
    if run.get("status") != "cleared" or run.get("total_cases") != len(CASES):
        raise BenchError(
            f"the sample run did not clear all {len(CASES)} cases: {json.dumps(run)[:2000]}"
        )
    return run


# --------------------------------------------------------------------------- profile

# Where a sample of the server goes. Threads first (aiosqlite runs every SQLite call on a
# thread of its own per pooled connection), then, on the event-loop thread, the first
# bucket (in this order) with a frame that matches. SQLAlchemy runs its sync core inside a
# greenlet, whose samples show no caller: those get buckets of their own.
MAIN_BUCKETS: list[tuple[str, tuple[str, ...]]] = [
    (
        "auth: API-key lookup (SELECT api_keys)",
        (
            "_current_auth (launchgate/deps",
            "(launchgate/auth/service",
            "(launchgate/api_keys/",
            # The key's read runs in a greenlet of its own, from checkout to checkin.
            "_in_autocommit (launchgate/db",
        ),
    ),
    ("plan check (SELECT organisations [+ usage])", ("check_can_run",)),
    ("suite resolve (SELECT suites JOIN projects)", ("resolve_for_run",)),
    ("cases query (SELECT cases)", ("active_in_suite",)),
    ("scorers query (SELECT scorers)", ("scorers_by_id",)),
    ("usage upsert (INSERT .. ON CONFLICT)", ("record_run",)),
    ("scoring (engine + built-in scorers)", ("(launchgate/runs/engine", "(launchgate/scorers/")),
    ("group-commit writer (queue a run, commit a batch)", ("(launchgate/runs/writer",)),
    ("commit: flush INSERT runs + COMMIT", ("commit (launchgate/db",)),
    ("session open/close (get_session)", ("get_session (launchgate/deps",)),
    (
        "run_sync rest (Run object, snapshot)",
        ("(launchgate/runs/service", "(launchgate/runs/snapshot"),
    ),
    (
        "uvicorn HTTP protocol: send/receive (httptools)",
        ("RequestResponseCycle.send", "RequestResponseCycle.receive", "HttpToolsProtocol."),
    ),
    (
        "request body: read + JSON parse + validation",
        (
            "Request.body",
            "Request.json",
            "request_body_to_args",
            "_validate_value",
            "_read_run_request (launchgate/runs/endpoints",
        ),
    ),
    (
        "response: validation + JSON serialisation",
        (
            "serialize_response",
            "(starlette/responses",
            "jsonable_encoder",
            "_answer (launchgate/runs/endpoints",
        ),
    ),
    ("auth middleware (session, cached key)", ("_authenticate (launchgate/auth/middleware",)),
    ("lean route: the rest (session, result dict)", ("_lean_run (launchgate/runs/endpoints",)),
    (
        "FastAPI/Starlette: routing, dependencies, middleware",
        ("(fastapi/", "(starlette/", "(launchgate/auth/limits", "(launchgate/app"),
    ),
    ("uvicorn: rest of the request cycle", ("(uvicorn/",)),
]
GREENLET_ROOTS = {
    "Session.commit": "SQLAlchemy in greenlet: commit/flush (unit of work)",
    "Session.flush": "SQLAlchemy in greenlet: commit/flush (unit of work)",
}
SQLA_GREENLET = "SQLAlchemy in greenlet: execute (compile cache, cursor, ORM loading)"
# psycopg's coroutines (send a query, wait for its answer, read it), which SQLAlchemy's
# greenlet hands to the event loop: they run there with no caller frame.
PSYCOPG_ASYNC = "psycopg (async): send a query, wait for and read its answer"


def _aiosqlite_lines() -> tuple[int, int]:
    """Line numbers, in aiosqlite's worker loop, of the queue wait and of the SQLite call."""
    import inspect

    try:
        from aiosqlite import core

        lines, start = inspect.getsourcelines(core._connection_worker_thread)
    except Exception:
        return -1, -1
    wait = call = -1
    for offset, text in enumerate(lines):
        if "tx.get(" in text and wait < 0:
            wait = start + offset
        if "function()" in text and call < 0:
            call = start + offset
    return wait, call


def bucket_of(frames: list[str], aiosqlite_lines: tuple[int, int]) -> str | None:
    """The bucket of one sample; None for a thread that is waiting for work (idle)."""
    thread, stack = frames[0], frames[1:]
    leaf = stack[-1] if stack else ""
    if "_connection_worker_thread" in thread:
        if leaf.startswith("_connection_worker_thread") and leaf.endswith(
            f":{aiosqlite_lines[0]})"
        ):
            return None
        if leaf.startswith("_connection_worker_thread") and leaf.endswith(
            f":{aiosqlite_lines[1]})"
        ):
            return "aiosqlite threads: around the SQLite call"
        return "aiosqlite threads: queue hand-off, futures, wake-ups"
    if not thread.endswith("MainThread"):
        if any(
            f.startswith(
                ("Condition.wait", "_worker (concurrent", "Queue.get", "WorkerThread.run (anyio")
            )
            for f in stack[-1:]
        ):
            return None
        if "AnyIO worker thread" in thread:
            return "AnyIO threadpool: sync dependency (get_runtime)"
        if any("(launchgate/runs/writer" in f for f in stack):
            return "executor thread: group-commit writer's batch INSERT + COMMIT"
        return "executor threads: regex scorer (asyncio.to_thread)"
    if not stack:
        return "event-loop thread: C code, no Python frame (uvloop, httptools)"
    root = stack[0].split(" (")[0]
    if not stack[0].startswith("<module>"):  # a greenlet (or a callback) with no caller
        if root in GREENLET_ROOTS:
            return GREENLET_ROOTS[root]
        if "(sqlalchemy/" in stack[0] or "(aiosqlite/" in stack[0]:
            return SQLA_GREENLET
        if "(psycopg/" in stack[0]:
            return PSYCOPG_ASYNC
    for name, needles in MAIN_BUCKETS:
        if any(needle in frame for frame in stack for needle in needles):
            return name
    if leaf.startswith("Runner.run (asyncio/runners"):
        return "event loop in C (uvloop: sockets, callbacks)"
    return "event-loop thread: other"


def summarise_profile(raw_path: Path) -> tuple[list[tuple[str, int]], int, list[tuple[str, int]]]:
    """Collapsed stacks of ``py-spy record --threads --format raw`` → samples per bucket
    (idle waits left out), their total, and the busiest leaf frames."""
    buckets: collections.Counter[str] = collections.Counter()
    leaves: collections.Counter[str] = collections.Counter()
    lines = _aiosqlite_lines()
    total = 0
    for line in raw_path.read_text(errors="replace").splitlines():
        stack, _, count_text = line.rpartition(" ")
        if not stack or not count_text.isdigit():
            continue
        frames = [_short(f) for f in stack.split(";")]
        name = bucket_of(frames, lines)
        if name is None:
            continue
        count = int(count_text)
        total += count
        buckets[name] += count
        leaves[frames[-1]] += count
    return buckets.most_common(), total, leaves.most_common(15)


_SITE = re.compile(r"\((?:[^()]*?(?:site-packages|lib/python3\.\d+|src)/)")


def _short(frame: str) -> str:
    return _SITE.sub("(", frame)


def find_py_spy() -> str | None:
    beside = Path(sys.executable).parent / "py-spy"
    return str(beside) if beside.exists() else shutil.which("py-spy")


def profile_phase(
    server: Server, wrk: str, body_file: Path, auth: str, args: argparse.Namespace, out_dir: Path
) -> str | None:
    """Load the server with wrk while py-spy samples it; returns a Markdown section."""
    spy = find_py_spy()
    if spy is None:
        print("py-spy not found: .venv/bin/pip install py-spy   (profile skipped)")
        return None
    raw = out_dir / f"launchgate-c{args.connections}.collapsed.txt"
    seconds = max(3, round(args.profile_seconds))
    recorder = subprocess.Popen(
        [
            spy,
            "record",
            "--pid",
            str(server.proc.pid),
            "--duration",
            str(seconds + 1),
            "--rate",
            str(args.profile_rate),
            "--threads",
            "--gil",
            "--nonblocking",
            "--format",
            "raw",
            "--output",
            str(raw),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    time.sleep(0.5)
    cpu_before = process_cpu_s(server.proc.pid)
    result = run_wrk(
        wrk, server.url, body_file, auth, args.connections, args.threads, seconds, args.pin_client
    )
    cpu = process_cpu_s(server.proc.pid) - cpu_before
    try:
        _, spy_err = recorder.communicate(timeout=60)
    except subprocess.TimeoutExpired:
        recorder.kill()
        spy_err = "timed out"
    if not raw.exists():
        print(f"py-spy wrote no profile (it needs ptrace: root or CAP_SYS_PTRACE): {spy_err}")
        return None
    buckets, total, leaves = summarise_profile(raw)
    cpu_per_req = 1000 * cpu / result["requests"] if result["requests"] else 0.0
    lines = [
        f"Profile: py-spy {args.profile_rate} Hz on the LaunchGate server, {args.connections} "
        f"connections, {seconds} s, {result['rps']:.0f} runs/s while sampled, server CPU "
        f"{cpu_per_req:.2f} ms/run; {total} samples of a thread holding the GIL (`py-spy "
        "--gil`: time inside the database driver's C code, which runs without the GIL, is "
        "not in them).",
        "",
        "| Where the server's busy time goes | Share | ≈ CPU ms/run |",
        "|---|---:|---:|",
    ]
    for name, count in buckets:
        share = count / total if total else 0.0
        lines.append(f"| {name} | {100 * share:.1f}% | {share * cpu_per_req:.2f} |")
    lines += ["", "Busiest leaf frames (self time):", ""]
    lines += [f"- {100 * count / total:.1f}% `{frame}`" for frame, count in leaves[:12]]
    lines += ["", f"Collapsed stacks: `{raw}` (open in speedscope.app, or flamegraph.pl)."]
    section = "\n".join(lines) + "\n"
    print("\n" + section)
    return section


# --------------------------------------------------------------------------- report


def commit() -> str:
    """The commit the server ran from, and whether ``src/`` differed from it."""

    def git(*argv: str) -> str:
        done = subprocess.run(
            ["git", "-C", str(REPO), *argv], capture_output=True, text=True, timeout=30
        )
        return done.stdout.strip() if done.returncode == 0 else ""

    head = git("rev-parse", "--short", "HEAD") or "unknown"
    return head + (
        " with uncommitted changes in src/" if git("status", "--porcelain", "--", "src") else ""
    )


def machine_info(packages: tuple[str, ...], **extra: str) -> dict[str, str]:
    """The machine and the versions of ``packages``, for the header of every bench report
    (this script's and the others', which import it)."""
    from importlib.metadata import PackageNotFoundError, version

    model = ""
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    versions = {}
    for package in packages:
        try:
            versions[package] = version(package)
        except PackageNotFoundError:
            versions[package] = "not installed"
    return {
        "cores": str(cores),
        "cpu": model or platform.processor() or "unknown",
        "os": platform.platform(),
        "python": platform.python_version(),
        "packages": ", ".join(f"{k} {v}" for k, v in versions.items()),
        **extra,
    }


def machine() -> dict[str, str]:
    wrk_version = ""
    with contextlib.suppress(Exception):
        wrk_version = (
            subprocess.run(["wrk", "-v"], capture_output=True, text=True, check=False)
            .stdout.split("Copyright")[0]
            .strip()
        )
    return machine_info(
        (
            "fastapi",
            "starlette",
            "uvicorn",
            "pydantic",
            "sqlalchemy",
            "aiosqlite",
            "uvloop",
            "httptools",
        ),
        wrk=wrk_version,
    )


def command_line() -> str:
    python = Path(sys.executable)
    with contextlib.suppress(ValueError):
        python = python.relative_to(Path.cwd())
    script = Path(sys.argv[0])
    with contextlib.suppress(ValueError):
        script = script.resolve().relative_to(Path.cwd())
    return shlex.join([str(python), str(script), *sys.argv[1:]])


def ms(us: float) -> str:
    return f"{us / 1000:.2f}"


def server_label(name: str) -> str:
    if name == "baseline":
        return "Baseline (bare FastAPI POST)"
    return f"LaunchGate `POST /v1/run`, {BACKEND_NAMES[name.removeprefix('launchgate-')]}"


def render(
    phases: dict[tuple[str, str], Phase],
    args: argparse.Namespace,
    info: dict[str, str],
    started: dt.datetime,
) -> tuple[str, bool]:
    base_lat, base_tp = phases[("baseline", "latency")], phases[("baseline", "throughput")]
    servers = [f"launchgate-{b}" for b in args.backends]
    lines = [
        f"Command: `{command_line()}`  ",
        f"Date: {started.strftime('%Y-%m-%d %H:%M UTC')}  ",
        f"Machine: {info['cores']} cores ({info['cpu']}), {info['os']}, Python {info['python']}  ",
        f"Stack: {info['packages']}; load generator {info['wrk']}  ",
        f"Phases: {args.warmup:g} s warm-up, then {args.duration:g} s per phase; wrk "
        f"threads: 1 for latency, {args.threads} for throughput; plan `{args.plan}`; "
        f"server pinned to CPU {args.pin_server or '-'}, wrk to CPU {args.pin_client or '-'}; "
        f"load average at start {info['load_start']}.",
        "",
        "| Server | Connections | p50 ms | p95 ms | p99 ms | max ms | req/s | requests | non-200 "
        "| server CPU ms/req | server CPU use | load avg after |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|",
    ]
    for name in [*servers, "baseline"]:
        for label in ("latency", "throughput"):
            phase = phases[(name, label)]
            r = phase.result
            lines.append(
                f"| {server_label(name)} | {phase.connections} | {ms(r['p50_us'])} | "
                f"{ms(r['p95_us'])} | {ms(r['p99_us'])} | {ms(r['max_us'])} | {r['rps']:.0f} | "
                f"{r['requests']} | {r['non200']} | {r['server_cpu_ms_per_req']:.2f} | "
                f"{100 * r['server_cpu_util']:.0f}% | {r['loadavg']} |"
            )

    def ratio(a: float, b: float) -> float:
        return a / b if b else float("inf")

    header = " | ".join(BACKEND_NAMES[b] for b in args.backends)
    lines += [
        "",
        f"| Ratio LaunchGate / baseline | {header} |",
        "|---|" + "---:|" * len(servers),
    ]
    rows: list[tuple[str, Callable[[Phase, Phase], str]]] = [
        (
            "p50 latency, 1 connection",
            lambda lat, _: f"{ratio(lat.result['p50_us'], base_lat.result['p50_us']):.1f}×",
        ),
        (
            "p99 latency, 1 connection",
            lambda lat, _: f"{ratio(lat.result['p99_us'], base_lat.result['p99_us']):.1f}×",
        ),
        (
            f"p50 latency, {args.connections} connections",
            lambda _, tp: f"{ratio(tp.result['p50_us'], base_tp.result['p50_us']):.1f}×",
        ),
        (
            "throughput (req/s), 1 connection",
            lambda lat, _: f"{ratio(lat.result['rps'], base_lat.result['rps']):.2f}×",
        ),
        (
            f"throughput (req/s), {args.connections} connections",
            lambda _, tp: f"{ratio(tp.result['rps'], base_tp.result['rps']):.2f}×",
        ),
    ]
    for label, cell in rows:
        cells = [cell(phases[(n, "latency")], phases[(n, "throughput")]) for n in servers]
        lines.append(f"| {label} | " + " | ".join(cells) + " |")
    lines += ["", f"| Goal (issue 17) | {header} |", "|---|" + "---:|" * len(servers)]
    all_met = True
    goals: list[tuple[str, Callable[[Phase, Phase], tuple[str, bool]]]] = [
        (
            f"p50 ≤ {GOAL_P50_MS:g} ms, 1 connection",
            lambda lat, _: (
                f"{lat.result['p50_us'] / 1000:.2f} ms",
                lat.result["p50_us"] / 1000 <= GOAL_P50_MS,
            ),
        ),
        (
            f"p99 ≤ {GOAL_P99_MS:g} ms, 1 connection",
            lambda lat, _: (
                f"{lat.result['p99_us'] / 1000:.2f} ms",
                lat.result["p99_us"] / 1000 <= GOAL_P99_MS,
            ),
        ),
        (
            f"throughput ≥ {GOAL_THROUGHPUT_RATIO:.2f}× baseline, {args.connections} connections",
            lambda _, tp: (
                f"{ratio(tp.result['rps'], base_tp.result['rps']):.2f}×",
                ratio(tp.result["rps"], base_tp.result["rps"]) >= GOAL_THROUGHPUT_RATIO,
            ),
        ),
        (
            f"server CPU ≤ {GOAL_CPU_MS:g} ms/run, {args.connections} connections",
            lambda _, tp: (
                f"{tp.result['server_cpu_ms_per_req']:.2f} ms",
                tp.result["server_cpu_ms_per_req"] <= GOAL_CPU_MS,
            ),
        ),
    ]
    for label, check in goals:
        cells = []
        for n in servers:
            value, ok = check(phases[(n, "latency")], phases[(n, "throughput")])
            all_met = all_met and ok
            cells.append(f"{value} {'yes' if ok else '**no**'}")
        lines.append(f"| {label} | " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n", all_met


def write_between_markers(
    path: Path, begin: str, end: str, body: str, section: Callable[[str], str]
) -> None:
    """Rewrite what lies between ``begin`` and ``end`` in ``path``, keeping the hand-written
    text around it; when the markers are not there yet, append ``section(block)``. Every
    bench script records its figures in bench/RESULTS.md this way."""
    block = f"{begin}\n{body}{end}"
    text = path.read_text() if path.exists() else ""
    if begin in text and end in text:
        head, _, rest = text.partition(begin)
        _, _, tail = rest.partition(end)
        path.write_text(head + block + tail)
        return
    path.write_text((text.rstrip() + "\n\n" if text else "") + section(block))


def write_results(table: str, path: Path) -> None:
    title = (
        ""
        if path.exists()
        else "# POST /v1/run latency and throughput\n\n"
        "Produced by `bench/run_latency.py` (see bench/README.md).\n\n"
    )
    write_between_markers(
        path, BEGIN_MARK, END_MARK, table, lambda block: title + "## Latest run\n\n" + block + "\n"
    )


# --------------------------------------------------------------------------- main


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description="Latency/throughput of POST /v1/run vs a bare FastAPI baseline (wrk)."
    )
    parser.add_argument(
        "--duration", type=float, default=10.0, help="seconds per measured phase (default 10)"
    )
    parser.add_argument(
        "--warmup", type=float, default=2.0, help="seconds of warm-up per server (default 2)"
    )
    parser.add_argument(
        "--quick",
        action="store_true",
        help="3 s phases and 1 s warm-up (overrides --duration/--warmup)",
    )
    parser.add_argument(
        "--connections",
        type=int,
        default=32,
        help="connections of the throughput phase (default 32)",
    )
    parser.add_argument(
        "--threads",
        type=int,
        default=1,
        help="wrk threads of the throughput phase (default 1: on 2 cores a "
        "second wrk thread takes CPU from the server)",
    )
    parser.add_argument(
        "--plan",
        default="enterprise",
        choices=["free", "pro", "scale", "enterprise"],
        help="plan of the bench organisation (default enterprise: unlimited "
        "runs; the others add the monthly-usage read)",
    )
    parser.add_argument(
        "--only",
        choices=["launchgate", "baseline"],
        help="measure one server only (no ratios, RESULTS.md not written)",
    )
    parser.add_argument(
        "--backend",
        choices=["both", *BACKENDS],
        default="both",
        help="LaunchGate's database: the embedded SQLite, PostgreSQL, or both one after "
        "the other (default both)",
    )
    parser.add_argument(
        "--server-env",
        action="append",
        default=[],
        metavar="LAUNCHGATE_X=VALUE",
        help="a setting for the LaunchGate servers, e.g. LAUNCHGATE_DATABASE_POOL_SIZE=40 "
        "(repeatable; every other LAUNCHGATE_* variable of the shell is dropped)",
    )
    parser.add_argument(
        "--postgres-url",
        default=DEFAULT_POSTGRES_URL,
        help="a PostgreSQL server on which the bench creates (and then drops) a fresh "
        "database (default $LAUNCHGATE_BENCH_POSTGRES_URL, else "
        "postgresql://postgres@127.0.0.1:5432/postgres)",
    )
    parser.add_argument(
        "--pin-server", metavar="CPUS", help="taskset CPU list for the servers, e.g. 0"
    )
    parser.add_argument("--pin-client", metavar="CPUS", help="taskset CPU list for wrk, e.g. 1")
    parser.add_argument(
        "--output",
        type=Path,
        default=RESULTS,
        help="Markdown file to update (default bench/RESULTS.md)",
    )
    parser.add_argument("--no-write", action="store_true", help="do not touch the results file")
    parser.add_argument("--strict", action="store_true", help="exit 1 when a goal is missed")
    parser.add_argument(
        "--profile",
        action="store_true",
        help="after the measurements, profile the LaunchGate server with "
        "py-spy under the throughput load and print where time goes",
    )
    parser.add_argument("--profile-seconds", type=float, default=10.0)
    parser.add_argument("--profile-rate", type=int, default=250, help="py-spy samples/s")
    parser.add_argument(
        "--profile-dir",
        type=Path,
        default=None,
        help="where py-spy output goes (default: a temp dir that is kept)",
    )
    parser.add_argument(
        "--keep-data", action="store_true", help="keep the temporary data dir and server logs"
    )
    parser.add_argument(
        "--no-install", action="store_true", help="never apt-get install wrk; just say how"
    )
    args = parser.parse_args(argv)
    args.backends = BACKENDS if args.backend == "both" else (args.backend,)
    for setting in args.server_env:
        name, sep, _ = setting.partition("=")
        if not sep or not name.startswith("LAUNCHGATE_"):
            parser.error(f"--server-env takes LAUNCHGATE_X=VALUE, not {setting!r}")
    if args.quick:
        args.duration, args.warmup, args.profile_seconds = 3.0, 1.0, 4.0
    if args.connections < 1 or args.threads < 1 or args.threads > args.connections:
        parser.error("need 1 ≤ --threads ≤ --connections")
    return args


def measure(
    server: Server,
    name: str,
    wrk: str,
    body_file: Path,
    auth: str | None,
    args: argparse.Namespace,
    phases: dict[tuple[str, str], Phase],
) -> None:
    if args.warmup > 0:
        warm = Phase(name, "warm-up", args.connections, args.threads, args.warmup)
        warm.result = run_wrk(
            wrk,
            server.url,
            body_file,
            auth,
            args.connections,
            args.threads,
            args.warmup,
            args.pin_client,
        )
        if warm.problems:
            raise BenchError(f"{name} warm-up: " + "; ".join(warm.problems))
    for label, connections, threads in (
        ("latency", 1, 1),
        ("throughput", args.connections, args.threads),
    ):
        phase = Phase(name, label, connections, threads, args.duration)
        print(
            f"  {name}: {label}, {connections} connection(s), {args.duration:g} s ...", flush=True
        )
        cpu_before = process_cpu_s(server.proc.pid)
        phase.result = run_wrk(
            wrk, server.url, body_file, auth, connections, threads, args.duration, args.pin_client
        )
        r = phase.result
        cpu = process_cpu_s(server.proc.pid) - cpu_before
        r["server_cpu_ms_per_req"] = 1000 * cpu / r["requests"] if r["requests"] else 0.0
        r["server_cpu_util"] = cpu / r["duration_s"] if r["duration_s"] else 0.0
        r["loadavg"] = loadavg()
        print(
            f"    p50 {ms(r['p50_us'])} ms  p95 {ms(r['p95_us'])} ms  p99 {ms(r['p99_us'])} ms"
            f"  {r['rps']:.0f} req/s  ({r['requests']} requests, {r['non200']} non-200)  "
            f"server CPU {r['server_cpu_ms_per_req']:.2f} ms/req, "
            f"{100 * r['server_cpu_util']:.0f}% of a core; load {r['loadavg']}",
            flush=True,
        )
        phases[(name, label)] = phase


def measure_launchgate(
    backend: str,
    work: Path,
    wrk: str,
    body_file: Path,
    args: argparse.Namespace,
    phases: dict[tuple[str, str], Phase],
    profile_md: str | None,
) -> str | None:
    """Start ``launchgate serve`` on ``backend`` (a fresh data dir; for PostgreSQL also a
    fresh, migrated database, dropped afterwards), set up the suite, measure it (and
    profile it with ``--profile``); returns the profile sections so far."""
    name = f"launchgate-{backend}"
    work.mkdir(parents=True, exist_ok=True)
    with contextlib.ExitStack() as stack:
        database_url = None
        if backend == "postgres":
            database_url = stack.enter_context(postgres_database(args.postgres_url))
        env = server_env(work / "data", database_url)
        env.update(setting.split("=", 1) for setting in args.server_env)
        if database_url:
            migrate(env)
        port = free_port()
        where = "PostgreSQL " + database_url.rpartition("/")[2] if database_url else "SQLite"
        print(f"LaunchGate: launchgate serve on 127.0.0.1:{port}, {where}", flush=True)
        server = start_server(
            name,
            [*launchgate_command(), "serve", "--host", "127.0.0.1", "--port", str(port)],
            env,
            port,
            work,
            args.pin_server,
        )
        with running(server):
            api_key = create_org(env, args.plan)
            create_suite(server.url, api_key)
            auth = f"Bearer {api_key}"
            measure(server, name, wrk, body_file, auth, args, phases)
            if args.profile:
                out_dir = args.profile_dir or Path(tempfile.mkdtemp(prefix="lg-profile-"))
                out_dir = out_dir / backend
                out_dir.mkdir(parents=True, exist_ok=True)
                section = profile_phase(server, wrk, body_file, auth, args, out_dir)
                if section:
                    title = f"#### Profile, {BACKEND_NAMES[backend]}\n\n"
                    profile_md = (profile_md or "") + ("\n" if profile_md else "") + title
                    profile_md += section
    return profile_md


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    started = dt.datetime.now(dt.UTC)
    load_start = loadavg()
    cores = len(os.sched_getaffinity(0))
    with contextlib.suppress(ValueError):
        if float(load_start.split()[0]) > cores / 2:
            print(
                f"Note: load average is {load_start} on {cores} cores; other work will "
                "skew latency (server CPU ms/req is the number least affected).",
                flush=True,
            )
    signal.signal(signal.SIGTERM, _raise_interrupt)
    try:
        wrk = ensure_wrk(install=not args.no_install)
    except BenchError as exc:
        print(exc, file=sys.stderr)
        return 2

    work = Path(tempfile.mkdtemp(prefix="launchgate-bench-"))
    body_file = work / "run-body.json"
    body_file.write_text(json.dumps(RUN_BODY))
    env = server_env(work / "baseline")
    phases: dict[tuple[str, str], Phase] = {}
    failed: list[str] = []
    profile_md: str | None = None
    try:
        if args.only in (None, "launchgate"):
            for backend in args.backends:
                profile_md = measure_launchgate(
                    backend, work / backend, wrk, body_file, args, phases, profile_md
                )
        if args.only in (None, "baseline"):
            port = free_port()
            print(f"Baseline: bench/baseline_app.py on 127.0.0.1:{port}", flush=True)
            server = start_server(
                "baseline",
                [sys.executable, str(BASELINE_APP), "--host", "127.0.0.1", "--port", str(port)],
                env,
                port,
                work,
                args.pin_server,
            )
            with running(server):
                measure(server, "baseline", wrk, body_file, None, args, phases)
    except BenchError as exc:
        print(f"\nBench failed: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("\nInterrupted; servers stopped.", file=sys.stderr)
        return 130
    finally:
        if args.keep_data:
            print(f"Data dir and server logs kept in {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)

    for phase in phases.values():
        failed += [f"{phase.server} {phase.label}: {p}" for p in phase.problems]
    if args.only:
        print("\n(one server only: no ratios, results file not written)")
        return 1 if failed else 0

    info = machine()
    info["load_start"] = load_start
    table, goals_met = render(phases, args, info, started)
    print("\n" + table)
    if failed:
        print(
            "FAILED: responses other than 200 (or socket errors) during the load:\n  "
            + "\n  ".join(failed),
            file=sys.stderr,
        )
        return 1
    if not args.no_write:
        write_results(table + (f"\n{profile_md}" if profile_md else ""), args.output)
        print(f"Written to {args.output}")
    if args.strict and not goals_met:
        print("Goals missed (--strict).", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
