"""Throughput of the LLM judge: 200 ``llm_judge`` cases in one run, against the ideal and
against promptfoo's ``llm-rubric`` doing the same 200 judgements.

One command, from the repository root:

    .venv/bin/python bench/judge_throughput.py            # ~1 min (+ npm install the first time)
    .venv/bin/python bench/judge_throughput.py --quick    # 1 clean run, no promptfoo 429 run
    .venv/bin/python bench/judge_throughput.py --profile  # also py-spy the server (3 more runs)

What it does:

1. Starts the fake provider (``python -m launchgate.testing.fake_provider``, a separate
   process) with a fixed latency of 200 ms on every answer, and a real ``launchgate serve``
   subprocess on a free port with a fresh temporary ``LAUNCHGATE_DATA_DIR`` (SQLite), every
   limit off, ``LAUNCHGATE_OPENAI_BASE_URL`` pointing at the fake,
   ``LAUNCHGATE_ALLOW_PRIVATE_PROVIDER_URLS=true``, ``LAUNCHGATE_JUDGE_CONCURRENCY=20`` and a
   random 64-hex-character ``BYOK_ENCRYPTION_KEY``.
2. ``launchgate orgs create bench --json --plan enterprise``, then through the API an OpenAI
   BYOK key (``sk-test-…``), a project, one ``llm_judge`` scorer and a suite of N = 200 cases
   on it.
3. Times ONE synchronous ``POST /v1/run`` whose output carries ``FAKE_SCORE=0.9`` (the fake
   judge answers that score, every case passes at threshold 0.7). Ideal = ceil(N / 20) ×
   200 ms; ``--repeat`` (3) such runs, the goal uses the median. Before them: one unmeasured
   warm-up run, and one run with the latency at 0 ms that shows LaunchGate's own cost of
   200 judge calls.
   Baselines in the same run, each a separate Python process replaying LaunchGate's own
   judge request body N times, 20 at a time: LaunchGate's own provider client
   (``launchgate.providers.http.send`` on ``create_client``: aiohttp, as the judge sends) with an
   asyncio.Semaphore (LaunchGate's HTTP stack and nothing else; ``--repeat`` runs), and a
   raw asyncio-streams HTTP/1.1 client on 20 keep-alive connections (almost no client CPU:
   the floor that the fake and the machine set).
4. The same run with 10% of the provider's answers a 429 ``retry-after: 1``: the fake's
   schedule is 20 × [9 pass-through entries, 1 ``rate_limit``], so of the first 200 chat
   requests the fake receives (retries included) every 10th is a 429 and the rest are
   answered normally. No case may end in error.
5. promptfoo: ``npm install promptfoo@<pinned>`` into a directory outside the repository (a
   cache dir, reused), then ``npx promptfoo eval --max-concurrency 20 --no-cache`` on
   bench/promptfoo/promptfooconfig.yaml with the same N tests, the same rubric, output and
   threshold, provider ``echo`` under test and ``openai:chat:gpt-4o`` as the grader pointed
   at the fake (``OPENAI_BASE_URL``), with the fake back at 200 ms and no errors; then the
   same with the 429 schedule.
6. Prints a Markdown table and writes it into bench/RESULTS.md between the
   ``judge:begin``/``judge:end`` markers, keeping the hand-written analysis outside them.

Every process it starts is stopped (also on Ctrl-C and SIGTERM), every phase has a time
limit. Exit 1 when a run does not clear all N cases or a phase fails; ``--strict`` also
when the goal (≤ 1.05 × ideal without errors injected) is missed.
"""

from __future__ import annotations

import argparse
import collections
import contextlib
import datetime as dt
import json
import math
import os
import re
import secrets
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections import deque
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

# The sibling benchmark's process helpers (python puts this script's directory on sys.path).
from run_latency import (
    BenchError,
    Server,
    _raise_interrupt,
    _short,
    command_line,
    create_org,
    find_py_spy,
    free_port,
    launchgate_command,
    loadavg,
    machine_info,
    process_cpu_s,
    running,
    server_env,
    start_server,
    stop_server,
    write_between_markers,
)

BENCH_DIR = Path(__file__).resolve().parent
REPO = BENCH_DIR.parent
RESULTS = BENCH_DIR / "RESULTS.md"
PROMPTFOO_SRC = BENCH_DIR / "promptfoo"
BEGIN_MARK = "<!-- judge:begin (written by bench/judge_throughput.py; edit outside the markers) -->"
END_MARK = "<!-- judge:end -->"

GOAL_RATIO = 1.05  # issue 17 (issue 3 asked 1.10)
# The newest promptfoo whose `engines` still admits Node 20 (`^20.20.0 || >=22.22.0`);
# 0.122+ needs Node >= 22.22. Pinned so that runs compare.
PROMPTFOO_VERSION = "0.121.20"
PROJECT_SLUG = "judge-bench"
SUITE_SLUG = "judge-bench"
THRESHOLD = 0.7
FAKE_SCORE = 0.9
# Must match the llm-rubric value in bench/promptfoo/promptfooconfig.yaml (checked).
RUBRIC = (
    "The answer names the correct capital city, states it plainly, and stays polite and "
    "on topic. Score 1 when all three hold, 0 when none do."
)
OUTPUT = (
    f"The capital of France is Paris. Happy to help with anything else! FAKE_SCORE={FAKE_SCORE}"
)
RUN_INPUT = {"question": "What is the capital of France?"}

PHASE_TIMEOUT_S = 180.0
NPM_TIMEOUT_S = 900.0


# --------------------------------------------------------------------------- the fake


@dataclass
class Fake:
    server: Server
    port: int

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def admin(self, method: str, path: str, body: Any = None) -> Any:
        import httpx

        answer = httpx.request(method, f"{self.base}/_admin/{path}", json=body, timeout=30.0)
        if answer.status_code != 200:
            raise BenchError(
                f"fake provider {method} /_admin/{path} answered "
                f"{answer.status_code}: {answer.text[:500]}"
            )
        return answer.json()

    def reset_counters(self) -> None:
        self.admin("POST", "reset", {"counters": True, "config": False})

    def configure(self, **config: Any) -> None:
        self.admin("POST", "configure", config)


def wait_fake(server: Server, timeout_s: float = 30.0) -> None:
    import httpx

    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if server.proc.poll() is not None:
            raise BenchError(
                f"the fake provider exited with {server.proc.returncode}:\n{server.log_tail()}"
            )
        with contextlib.suppress(httpx.HTTPError):
            if httpx.get(server.url + "/_admin/health", timeout=2.0).status_code == 200:
                return
        time.sleep(0.05)
    raise BenchError(f"the fake provider did not answer within {timeout_s:.0f} s")


def rate_limit_schedule(n: int) -> list[dict[str, Any]]:
    """Every 10th of the next ``n`` chat requests answered 429 ``retry-after: 1``.

    The fake serves its schedule in order, one entry per request, and has no "answer
    normally" kind; a ``timeout`` of 0 s is one (it hangs 0 s, then answers as usual).
    """
    entries: list[dict[str, Any]] = []
    for _ in range(n // 10):
        entries.append({"kind": "timeout", "seconds": 0, "count": 9, "endpoint": "chat"})
        entries.append({"kind": "rate_limit", "retry_after": 1, "endpoint": "chat"})
    return entries


@dataclass
class FakeView:
    """What the fake saw from one key during one measured phase."""

    requests: int
    max_concurrent: int
    statuses: dict[str, int]
    first_end: float | None  # wall clock (time.time()) of the first / last answer
    last_end: float | None


def fake_view(fake: Fake, fingerprint: str) -> FakeView:
    counters = fake.admin("GET", "counters")
    key = counters["keys"].get(fingerprint, {})
    ends = [
        r["at"]
        for r in fake.admin("GET", "requests?provider=openai")["requests"]
        if r["key_fingerprint"] == fingerprint and r["endpoint"] == "chat"
    ]
    return FakeView(
        requests=int(key.get("endpoints", {}).get("chat", 0)),
        max_concurrent=int(key.get("max_concurrent", 0)),
        statuses=dict(key.get("statuses", {})),
        first_end=min(ends) if ends else None,
        last_end=max(ends) if ends else None,
    )


def key_fingerprint(key: str) -> str:
    from launchgate.testing.fake_provider import key_fingerprint as fingerprint

    return fingerprint(key)


# --------------------------------------------------------------------------- the ideal


def simulate(
    n: int,
    slots: int,
    latency_s: float,
    failing: set[int],
    retry_after_s: float,
) -> float:
    """Makespan of n calls through a perfect FIFO limiter of ``slots``, zero overhead.

    The k-th call to *start* (1-based, retries included) fails when k is in ``failing``,
    after ``latency_s``; it then sleeps ``retry_after_s`` holding no slot and queues again
    at the back. This is SPEC §7's limiter with nothing else in the way: the best any
    implementation of it can do with that schedule.
    """
    import heapq

    queue: deque[int] = deque(range(n))
    sleeping: list[tuple[float, int, int]] = []
    in_flight: list[tuple[float, int, int, bool]] = []
    now, started, done, seq = 0.0, 0, 0, 0
    eps = 1e-9
    while done < n:
        while sleeping and sleeping[0][0] <= now + eps:
            queue.append(heapq.heappop(sleeping)[2])
        while len(in_flight) < slots and queue:
            started += 1
            heapq.heappush(in_flight, (now + latency_s, seq, queue.popleft(), started in failing))
            seq += 1
        now = min([t for t, *_ in in_flight[:1]] + [t for t, *_ in sleeping[:1]])
        while in_flight and in_flight[0][0] <= now + eps:
            _, _, call, failed = heapq.heappop(in_flight)
            if failed:
                heapq.heappush(sleeping, (now + retry_after_s, seq, call))
                seq += 1
            else:
                done += 1
    return now


# --------------------------------------------------------------------------- LaunchGate


@dataclass
class Measured:
    label: str
    tool: str  # "launchgate" | "promptfoo"
    latency_ms: float
    wall_s: float
    ideal_s: float
    schedule_ideal_s: float
    fake: FakeView
    t_start: float  # wall clock when the request / command started
    t_end: float
    passed: int = 0
    failed: int = 0
    errors: int = 0
    retries: int = 0
    max_attempts: int = 0
    server_s: float | None = None  # LaunchGate's own duration_ms / promptfoo's durationMs
    cpu_s: float | None = None  # CPU of the LaunchGate server / of the promptfoo process tree
    fake_cpu_s: float | None = None
    notes: list[str] = field(default_factory=list)

    @property
    def ratio(self) -> float:
        return self.wall_s / self.ideal_s if self.ideal_s else float("nan")

    @property
    def first_call_after_s(self) -> float | None:
        if self.fake.first_end is None:
            return None
        return self.fake.first_end - self.latency_ms / 1000 - self.t_start

    @property
    def answer_after_s(self) -> float | None:
        return None if self.fake.last_end is None else self.t_end - self.fake.last_end

    @property
    def window_s(self) -> float | None:
        """First judge call sent → last judge answer, at the fake."""
        if self.fake.first_end is None or self.fake.last_end is None:
            return None
        return self.fake.last_end - self.fake.first_end + self.latency_ms / 1000

    def turnaround_ms(self, slots: int) -> float | None:
        """Mean time a slot sat idle between a judge answer and its next call: (slots ×
        window − calls × latency) / calls. 0 is perfect; meaningless with 429s (slots then
        legitimately wait for Retry-After), so None there."""
        window = self.window_s
        if window is None or not self.fake.requests or self.fake.statuses.get("429"):
            return None
        busy = self.fake.requests * self.latency_ms / 1000
        slots = min(slots, self.fake.requests)
        return 1000 * max(0.0, slots * window - busy) / self.fake.requests


def setup_launchgate(url: str, api_key: str, openai_key: str, n: int) -> None:
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

        post(
            "/byok-keys",
            {"provider": "openai", "name": "bench", "key": openai_key, "is_default": True},
        )
        post("/projects", {"name": "Judge bench", "slug": PROJECT_SLUG})
        scorer = post(
            f"/projects/{PROJECT_SLUG}/scorers",
            {
                "name": "capital judge",
                "type": "llm_judge",
                "config": {"rubric": RUBRIC, "_provider": "openai"},
            },
        )["data"]
        suite = post(
            f"/projects/{PROJECT_SLUG}/suites",
            {"name": "Judge bench", "slug": SUITE_SLUG, "pass_threshold": 1.0},
        )["data"]
        for i in range(n):
            post(
                f"/suites/{suite['id']}/cases",
                {
                    "name": f"judged {i:03d}",
                    "scorer_id": scorer["id"],
                    "threshold": THRESHOLD,
                    "input": {"case": i},
                },
            )


def launchgate_run(
    url: str, api_key: str, timeout_s: float
) -> tuple[dict[str, Any], float, float, float]:
    """One synchronous POST /v1/run: (answer, seconds, wall-clock start, wall-clock end)."""
    import httpx

    body = {
        "suite": SUITE_SLUG,
        "output": OUTPUT,
        "input": RUN_INPUT,
        "trigger": "api",
        "trigger_meta": {"bench": "judge_throughput"},
    }
    with httpx.Client(timeout=timeout_s, headers={"Authorization": f"Bearer {api_key}"}) as client:
        client.get(url + "/health")  # connect before the clock starts
        t_start = time.time()
        started = time.perf_counter()
        answer = client.post(url + "/v1/run", json=body)
        seconds = time.perf_counter() - started
        t_end = time.time()
    if answer.status_code != 200:
        raise BenchError(f"POST /v1/run answered {answer.status_code}: {answer.text[:2000]}")
    data: dict[str, Any] = answer.json()
    return data, seconds, t_start, t_end


def measure_launchgate(
    label: str,
    server: Server,
    fake: Fake,
    fake_pid: int,
    api_key: str,
    fingerprint: str,
    n: int,
    args: argparse.Namespace,
    latency_ms: float,
    failing: set[int] | None = None,
) -> Measured:
    fake.reset_counters()
    cpu0, fake_cpu0 = process_cpu_s(server.proc.pid), process_cpu_s(fake_pid)
    run, seconds, t_start, t_end = launchgate_run(server.url, api_key, PHASE_TIMEOUT_S)
    cpu = process_cpu_s(server.proc.pid) - cpu0
    fake_cpu = process_cpu_s(fake_pid) - fake_cpu0
    view = fake_view(fake, fingerprint)
    ideal = ideal_s(n, args.concurrency, latency_ms)
    m = Measured(
        label,
        "launchgate",
        latency_ms,
        seconds,
        ideal,
        simulate(n, args.concurrency, latency_ms / 1000, failing or set(), 1.0),
        view,
        t_start,
        t_end,
        cpu_s=cpu,
        fake_cpu_s=fake_cpu,
    )
    scores = run.get("scores") or []
    m.passed = sum(s["status"] == "passed" for s in scores)
    m.failed = sum(s["status"] == "failed" for s in scores)
    m.errors = sum(s["status"] == "error" for s in scores)
    attempts = [int((s.get("judge") or {}).get("attempts") or 0) for s in scores]
    m.retries = sum(max(0, a - 1) for a in attempts)
    m.max_attempts = max(attempts, default=0)
    if run.get("duration_ms") is not None:
        m.server_s = float(run["duration_ms"]) / 1000
    if run.get("status") != "cleared" or run.get("total_cases") != n or m.passed != n:
        reasons = sorted({s["reason"] for s in scores if s["status"] != "passed"})[:3]
        m.notes.append(
            f"run {run.get('id')} ended `{run.get('status')}` with {m.passed}/{n} "
            f"passed, {m.errors} in error: {reasons}"
        )
    print_row(m)
    return m


def ideal_s(n: int, concurrency: int, latency_ms: float) -> float:
    return math.ceil(n / concurrency) * latency_ms / 1000


# --------------------------------------------------------------------------- baseline


def baseline_client(
    kind: str, base_url: str, n: int, concurrency: int, body_file: Path, key: str
) -> None:
    """A baseline, run in its own process: N POSTs of LaunchGate's own judge request body, at
    most ``concurrency`` at once, each answer's verdict JSON parsed, and nothing else.

    ``httpx``: LaunchGate's own provider client and sending function
    (``providers.http.send`` on ``create_client``: aiohttp's session, its pool limits, the
    answer read and parsed as the judge's are) and an asyncio.Semaphore — the bare
    minimum of LaunchGate's HTTP stack. ``raw``: ``concurrency`` keep-alive
    HTTP/1.1 connections on asyncio streams, each sending its next request as soon as its
    answer is read — about the least CPU a client can spend, so what remains is the fake's
    and the machine's. One unmeasured round first (connections open, as for a warm server),
    then the fake's counters are reset and the N calls timed. Prints one JSON line.
    """
    import asyncio

    body = json.loads(body_file.read_text())
    raw_body = json.dumps(body).encode()

    async def reset() -> None:
        import httpx

        async with httpx.AsyncClient() as admin:
            (
                await admin.post(
                    base_url.removesuffix("/v1") + "/_admin/reset",
                    json={"counters": True, "config": False},
                )
            ).raise_for_status()

    async def with_httpx() -> None:

        headers = {"authorization": f"Bearer {key}"}
        from launchgate.providers.http import create_client, send
        from launchgate.providers.openai import read_error_for

        async with create_client(60.0) as client:
            gate = asyncio.Semaphore(concurrency)

            async def one() -> None:
                async with gate:
                    answer = await send(
                        client,
                        "POST",
                        f"{base_url}/chat/completions",
                        provider="openai",
                        secret=key,
                        read_error=read_error_for("openai"),
                        timeout_s=60.0,
                        headers=headers,
                        body=body,
                    )
                json.loads(answer["choices"][0]["message"]["content"])["score"]

            await asyncio.gather(*(one() for _ in range(concurrency)))
            await reset()
            await timed(asyncio.gather(*(one() for _ in range(n))))

    async def with_raw() -> None:
        url = base_url.removeprefix("http://")
        host, _, rest = url.partition(":")
        port = int(rest.split("/", 1)[0])
        request = (
            f"POST /v1/chat/completions HTTP/1.1\r\nhost: {host}:{port}\r\n"
            f"authorization: Bearer {key}\r\ncontent-type: application/json\r\n"
            f"content-length: {len(raw_body)}\r\n\r\n"
        ).encode() + raw_body
        streams = [await asyncio.open_connection(host, port) for _ in range(concurrency)]
        left = [0]

        async def one(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            writer.write(request)
            await writer.drain()
            head = (await reader.readuntil(b"\r\n\r\n")).decode("latin-1")
            if not head.startswith("HTTP/1.1 200"):
                raise RuntimeError(head.splitlines()[0])
            length = next(
                int(line.split(":", 1)[1])
                for line in head.split("\r\n")
                if line.lower().startswith("content-length:")
            )
            answer = json.loads(await reader.readexactly(length))
            json.loads(answer["choices"][0]["message"]["content"])["score"]

        async def worker(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            while left[0] > 0:
                left[0] -= 1
                await one(reader, writer)

        await asyncio.gather(*(one(r, w) for r, w in streams))
        await reset()
        left[0] = n
        await timed(asyncio.gather(*(worker(r, w) for r, w in streams)))
        for _, writer in streams:
            writer.close()

    result: dict[str, float] = {}

    async def timed(batch: Any) -> None:
        cpu0, t_start, started = time.process_time(), time.time(), time.perf_counter()
        await batch
        result.update(
            wall_s=time.perf_counter() - started,
            t_start=t_start,
            t_end=time.time(),
            cpu_s=time.process_time() - cpu0,
        )

    asyncio.run(with_httpx() if kind == "httpx" else with_raw())
    print("BASELINE " + json.dumps(result), flush=True)


def measure_baseline(
    kind: str,
    label: str,
    fake: Fake,
    fake_pid: int,
    body_file: Path,
    n: int,
    args: argparse.Namespace,
) -> Measured:
    key = "sk-test-baseline-" + secrets.token_hex(8)
    argv = [
        sys.executable,
        str(Path(__file__).resolve()),
        "--baseline-client",
        kind,
        f"{fake.base}/v1",
        str(n),
        str(args.concurrency),
        str(body_file),
        key,
    ]
    env = {k: v for k, v in os.environ.items() if not k.startswith("LAUNCHGATE_")}
    fake_cpu0 = process_cpu_s(fake_pid)
    code, out = run_bounded(argv, env, REPO, PHASE_TIMEOUT_S)
    fake_cpu = process_cpu_s(fake_pid) - fake_cpu0
    line = next((x for x in out.splitlines() if x.startswith("BASELINE ")), None)
    if code != 0 or line is None:
        raise BenchError(f"the baseline client failed ({code}):\n{out[-2000:]}")
    result = json.loads(line.removeprefix("BASELINE "))
    view = fake_view(fake, key_fingerprint(key))
    m = Measured(
        label,
        "baseline",
        args.latency_ms,
        result["wall_s"],
        ideal_s(n, args.concurrency, args.latency_ms),
        simulate(n, args.concurrency, args.latency_ms / 1000, set(), 1.0),
        view,
        result["t_start"],
        result["t_end"],
        passed=view.statuses.get("200", 0),
        cpu_s=result["cpu_s"],
        fake_cpu_s=fake_cpu,
    )
    m.errors = n - m.passed
    print_row(m)
    return m


def last_request_body(fake: Fake, fingerprint: str, path: Path) -> Path:
    """The body of LaunchGate's last judge request, as the fake recorded it."""
    found = [
        r
        for r in fake.admin("GET", "requests?provider=openai")["requests"]
        if r["key_fingerprint"] == fingerprint and r["endpoint"] == "chat" and r["body"]
    ]
    if not found:
        raise BenchError("the fake recorded no LaunchGate judge request to replay")
    path.write_text(json.dumps(found[-1]["body"]))
    return path


# --------------------------------------------------------------------------- promptfoo


def default_promptfoo_dir() -> Path:
    cache = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    return cache / "launchgate-bench" / f"promptfoo-{PROMPTFOO_VERSION}"


def ensure_promptfoo(directory: Path) -> Path:
    """``npm install promptfoo@PROMPTFOO_VERSION`` into ``directory`` (outside the repo);
    returns the directory. Reused when that version is already there."""
    installed = directory / "node_modules" / "promptfoo" / "package.json"
    if installed.exists():
        with contextlib.suppress(ValueError, OSError):
            if json.loads(installed.read_text()).get("version") == PROMPTFOO_VERSION:
                return directory
    npm = shutil.which("npm")
    if npm is None or shutil.which("npx") is None:
        raise BenchError(
            "npm/npx not found: install Node.js (20.20+ or 22.22+) to compare with promptfoo"
        )
    with contextlib.suppress(ValueError):
        if directory.resolve().is_relative_to(REPO):
            raise BenchError(f"refusing to npm install inside the repository ({directory})")
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "package.json").write_text('{"private": true}\n')
    print(
        f"Installing promptfoo@{PROMPTFOO_VERSION} into {directory} (npm, ~1-2 min) ...", flush=True
    )
    argv = [
        npm,
        "install",
        "--no-audit",
        "--no-fund",
        "--loglevel=error",
        "--prefix",
        str(directory),
        f"promptfoo@{PROMPTFOO_VERSION}",
    ]
    code, out = run_bounded(argv, dict(os.environ), directory, NPM_TIMEOUT_S)
    if code != 0 or not installed.exists():
        raise BenchError(
            f"npm install promptfoo@{PROMPTFOO_VERSION} failed ({code}):\n{out[-3000:]}"
        )
    return directory


def run_bounded(
    argv: list[str],
    env: dict[str, str],
    cwd: Path,
    timeout_s: float,
    cpu: list[float] | None = None,
) -> tuple[int, str]:
    """Run a command in its own process group; kill the group on timeout or interrupt.

    ``cpu``, when given, receives the children's user+system CPU seconds.
    """
    with tempfile.TemporaryFile() as log:
        before = os.times()
        proc = subprocess.Popen(
            argv,
            env=env,
            cwd=cwd,
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )
        try:
            code = proc.wait(timeout=timeout_s)
        except subprocess.TimeoutExpired:
            code = -1
        finally:
            if proc.poll() is None:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(proc.pid, signal.SIGKILL)
                proc.wait(timeout=10)
        after = os.times()
        if cpu is not None:
            cpu.append(
                (after.children_user - before.children_user)
                + (after.children_system - before.children_system)
            )
        log.seek(0)
        out = log.read().decode(errors="replace")
    if code == -1:
        out += f"\n[timed out after {timeout_s:.0f} s; killed]"
    return code, out


def prepare_promptfoo_config(work: Path, n: int) -> Path:
    template = PROMPTFOO_SRC / "promptfooconfig.yaml"
    text = template.read_text()
    if " ".join(RUBRIC.split()) not in " ".join(text.split()):
        raise BenchError(f"the llm-rubric value in {template} is not RUBRIC of this script")
    target = work / "promptfoo"
    target.mkdir(parents=True, exist_ok=True)
    shutil.copy(template, target / "promptfooconfig.yaml")
    (target / "tests.yaml").write_text(promptfoo_tests(n))
    return target / "promptfooconfig.yaml"


def promptfoo_tests(n: int) -> str:
    lines = [
        f"# {n} tests for promptfooconfig.yaml: written by bench/judge_throughput.py.",
        "# Each output is the LaunchGate run's output plus its case number.",
    ]
    for i in range(n):
        lines += ["- vars:", f"    output: {json.dumps(f'[case {i:03d}] {OUTPUT}')}"]
    return "\n".join(lines) + "\n"


def measure_promptfoo(
    label: str,
    pf_dir: Path,
    config: Path,
    fake: Fake,
    fake_pid: int,
    n: int,
    args: argparse.Namespace,
    latency_ms: float,
    failing: set[int] | None = None,
) -> Measured:
    key = "sk-test-promptfoo-" + secrets.token_hex(8)
    out_json = config.parent / "results.json"
    out_json.unlink(missing_ok=True)
    home = config.parent / "home"
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("OPENAI_", "PROMPTFOO_", "LAUNCHGATE_"))
    }
    env.update(
        {
            "OPENAI_API_KEY": key,
            "OPENAI_BASE_URL": f"{fake.base}/v1",
            "OPENAI_API_BASE_URL": f"{fake.base}/v1",
            "PROMPTFOO_DISABLE_TELEMETRY": "1",
            "PROMPTFOO_DISABLE_UPDATE": "1",
            "PROMPTFOO_DISABLE_SHARING": "1",
            "PROMPTFOO_DISABLE_REMOTE_GENERATION": "true",
            "PROMPTFOO_CONFIG_DIR": str(home),  # its database and logs, not ~/.promptfoo
            "NO_COLOR": "1",
        }
    )
    argv = [
        shutil.which("npx") or "npx",
        "--no-install",
        "promptfoo",
        "eval",
        "-c",
        str(config),
        "--max-concurrency",
        str(args.concurrency),
        "--no-cache",
        "--no-write",
        "--no-table",
        "--no-progress-bar",
        "-o",
        str(out_json),
    ]
    fake.reset_counters()
    fake_cpu0 = process_cpu_s(fake_pid)
    cpu: list[float] = []
    t_start = time.time()
    started = time.perf_counter()
    code, out = run_bounded(argv, env, pf_dir, PHASE_TIMEOUT_S, cpu)
    seconds = time.perf_counter() - started
    t_end = time.time()
    fake_cpu = process_cpu_s(fake_pid) - fake_cpu0
    view = fake_view(fake, key_fingerprint(key))
    m = Measured(
        label,
        "promptfoo",
        latency_ms,
        seconds,
        ideal_s(n, args.concurrency, latency_ms),
        simulate(n, args.concurrency, latency_ms / 1000, failing or set(), 1.0),
        view,
        t_start,
        t_end,
        cpu_s=cpu[0] if cpu else None,
        fake_cpu_s=fake_cpu,
    )
    try:
        results = json.loads(out_json.read_text())["results"]
    except (OSError, ValueError, KeyError):
        m.notes.append(
            f"promptfoo wrote no results (exit {code}); its output ends: "
            + " ".join(out.split())[-600:]
        )
        m.errors = n
        print_row(m)
        return m
    stats = results.get("stats", {})
    m.passed, m.failed = int(stats.get("successes", 0)), int(stats.get("failures", 0))
    m.errors = int(stats.get("errors", 0))
    if stats.get("durationMs") is not None:
        m.server_s = float(stats["durationMs"]) / 1000
    m.retries = max(0, view.requests - n)  # promptfoo reports no attempts: extra calls
    if m.passed != n:
        reasons = sorted(
            {
                str((r.get("gradingResult") or {}).get("reason") or r.get("error"))
                for r in results.get("results", [])
                if not r.get("success")
            }
        )
        m.notes.append(
            f"promptfoo: {m.passed}/{n} passed, {m.failed} failed, {m.errors} "
            f"errors (exit {code}): {[r[:200] for r in reasons[:3]]}"
        )
    print_row(m)
    return m


# --------------------------------------------------------------------------- profile

# Where the server's time goes during judge runs. A GIL sample goes to the first of these
# library buckets with a frame anywhere in its stack (work done inside those libraries, for
# whichever caller); else to the bucket of its deepest LaunchGate frame; else to the
# framework bucket of any frame.
LIBRARY_BUCKETS: list[tuple[str, tuple[str, ...]]] = [
    ("logging (httpx's INFO line per call, structlog)", ("(logging/", "(structlog/")),
    (
        "httpcore: failed `import sniffio` in current_async_library()",
        ("current_async_library (httpcore/",),
    ),
    (
        "httpcore pool: _assign_requests_to_connections (has_expired/is_idle on every connection)",
        ("_assign_requests_to_connections",),
    ),
    (
        "aiohttp (the provider client's transport): connection, parser, streams",
        ("(aiohttp/", "(httpx_aiohttp/", "(multidict/", "(yarl/"),
    ),
    ("httpx/httpcore/h11: rest of each provider request", ("(httpx/", "(httpcore/", "(h11/")),
    (
        "database: pending run, complete() with N scores, key use, read back",
        ("(sqlalchemy/", "(aiosqlite/"),
    ),
    ("worker: taskiq dispatch and result polling", ("(taskiq/",)),
]
# The deepest LaunchGate frame's function or file → bucket (first match).
LAUNCHGATE_BUCKETS: list[tuple[str, tuple[str, ...]]] = [
    ("verdict parse", ("parse_verdict ", "_load_json ", "_unique_keys ", "_score ", "_reasoning ")),
    (
        "judge prompt: build_prompt (config check, JSON, tag escaping, sha256)",
        ("(launchgate/scorers/",),
    ),
    ("BYOK: key lookup and per-call decrypt", ("(launchgate/byok/",)),
    ("limiter + retry loop", ("(launchgate/providers/limiter", "(launchgate/providers/retry")),
    (
        "provider wire: request body, asyncio.timeout, reply read/redact/parse",
        ("(launchgate/providers/",),
    ),
    ("worker: taskiq dispatch and result polling", ("(launchgate/worker/",)),
    (
        "database: pending run, complete() with N scores, key use, read back",
        ("(launchgate/db", "(launchgate/runs/repository", "(launchgate/runs/writer"),
    ),
    ("engine: case loop, verdict, run service, judge details", ("(launchgate/runs/",)),
    ("other LaunchGate code", ("(launchgate/",)),
]
FRAMEWORK_BUCKETS: list[tuple[str, tuple[str, ...]]] = [
    (
        "HTTP API: FastAPI/Starlette/uvicorn, validation, JSON response",
        ("(fastapi/", "(starlette/", "(uvicorn/", "(pydantic"),
    ),
    ("asyncio event loop", ("(asyncio/",)),
]
# Frames down to here are the server's own root (CLI, uvicorn.run, asyncio.run): skipped.
_LOOP_ROOT = "Runner.run (asyncio/runners"


def bucket_of_sample(frames: list[str]) -> str:
    root = next((i for i, frame in enumerate(frames) if _LOOP_ROOT in frame), -1)
    below = frames[root + 1 :]

    def first(buckets: list[tuple[str, tuple[str, ...]]], where: list[str]) -> str | None:
        return next(
            (
                name
                for name, patterns in buckets
                if any(p in frame for frame in where for p in patterns)
            ),
            None,
        )

    deepest = next((frame for frame in reversed(below) if "(launchgate/" in frame), None)
    return (
        first(LIBRARY_BUCKETS, below)
        or (first(LAUNCHGATE_BUCKETS, [deepest]) if deepest else None)
        or first(FRAMEWORK_BUCKETS, below)
        or "other"
    )


def summarise_judge_profile(
    raw_path: Path,
) -> tuple[list[tuple[str, int]], int, list[tuple[str, int]]]:
    """Samples per bucket, their total, and the busiest leaf frames (lines dropped)."""
    buckets: collections.Counter[str] = collections.Counter()
    leaves: collections.Counter[str] = collections.Counter()
    total = 0
    for line in raw_path.read_text(errors="replace").splitlines():
        stack, _, count_text = line.rpartition(" ")
        if not stack or not count_text.isdigit():
            continue
        frames = [_short(f) for f in stack.split(";")]
        count = int(count_text)
        total += count
        buckets[bucket_of_sample(frames)] += count
        leaves[re.sub(r":\d+\)$", ")", frames[-1])] += count
    return buckets.most_common(), total, leaves.most_common(12)


def profile_phase(
    server: Server, fake: Fake, api_key: str, n: int, args: argparse.Namespace, out_dir: Path
) -> str | None:
    """Sample the server with py-spy over ``--profile-runs`` more runs (not counted above)."""
    spy = find_py_spy()
    if spy is None:
        print("py-spy not found: .venv/bin/pip install py-spy   (profile skipped)")
        return None
    raw = out_dir / "launchgate-judge.collapsed.txt"
    recorder = subprocess.Popen(
        [
            spy,
            "record",
            "--pid",
            str(server.proc.pid),
            "--rate",
            str(args.profile_rate),
            "--gil",
            "--format",
            "raw",
            "--output",
            str(raw),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    spy_err = ""
    try:
        time.sleep(1.0)
        fake.reset_counters()
        cpu0 = process_cpu_s(server.proc.pid)
        walls = []
        for _ in range(args.profile_runs):
            walls.append(launchgate_run(server.url, api_key, PHASE_TIMEOUT_S)[1])
        cpu = process_cpu_s(server.proc.pid) - cpu0
        calls = int(fake.admin("GET", "counters")["providers"]["openai"]["requests"])
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(recorder.pid, signal.SIGINT)  # py-spy writes its output on SIGINT
        try:
            _, spy_err = recorder.communicate(timeout=60)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(recorder.pid, signal.SIGKILL)
            recorder.communicate()
            spy_err = "timed out"
    if not raw.exists():
        print(f"py-spy wrote no profile (it needs ptrace: root or CAP_SYS_PTRACE): {spy_err}")
        return None
    buckets, total, leaves = summarise_judge_profile(raw)
    per_call = 1000 * cpu / calls if calls else 0.0
    lines = [
        f"Profile: py-spy {args.profile_rate} Hz (`--gil`) on the LaunchGate server over "
        f"{args.profile_runs} more runs at {args.latency_ms:g} ms (not in the table above; "
        f"sampling slows the server: {', '.join(f'{w:.2f}' for w in walls)} s); server CPU "
        f"{cpu:.2f} s for {calls} judge calls = **{per_call:.2f} ms per judge call**; "
        f"{total} samples.",
        "",
        "| Where the server's CPU goes in judge runs | Share | ≈ CPU ms per judge call |",
        "|---|---:|---:|",
    ]
    for name, count in buckets:
        share = count / total if total else 0.0
        lines.append(f"| {name} | {100 * share:.1f}% | {share * per_call:.2f} |")
    lines += ["", "Busiest leaf frames (self time):", ""]
    lines += [f"- {100 * count / total:.1f}% `{frame}`" for frame, count in leaves]
    lines += ["", f"Collapsed stacks: `{raw}` (open in speedscope.app, or flamegraph.pl)."]
    section = "\n".join(lines) + "\n"
    print("\n" + section)
    return section


# --------------------------------------------------------------------------- report


def fmt(value: float | None, digits: int = 2) -> str:
    return "–" if value is None or math.isnan(value) else f"{value:.{digits}f}"


def print_row(m: Measured) -> None:
    print(
        f"  {m.label}: {m.wall_s:.3f} s = {fmt(m.ratio)} × ideal {m.ideal_s:.2f} s "
        f"(schedule ideal {m.schedule_ideal_s:.2f} s); {m.fake.requests} calls, "
        f"max {m.fake.max_concurrent} in flight, statuses {m.fake.statuses}; "
        f"{m.passed} passed / {m.failed} failed / {m.errors} error; retries {m.retries}; "
        f"first call after {fmt(m.first_call_after_s, 3)} s, answer "
        f"{fmt(m.answer_after_s, 3)} s after the last",
        flush=True,
    )
    for note in m.notes:
        print(f"    ! {note}", flush=True)


def machine(node: str) -> dict[str, str]:
    return machine_info(
        (
            "fastapi",
            "uvicorn",
            "httpx",
            "httpx-aiohttp",
            "aiohttp",
            "httpcore",
            "anyio",
            "sniffio",
            "sqlalchemy",
            "aiosqlite",
            "taskiq",
        ),
        node=node,
    )


def node_version() -> str:
    node = shutil.which("node")
    if not node:
        return "not installed"
    with contextlib.suppress(OSError, subprocess.SubprocessError):
        return subprocess.run(
            [node, "--version"], capture_output=True, text=True, timeout=10, check=False
        ).stdout.strip()
    return "unknown"


def render(
    runs: list[Measured],
    args: argparse.Namespace,
    info: dict[str, str],
    started: dt.datetime,
    promptfoo_problem: str | None,
) -> tuple[str, bool]:
    n, c, lat = args.cases, args.concurrency, args.latency_ms
    ideal = ideal_s(n, c, lat)
    lines = [
        f"Command: `{command_line()}`  ",
        f"Date: {started.strftime('%Y-%m-%d %H:%M UTC')}  ",
        f"Machine: {info['cores']} cores ({info['cpu']}), {info['os']}, Python "
        f"{info['python']}, Node {info['node']}  ",
        f"Stack: {info['packages']}; promptfoo {PROMPTFOO_VERSION}; load average at start "
        f"{info['load_start']}, at end {loadavg()}  ",
        f"Setup: N = {n} `llm_judge` cases (one OpenAI judge scorer, the org's BYOK key), one "
        f"synchronous `POST /v1/run`; fake provider in its own process answering after "
        f"{lat:g} ms; `LAUNCHGATE_JUDGE_CONCURRENCY={c}`; ideal = ceil({n} / {c}) × {lat:g} ms "
        f"= {ideal:.2f} s. LaunchGate is measured warm (one unmeasured run first); promptfoo "
        f"is one `npx promptfoo eval` command, Node start-up included. 429 rows: the fake's "
        f"schedule answers every 10th of the first {n} chat requests it receives (retries "
        f'included) with 429 `retry-after: 1`; "ideal for the schedule" is a simulated '
        f"perfect FIFO limiter with that schedule (zero overhead, Retry-After honoured "
        f'exactly, no slot held while waiting). "first call after" = request (or command) start '
        f'→ first judge request at the fake; "answer after last call" = last judge answer → '
        f'response (or exit); "slot idle per call" = (slots × grading window − calls × '
        f"latency) / calls, the mean time a slot waits between an answer and its next call "
        f"(0 is perfect); CPU = the server's (LaunchGate) or the whole Node process tree's "
        f"(promptfoo), and the fake's.",
        "",
        "| Run | wall s | ideal s | wall / ideal | ideal for the schedule s | judge calls | "
        "429s | retries | max in flight | passed / failed / error | first call after s | "
        "answer after last call s | slot idle per call ms | tool's own duration s | "
        "CPU s (tool / fake) |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---|---:|---:|---:|---:|---|",
    ]
    for m in runs:
        lines.append(
            f"| {m.label} | {m.wall_s:.3f} | {m.ideal_s:.2f} | "
            f"{'–' if math.isnan(m.ratio) else f'**{m.ratio:.2f}×**'} | "
            f"{m.schedule_ideal_s:.2f} | {m.fake.requests} | {m.fake.statuses.get('429', 0)} | "
            f"{m.retries} | {m.fake.max_concurrent} | {m.passed} / {m.failed} / {m.errors} | "
            f"{fmt(m.first_call_after_s, 3)} | {fmt(m.answer_after_s, 3)} | "
            f"{fmt(m.turnaround_ms(c) if m.latency_ms else None, 1)} | "
            f"{fmt(m.server_s, 3)} | {fmt(m.cpu_s)} / {fmt(m.fake_cpu_s)} |"
        )
    notes = [f"- {m.label}: {note}" for m in runs for note in m.notes]
    if promptfoo_problem:
        notes.append(f"- promptfoo not measured: {promptfoo_problem}")
    if notes:
        lines += ["", "Problems:", "", *notes]

    clean = [
        m
        for m in runs
        if m.tool == "launchgate"
        and m.label.startswith("LaunchGate,")
        and "429" not in m.label
        and m.latency_ms == lat
    ]
    limited = [m for m in runs if m.tool == "launchgate" and "429" in m.label]
    pf_clean = next((m for m in runs if m.tool == "promptfoo" and "429" not in m.label), None)
    pf_limited = next((m for m in runs if m.tool == "promptfoo" and "429" in m.label), None)
    goals: list[tuple[str, str, bool]] = []
    if clean:
        median = statistics.median(m.ratio for m in clean)
        spread = f" (runs: {', '.join(f'{m.ratio:.2f}×' for m in clean)})" if len(clean) > 1 else ""
        goals.append(
            (
                f"≤ {GOAL_RATIO:.2f} × ideal, no errors injected (median)",
                f"{median:.2f}×{spread}",
                median <= GOAL_RATIO,
            )
        )
        concurrency = max(m.fake.max_concurrent for m in clean)
        goals.append(
            (
                f"never more than {c} judge calls in flight for the key",
                str(concurrency),
                concurrency <= c,
            )
        )
    if limited:
        m = limited[0]
        goals.append(
            (
                "10% 429: no case in error",
                f"{m.errors} in error, {m.retries} retries",
                m.errors == 0 and m.passed == n,
            )
        )
    lines += ["", "| Goal | Measured | Met |", "|---|---:|:---:|"]
    lines += [f"| {g} | {v} | {'yes' if ok else '**no**'} |" for g, v, ok in goals]

    ratios: list[str] = []
    base = [
        m for m in runs if m.tool == "baseline" and m.label.startswith("Baseline") and m.passed == n
    ]
    floor = next((m for m in runs if m.label.startswith("Floor") and m.passed == n), None)
    if floor:
        ratios.append(
            f"| Raw-client floor / ideal: the fake's and the machine's own share | "
            f"{floor.wall_s:.2f} s / {ideal:.2f} s = **{floor.wall_s / ideal:.2f}** |"
        )
    if base:
        base_wall = statistics.median(m.wall_s for m in base)
        ratios.append(
            f"| Provider-client baseline / ideal (median): LaunchGate's HTTP stack "
            f"alone, nothing else | "
            f"{base_wall:.2f} s / {ideal:.2f} s = **{base_wall / ideal:.2f}** |"
        )
        if clean:
            lg_wall = statistics.median(m.wall_s for m in clean)
            ratios.append(
                f"| LaunchGate / provider-client baseline, wall time (medians) | "
                f"{lg_wall:.2f} s / {base_wall:.2f} s = "
                f"**{lg_wall / base_wall:.2f}** |"
            )
    if clean and pf_clean and pf_clean.passed == n:
        best = min(clean, key=lambda m: abs(m.ratio - statistics.median(x.ratio for x in clean)))
        ratios.append(
            f"| LaunchGate / promptfoo, wall time ({lat:g} ms, no errors) | "
            f"{best.wall_s:.2f} s / {pf_clean.wall_s:.2f} s = "
            f"**{best.wall_s / pf_clean.wall_s:.2f}** |"
        )
        if best.window_s and pf_clean.window_s:
            ratios.append(
                f"| LaunchGate / promptfoo, grading window at the fake (first call "
                f"sent → last answer) | {best.window_s:.2f} s / "
                f"{pf_clean.window_s:.2f} s = "
                f"**{best.window_s / pf_clean.window_s:.2f}** |"
            )
    if limited and pf_limited and pf_limited.passed == n:
        m = limited[0]
        ratios.append(
            f"| LaunchGate / promptfoo, wall time with 10% 429 | {m.wall_s:.2f} s / "
            f"{pf_limited.wall_s:.2f} s = **{m.wall_s / pf_limited.wall_s:.2f}** |"
        )
    if ratios:
        lines += ["", "| Ratio | Value |", "|---|---:|", *ratios]
    met = all(ok for _, _, ok in goals) and bool(goals)
    return "\n".join(lines) + "\n", met


def write_results(block_text: str, path: Path) -> None:
    write_between_markers(
        path,
        BEGIN_MARK,
        END_MARK,
        block_text,
        lambda block: (
            "## LLM judge throughput\n\nProduced by `bench/judge_throughput.py` (how to "
            "run it and read it: [bench/README.md](README.md)). The block between the "
            "`judge:` markers is rewritten by every run; the analysis below it is written by "
            "hand and dated.\n\n### Latest run\n\n" + block + "\n"
        ),
    )


# --------------------------------------------------------------------------- main


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description="200 llm_judge cases in one run vs the ideal and vs promptfoo llm-rubric."
    )
    parser.add_argument(
        "--quick",
        action="store_true",
        help="one measured clean run (instead of --repeat) and no promptfoo run with 429s",
    )
    parser.add_argument("--cases", type=int, default=200, help="N judge cases (200)")
    parser.add_argument(
        "--concurrency",
        type=int,
        default=20,
        help="LAUNCHGATE_JUDGE_CONCURRENCY and promptfoo --max-concurrency (20)",
    )
    parser.add_argument(
        "--latency-ms",
        type=float,
        default=200.0,
        help="the fake provider's latency on every answer (200)",
    )
    parser.add_argument(
        "--repeat",
        type=int,
        default=3,
        help="measured clean LaunchGate runs; the goal uses the median (3)",
    )
    parser.add_argument("--no-promptfoo", action="store_true", help="skip promptfoo")
    parser.add_argument(
        "--promptfoo-dir",
        type=Path,
        default=None,
        help="where promptfoo is npm-installed (default: "
        "~/.cache/launchgate-bench/promptfoo-<version>, reused)",
    )
    parser.add_argument(
        "--fresh-promptfoo",
        action="store_true",
        help="install promptfoo into a new temporary directory, removed after",
    )
    parser.add_argument(
        "--write-promptfoo-tests",
        action="store_true",
        help="only rewrite bench/promptfoo/tests.yaml for --cases, then exit",
    )
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
        help="after the measurements, sample the server with py-spy over "
        "--profile-runs more runs and print where its CPU goes",
    )
    parser.add_argument("--profile-runs", type=int, default=3)
    parser.add_argument("--profile-rate", type=int, default=250, help="py-spy samples/s")
    parser.add_argument(
        "--keep-data",
        action="store_true",
        help="keep the temporary data dir, logs and promptfoo results",
    )
    parser.add_argument(
        "--baseline-client",
        nargs=6,
        help=argparse.SUPPRESS,
        metavar=("KIND", "BASE_URL", "N", "CONCURRENCY", "BODY_FILE", "KEY"),
    )
    args = parser.parse_args(argv)
    if args.quick:
        args.repeat = 1
    if args.cases < 1 or args.concurrency < 1 or args.repeat < 1 or args.latency_ms <= 0:
        parser.error("--cases, --concurrency, --repeat and --latency-ms must be positive")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.baseline_client:
        kind, base_url, count, concurrency, body, key = args.baseline_client
        baseline_client(kind, base_url, int(count), int(concurrency), Path(body), key)
        return 0
    n = args.cases
    if args.write_promptfoo_tests:
        (PROMPTFOO_SRC / "tests.yaml").write_text(promptfoo_tests(n))
        print(f"Wrote {PROMPTFOO_SRC / 'tests.yaml'} ({n} tests)")
        return 0
    started = dt.datetime.now(dt.UTC)
    load_start = loadavg()
    signal.signal(signal.SIGTERM, _raise_interrupt)
    signal.signal(signal.SIGINT, signal.default_int_handler)  # even if started with it ignored
    work = Path(tempfile.mkdtemp(prefix="launchgate-judge-bench-"))
    pf_tmp: Path | None = None
    runs: list[Measured] = []
    promptfoo_problem: str | None = None
    profile_md: str | None = None
    failing = {k for k in range(1, n + 1) if k % 10 == 0}
    fake_server: Server | None = None
    try:
        fake_port = free_port()
        fake_env = {k: v for k, v in os.environ.items() if not k.startswith("LAUNCHGATE_")}
        print(f"Fake provider on 127.0.0.1:{fake_port}, latency {args.latency_ms:g} ms", flush=True)
        fake_server = start_server(
            "fake-provider",
            [
                sys.executable,
                "-m",
                "launchgate.testing.fake_provider",
                "--host",
                "127.0.0.1",
                "--port",
                str(fake_port),
                "--latency-ms",
                str(args.latency_ms),
                "--log-level",
                "warning",
            ],
            fake_env,
            fake_port,
            work,
            None,
        )
        wait_fake(fake_server)
        fake = Fake(fake_server, fake_port)
        fake_pid = fake_server.proc.pid

        env = server_env(work / "data")
        env.pop("BYOK_ENCRYPTION_KEY_PREVIOUS", None)
        env.update(
            {
                "LAUNCHGATE_OPENAI_BASE_URL": f"{fake.base}/v1",
                "LAUNCHGATE_ALLOW_PRIVATE_PROVIDER_URLS": "true",
                "LAUNCHGATE_JUDGE_CONCURRENCY": str(args.concurrency),
                "BYOK_ENCRYPTION_KEY": secrets.token_hex(32),
            }
        )
        port = free_port()
        print(
            f"LaunchGate: launchgate serve on 127.0.0.1:{port}, data dir {work / 'data'}",
            flush=True,
        )
        server = start_server(
            "launchgate",
            [*launchgate_command(), "serve", "--host", "127.0.0.1", "--port", str(port)],
            env,
            port,
            work,
            None,
        )
        with running(server):
            api_key = create_org(env, "enterprise")
            openai_key = "sk-test-bench-" + secrets.token_hex(12)
            fingerprint = key_fingerprint(openai_key)
            setup_launchgate(server.url, api_key, openai_key, n)
            print(f"  org, BYOK key, project, scorer and {n} judge cases created", flush=True)

            fake.configure(latency_ms=0)
            measure_launchgate(
                "warm-up (not reported)", server, fake, fake_pid, api_key, fingerprint, n, args, 0.0
            )
            runs.append(
                measure_launchgate(
                    "LaunchGate at 0 ms latency (its own cost; ideal 0)",
                    server,
                    fake,
                    fake_pid,
                    api_key,
                    fingerprint,
                    n,
                    args,
                    0.0,
                )
            )
            runs[-1].ideal_s = runs[-1].schedule_ideal_s = 0.0
            fake.configure(latency_ms=args.latency_ms)
            for i in range(args.repeat):
                suffix = f", run {i + 1}/{args.repeat}" if args.repeat > 1 else ""
                runs.append(
                    measure_launchgate(
                        f"LaunchGate, {args.latency_ms:g} ms{suffix}",
                        server,
                        fake,
                        fake_pid,
                        api_key,
                        fingerprint,
                        n,
                        args,
                        args.latency_ms,
                    )
                )
            body_file = last_request_body(fake, fingerprint, work / "judge-request.json")
            for i in range(args.repeat):
                suffix = f", run {i + 1}/{args.repeat}" if args.repeat > 1 else ""
                runs.append(
                    measure_baseline(
                        "httpx",
                        f"Baseline: LaunchGate's provider client (send over aiohttp), "
                        f"Semaphore({args.concurrency}), "
                        f"{args.latency_ms:g} ms{suffix}",
                        fake,
                        fake_pid,
                        body_file,
                        n,
                        args,
                    )
                )
            runs.append(
                measure_baseline(
                    "raw",
                    f"Floor: raw asyncio HTTP/1.1 client, {args.concurrency} keep-alive "
                    f"connections, {args.latency_ms:g} ms",
                    fake,
                    fake_pid,
                    body_file,
                    n,
                    args,
                )
            )
            fake.configure(schedule={"openai": rate_limit_schedule(n)})
            runs.append(
                measure_launchgate(
                    f"LaunchGate, {args.latency_ms:g} ms, 10% 429 retry-after 1",
                    server,
                    fake,
                    fake_pid,
                    api_key,
                    fingerprint,
                    n,
                    args,
                    args.latency_ms,
                    failing,
                )
            )
            fake.configure(schedule={"openai": []})
            if args.profile:
                out_dir = Path(tempfile.mkdtemp(prefix="lg-judge-profile-"))
                profile_md = profile_phase(server, fake, api_key, n, args, out_dir)

        if not args.no_promptfoo:
            try:
                if args.fresh_promptfoo:
                    pf_tmp = Path(tempfile.mkdtemp(prefix="launchgate-promptfoo-"))
                    pf_dir = ensure_promptfoo(pf_tmp)
                else:
                    pf_dir = ensure_promptfoo(args.promptfoo_dir or default_promptfoo_dir())
            except BenchError as exc:
                promptfoo_problem = str(exc)
                print(f"  promptfoo skipped: {exc}", file=sys.stderr, flush=True)
            else:
                config = prepare_promptfoo_config(work, n)
                print(f"promptfoo {PROMPTFOO_VERSION} from {pf_dir}", flush=True)
                runs.append(
                    measure_promptfoo(
                        f"promptfoo llm-rubric, {args.latency_ms:g} ms",
                        pf_dir,
                        config,
                        fake,
                        fake_pid,
                        n,
                        args,
                        args.latency_ms,
                    )
                )
                if not args.quick:
                    fake.configure(schedule={"openai": rate_limit_schedule(n)})
                    runs.append(
                        measure_promptfoo(
                            f"promptfoo llm-rubric, {args.latency_ms:g} ms, 10% 429 retry-after 1",
                            pf_dir,
                            config,
                            fake,
                            fake_pid,
                            n,
                            args,
                            args.latency_ms,
                            failing,
                        )
                    )
                    fake.configure(schedule={"openai": []})
    except BenchError as exc:
        print(f"\nBench failed: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("\nInterrupted; processes stopped.", file=sys.stderr)
        return 130
    finally:
        if fake_server is not None:
            stop_server(fake_server)
        if pf_tmp is not None:
            shutil.rmtree(pf_tmp, ignore_errors=True)
        if args.keep_data:
            print(f"Data dir, logs and promptfoo results kept in {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)

    info = machine(node_version())
    info["load_start"] = load_start
    table, goals_met = render(runs, args, info, started, promptfoo_problem)
    print("\n" + table)
    bad = [m for m in runs if m.tool == "launchgate" and m.notes]
    if not args.no_write and not bad:
        write_results(table + (f"\n{profile_md}" if profile_md else ""), args.output)
        print(f"Written to {args.output}")
    if bad:
        print(
            "FAILED: a LaunchGate run did not clear every case (results file not written).",
            file=sys.stderr,
        )
        return 1
    if args.strict and not goals_met:
        print("Goals missed (--strict).", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
