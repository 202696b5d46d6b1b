"""Batch throughput (issue 14): one ``POST /v1/batches`` against the same outputs sent one
``POST /v1/run`` at a time, and a batch of judged items against the judge limiter's ideal.

One command, from the repository root:

    .venv/bin/python bench/batch_throughput.py            # ~1–2 min
    .venv/bin/python bench/batch_throughput.py --quick    # one measurement of each
    .venv/bin/python bench/batch_throughput.py --profile  # also py-spy the server

What it does:

1. Starts the fake provider (``python -m launchgate.testing.fake_provider``, its own
   process) and a real ``launchgate serve`` subprocess on a free port with a fresh temporary
   ``LAUNCHGATE_DATA_DIR`` (the embedded mode: SQLite, in-process worker), request limits
   off, ``LAUNCHGATE_OPENAI_BASE_URL`` at the fake, ``LAUNCHGATE_ALLOW_PRIVATE_PROVIDER_URLS=
   true``, ``LAUNCHGATE_JUDGE_CONCURRENCY=20`` and a random ``BYOK_ENCRYPTION_KEY``; every
   other ``LAUNCHGATE_*`` variable of the shell is dropped.
2. ``launchgate orgs create bench --json --plan enterprise`` (no usage limit), then through
   the API bench/run_latency.py's five-case deterministic suite (contains ×2, regex,
   exact_match, json_schema; the same output clears all five), an OpenAI BYOK key, one
   ``llm_judge`` scorer and a suite of 2 judge cases on it.
3. Warm-up, not reported: 20 single runs, a deterministic batch of 50 items, a judged batch
   of 10 items with the fake at 0 ms.
4. **Deterministic** (``--repeat`` times, 3): N = 1,000 single synchronous ``POST /v1/run``
   calls one after the other on one keep-alive ``httpx.Client`` (what a CI script without
   batches does), then the same N outputs as items of ONE synchronous ``POST /v1/batches``
   on the same client. Every single run must clear 5/5 and the batch must clear with N
   items cleared. Goal: batch / singles ≤ 0.25 (medians).
5. **Judged** (``--repeat`` times): one synchronous ``POST /v1/batches`` of M = 100 items on
   the 2-judge-case suite, the fake answering every call after 200 ms. Ideal =
   ceil(M × 2 / 20) × 0.2 s = 2.0 s: the 20 slots never idle. Goal: wall / ideal ≤ 1.15
   (median). The fake's counters give the calls (must be M × 2), the most in flight for
   the key (must be ≤ 20) and the first/last answer times.
6. Prints a Markdown table and writes it into bench/RESULTS.md between the
   ``batch:begin`` / ``batch:end`` markers, keeping the hand-written text outside them.

Every process it starts is stopped (also on Ctrl-C and SIGTERM); every request has a time
limit. Exit 1 when the bench itself fails (a server does not start, a request fails, an
item does not clear); ``--strict`` also when a goal is missed.
"""

from __future__ import annotations

import argparse
import collections
import contextlib
import datetime as dt
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
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

# The sibling benchmarks' helpers (python puts this script's directory on sys.path).
from judge_throughput import Fake, key_fingerprint, wait_fake
from run_latency import (
    CASES,
    PROJECT_SLUG,
    RUN_BODY,
    BenchError,
    Server,
    _raise_interrupt,
    _short,
    command_line,
    commit,
    create_org,
    create_suite,
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
BEGIN_MARK = "<!-- batch:begin (written by bench/batch_throughput.py; edit outside the markers) -->"
END_MARK = "<!-- batch:end -->"

GOAL_DETERMINISTIC_RATIO = 0.25
GOAL_JUDGE_RATIO = 1.15
CONCURRENCY = 20
JUDGE_SUITE = "batch-judge"
JUDGE_CASES = 2
THRESHOLD = 0.7
JUDGE_OUTPUT = "The capital of France is Paris. FAKE_SCORE=0.9"
REQUEST_TIMEOUT_S = 300.0


# --------------------------------------------------------------------------- setup


def setup_judge_suite(url: str, api_key: str, openai_key: str) -> None:
    """The BYOK key (the org's default), one llm_judge scorer, a suite of two cases on it."""
    import httpx

    with httpx.Client(
        base_url=url + "/v1", timeout=60.0, headers={"Authorization": f"Bearer {api_key}"}
    ) as client:

        def post(path: str, payload: dict[str, Any]) -> dict[str, Any]:
            answer = client.post(path, json=payload)
            if answer.status_code != 201:
                raise BenchError(f"POST /v1{path} answered {answer.status_code}: {answer.text}")
            data: dict[str, Any] = answer.json()["data"]
            return data

        post(
            "/byok-keys",
            {"provider": "openai", "name": "bench", "key": openai_key, "is_default": True},
        )
        scorer = post(
            f"/projects/{PROJECT_SLUG}/scorers",
            {
                "name": "capital judge",
                "type": "llm_judge",
                "config": {"rubric": "Score 1 when the answer names Paris.", "_provider": "openai"},
            },
        )
        suite = post(
            f"/projects/{PROJECT_SLUG}/suites",
            {"name": "Batch judge", "slug": JUDGE_SUITE, "pass_threshold": 1.0},
        )
        for i in range(JUDGE_CASES):
            post(
                f"/suites/{suite['id']}/cases",
                {"name": f"judged {i}", "scorer_id": scorer["id"], "threshold": THRESHOLD},
            )


def deterministic_items(n: int) -> list[dict[str, Any]]:
    """The single runs' output and input, as ``n`` keyed batch items."""
    return [
        {"output": RUN_BODY["output"], "input": RUN_BODY["input"], "key": f"row-{i:05d}"}
        for i in range(n)
    ]


def judge_items(n: int) -> list[dict[str, Any]]:
    return [{"output": JUDGE_OUTPUT, "key": f"row-{i:05d}"} for i in range(n)]


# --------------------------------------------------------------------------- measuring


@dataclass
class Measured:
    """One timed phase: a loop of single runs, or one batch."""

    label: str
    kind: str  # "singles" | "batch" | "judge"
    items: int
    wall_s: float
    cpu_s: float  # the LaunchGate server's user + system CPU over the phase
    cleared: int  # single runs / items that cleared
    ideal_s: float | None = None
    fake_calls: int | None = None
    fake_max_in_flight: int | None = None
    first_call_after_s: float | None = None  # request start → first judge call sent
    answer_after_s: float | None = None  # last judge answer → response
    batch_id: str | None = None
    problems: list[str] = field(default_factory=list)

    @property
    def per_item_ms(self) -> float:
        return 1000 * self.wall_s / self.items

    @property
    def ratio(self) -> float | None:
        return self.wall_s / self.ideal_s if self.ideal_s else None


def client(api_key: str) -> Any:
    import httpx

    return httpx.Client(timeout=REQUEST_TIMEOUT_S, headers={"Authorization": f"Bearer {api_key}"})


def post_batch(http: Any, url: str, suite: str, items: list[dict[str, Any]]) -> dict[str, Any]:
    """One synchronous batch; its answer (the completed batch)."""
    body = {
        "suite": suite,
        "project": PROJECT_SLUG,
        "items": items,
        "trigger": "api",
        "trigger_meta": {"bench": "batch_throughput"},
    }
    answer = http.post(url + "/v1/batches", json=body)
    if answer.status_code != 200:
        raise BenchError(f"POST /v1/batches answered {answer.status_code}: {answer.text[:2000]}")
    data: dict[str, Any] = answer.json()["data"]
    return data


def batch_problems(batch: dict[str, Any], n: int, cases: int) -> list[str]:
    """What is wrong with a batch that should have cleared all ``n`` items."""
    counts = batch["items"]
    problems = []
    if batch["status"] != "cleared" or counts["cleared"] != n or counts["total"] != n:
        problems.append(f"batch {batch['id']} `{batch['status']}` with items {counts}")
    if len(batch.get("cases") or []) != cases:
        problems.append(f"batch {batch['id']} reports {len(batch.get('cases') or [])} cases")
    return problems


def measure_singles(server: Server, api_key: str, n: int, label: str) -> Measured:
    """``n`` synchronous POST /v1/run, one after the other, on one keep-alive client."""
    with client(api_key) as http:
        http.get(server.url + "/health")  # connect before the clock starts
        cpu0 = process_cpu_s(server.proc.pid)
        started = time.perf_counter()
        answers = [http.post(server.url + "/v1/run", json=RUN_BODY) for _ in range(n)]
        wall = time.perf_counter() - started
        cpu = process_cpu_s(server.proc.pid) - cpu0
    bad = [a for a in answers if a.status_code != 200]
    if bad:
        raise BenchError(
            f"{len(bad)} of {n} POST /v1/run failed; first: {bad[0].status_code} "
            f"{bad[0].text[:1000]}"
        )
    cleared = sum(
        a.json()["status"] == "cleared" and a.json()["passed_cases"] == len(CASES) for a in answers
    )
    m = Measured(label, "singles", n, wall, cpu, cleared)
    if cleared != n:
        m.problems.append(f"{n - cleared} of {n} single runs did not clear {len(CASES)}/5")
    return m


def measure_batch(server: Server, api_key: str, n: int, label: str) -> Measured:
    """One synchronous POST /v1/batches of the same ``n`` outputs, on a keep-alive client."""
    items = deterministic_items(n)
    with client(api_key) as http:
        http.get(server.url + "/health")
        cpu0 = process_cpu_s(server.proc.pid)
        started = time.perf_counter()
        batch = post_batch(http, server.url, str(RUN_BODY["suite"]), items)
        wall = time.perf_counter() - started
        cpu = process_cpu_s(server.proc.pid) - cpu0
    m = Measured(label, "batch", n, wall, cpu, int(batch["items"]["cleared"]), batch_id=batch["id"])
    m.problems += batch_problems(batch, n, len(CASES))
    return m


def judge_ideal_s(items: int, latency_ms: float) -> float:
    return math.ceil(items * JUDGE_CASES / CONCURRENCY) * latency_ms / 1000


def measure_judge(
    server: Server,
    fake: Fake,
    api_key: str,
    fingerprint: str,
    n: int,
    latency_ms: float,
    label: str,
) -> Measured:
    """One synchronous judged batch of ``n`` items, the fake's counters fresh."""
    fake.reset_counters()
    with client(api_key) as http:
        http.get(server.url + "/health")
        cpu0 = process_cpu_s(server.proc.pid)
        t_start = time.time()
        started = time.perf_counter()
        batch = post_batch(http, server.url, JUDGE_SUITE, judge_items(n))
        wall = time.perf_counter() - started
        t_end = time.time()
        cpu = process_cpu_s(server.proc.pid) - cpu0
    counters = fake.admin("GET", "counters")["keys"].get(fingerprint, {})
    ends = [
        r["at"]
        for r in fake.admin("GET", "requests?provider=openai")["requests"]
        if r["key_fingerprint"] == fingerprint and r["endpoint"] == "chat"
    ]
    m = Measured(
        label,
        "judge",
        n,
        wall,
        cpu,
        int(batch["items"]["cleared"]),
        ideal_s=judge_ideal_s(n, latency_ms) or None,
        fake_calls=int(counters.get("endpoints", {}).get("chat", 0)),
        fake_max_in_flight=int(counters.get("max_concurrent", 0)),
        first_call_after_s=(min(ends) - latency_ms / 1000 - t_start) if ends else None,
        answer_after_s=(t_end - max(ends)) if ends else None,
        batch_id=batch["id"],
    )
    m.problems += batch_problems(batch, n, JUDGE_CASES)
    if m.fake_calls != n * JUDGE_CASES:
        m.problems.append(f"the fake saw {m.fake_calls} judge calls, not {n * JUDGE_CASES}")
    return m


# --------------------------------------------------------------------------- profile

# Where the server's GIL time goes in a batch: the first bucket with a frame in the stack.
PROFILE_BUCKETS: list[tuple[str, tuple[str, ...]]] = [
    ("HTTP client to the provider (httpx/httpcore/h11)", ("(httpx/", "(httpcore/", "(h11/")),
    ("judge: prompt, limiter, provider wire, verdict", ("(launchgate/providers/",)),
    # A judged item's three units of work (runs/execution.py), each its own transaction.
    ("judged item: claim (UPDATE runs → running)", ("start_pending (launchgate/runs/exec",)),
    (
        "judged item: read (run row, BYOK key and decrypt, cached verdicts)",
        ("RunJudge.prepare (", "get_any (launchgate/runs/repository"),
    ),
    (
        "judged item: completion (UPDATE runs with scores, key use, verdict cache, usage)",
        ("_complete (launchgate/runs/execution",),
    ),
    ("COMMIT at the end of a unit of work", ("unit_of_work (launchgate/db",)),
    (
        "database, caller not on the stack (SQLAlchemy's greenlet, aiosqlite's threads, "
        "the group-commit writer)",
        ("(launchgate/runs/writer", "(sqlalchemy/", "(aiosqlite/", "(launchgate/db"),
    ),
    ("worker dispatch (taskiq)", ("(taskiq/", "(launchgate/worker/")),
    ("scoring: engine and built-in scorers", ("(launchgate/runs/engine", "(launchgate/scorers/")),
    ("batch verdict and statistics", ("(launchgate/batches/verdict", "(launchgate/batches/stat")),
    ("request body: JSON parse + validation (pydantic)", ("(pydantic", "Request.json")),
    ("logging", ("(logging/", "(structlog/")),
    ("other LaunchGate code", ("(launchgate/",)),
    ("FastAPI/Starlette/uvicorn", ("(fastapi/", "(starlette/", "(uvicorn/")),
    ("asyncio event loop", ("(asyncio/",)),
]


_LOOP_ROOT = "Runner.run (asyncio/runners"


def summarise_profile(raw: Path) -> tuple[list[tuple[str, int]], int, list[tuple[str, int]]]:
    buckets: collections.Counter[str] = collections.Counter()
    leaves: collections.Counter[str] = collections.Counter()
    total = 0
    for line in raw.read_text(errors="replace").splitlines():
        stack, _, count_text = line.rpartition(" ")
        if not stack or not count_text.isdigit():
            continue
        frames = [_short(f) for f in stack.split(";")]
        count = int(count_text)
        total += count
        # Below the event loop's root (the CLI, uvicorn.run, asyncio.run are on every stack).
        root = next((i for i, f in enumerate(frames) if _LOOP_ROOT in f), -1)
        below = frames[root + 1 :]
        name = next(
            (n for n, pats in PROFILE_BUCKETS if any(p in f for f in below for p in pats)),
            "other",
        )
        buckets[name] += count
        leaves[re.sub(r":\d+\)$", ")", frames[-1])] += count
    return buckets.most_common(), total, leaves.most_common(10)


def profile(
    server: Server, label: str, work: Callable[[], Any], rate: int, out_dir: Path
) -> str | None:
    """Sample the server with py-spy while ``work`` runs; a Markdown section, or None."""
    spy = find_py_spy()
    if spy is None:
        print("py-spy not found: .venv/bin/pip install py-spy   (profile skipped)")
        return None
    raw = out_dir / f"{re.sub(r'[^a-z0-9]+', '-', label.lower())}.collapsed.txt"
    recorder = subprocess.Popen(
        [
            *(spy, "record", "--pid", str(server.proc.pid), "--rate", str(rate), "--gil"),
            *("--format", "raw", "--output", str(raw)),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    spy_err = ""
    try:
        time.sleep(1.0)
        cpu0 = process_cpu_s(server.proc.pid)
        started = time.perf_counter()
        work()
        wall = time.perf_counter() - started
        cpu = process_cpu_s(server.proc.pid) - cpu0
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
    buckets, total, leaves = summarise_profile(raw)
    lines = [
        f"Profile of {label}: py-spy {rate} Hz (`--gil`), {wall:.2f} s wall while sampled, "
        f"server CPU {cpu:.2f} s, {total} samples.",
        "",
        "| Where the server's GIL time goes | Share | ≈ CPU s |",
        "|---|---:|---:|",
    ]
    for name, count in buckets:
        share = count / total if total else 0.0
        lines.append(f"| {name} | {100 * share:.1f}% | {share * cpu:.2f} |")
    lines += ["", "Busiest leaf frames (self time):", ""]
    lines += [f"- {100 * count / total:.1f}% `{frame}`" for frame, count in leaves]
    lines += ["", f"Collapsed stacks: `{raw}` (open in speedscope.app, or flamegraph.pl)."]
    section = "\n".join(lines) + "\n"
    print("\n" + section)
    return section


# --------------------------------------------------------------------------- the bench


@dataclass
class Report:
    started: dt.datetime
    runs: list[Measured] = field(default_factory=list)
    info: dict[str, str] = field(default_factory=dict)
    profiles: list[str] = field(default_factory=list)
    elapsed_s: float = 0.0

    def of(self, kind: str) -> list[Measured]:
        return [m for m in self.runs if m.kind == kind]


def start_fake(work: Path, latency_ms: float) -> Server:
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("LAUNCHGATE_")}
    server = start_server(
        "fake-provider",
        [
            *(sys.executable, "-m", "launchgate.testing.fake_provider", "--host", "127.0.0.1"),
            *("--port", str(port), "--latency-ms", str(latency_ms), "--log-level", "warning"),
        ],
        env,
        port,
        work,
        None,
    )
    wait_fake(server)
    return server


def start_launchgate(work: Path, fake: Fake) -> tuple[Server, dict[str, str]]:
    env = server_env(work / "data")
    env.pop("BYOK_ENCRYPTION_KEY_PREVIOUS", None)
    env.update(
        {
            "LAUNCHGATE_OPENAI_BASE_URL": f"{fake.base}/v1",
            "LAUNCHGATE_ALLOW_PRIVATE_PROVIDER_URLS": "true",
            "LAUNCHGATE_JUDGE_CONCURRENCY": str(CONCURRENCY),
            "LAUNCHGATE_SYNC_RUN_TIMEOUT_S": str(REQUEST_TIMEOUT_S),
            "BYOK_ENCRYPTION_KEY": secrets.token_hex(32),
        }
    )
    port = free_port()
    server = start_server(
        "launchgate",
        [*launchgate_command(), "serve", "--host", "127.0.0.1", "--port", str(port)],
        env,
        port,
        work,
        None,
    )
    return server, env


def run_bench(args: argparse.Namespace, log: Callable[[str], None] = print) -> Report:
    """Start the fake and the server, set up, warm up, measure, stop both.

    The core of the command, without signals, printing of the table or the results file,
    so that a test can run it with tiny sizes.
    """
    report = Report(dt.datetime.now(dt.UTC))
    report.info = machine_info(("fastapi", "uvicorn", "pydantic", "sqlalchemy", "httpx"))
    report.info["load_start"] = loadavg()
    report.info["commit"] = commit()
    clock = time.perf_counter()
    work = Path(tempfile.mkdtemp(prefix="launchgate-batch-bench-"))
    fake_server: Server | None = None
    try:
        fake_server = start_fake(work, args.latency_ms)
        fake = Fake(fake_server, int(fake_server.url.rsplit(":", 1)[1]))
        server, env = start_launchgate(work, fake)
        log(f"LaunchGate: launchgate serve at {server.url}, fake provider at {fake.base}")
        with running(server):
            api_key = create_org(env, "enterprise")
            create_suite(server.url, api_key)
            openai_key = "sk-test-batch-bench-" + secrets.token_hex(12)
            fingerprint = key_fingerprint(openai_key)
            setup_judge_suite(server.url, api_key, openai_key)
            log(f"  org, deterministic suite of {len(CASES)} cases, judge suite of 2 cases")
            warm_up(server, fake, api_key, fingerprint, args)
            log("  warmed up")
            for i in range(args.repeat):
                suffix = f", run {i + 1}/{args.repeat}" if args.repeat > 1 else ""
                for m in (
                    measure_singles(
                        server, api_key, args.items, f"{args.items} single runs{suffix}"
                    ),
                    measure_batch(
                        server, api_key, args.items, f"1 batch of {args.items} items{suffix}"
                    ),
                ):
                    report.runs.append(m)
                    log(f"  {m.label}: {m.wall_s:.3f} s, server CPU {m.cpu_s:.2f} s")
            fake.configure(latency_ms=args.latency_ms)
            for i in range(args.repeat):
                suffix = f", run {i + 1}/{args.repeat}" if args.repeat > 1 else ""
                m = measure_judge(
                    server,
                    fake,
                    api_key,
                    fingerprint,
                    args.judge_items,
                    args.latency_ms,
                    f"1 batch of {args.judge_items} judged items{suffix}",
                )
                report.runs.append(m)
                log(
                    f"  {m.label}: {m.wall_s:.3f} s = {fmt(m.ratio)} × ideal "
                    f"{fmt(m.ideal_s)} s; {m.fake_calls} calls, max {m.fake_max_in_flight} "
                    "in flight"
                )
            if args.profile:
                report.profiles = profile_phases(server, fake, api_key, fingerprint, args)
    finally:
        if fake_server is not None:
            stop_server(fake_server)
        if args.keep_data:
            log(f"Data dir and logs kept in {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)
    report.info["load_end"] = loadavg()
    report.elapsed_s = time.perf_counter() - clock
    return report


def warm_up(
    server: Server, fake: Fake, api_key: str, fingerprint: str, args: argparse.Namespace
) -> None:
    """Unmeasured: imports, caches, the SQLite file and the HTTP pools are warm after it."""
    measure_singles(server, api_key, min(20, args.items), "warm-up")
    measure_batch(server, api_key, min(50, args.items), "warm-up")
    fake.configure(latency_ms=0)
    measure_judge(server, fake, api_key, fingerprint, min(10, args.judge_items), 0, "warm-up")


def profile_phases(
    server: Server, fake: Fake, api_key: str, fingerprint: str, args: argparse.Namespace
) -> list[str]:
    out = Path(tempfile.mkdtemp(prefix="lg-batch-profile-"))
    sections = [
        profile(
            server,
            f"one batch of {args.items} deterministic items",
            lambda: measure_batch(server, api_key, args.items, "profile"),
            args.profile_rate,
            out,
        ),
        profile(
            server,
            f"{args.items} single runs",
            lambda: measure_singles(server, api_key, args.items, "profile"),
            args.profile_rate,
            out,
        ),
        profile(
            server,
            f"one batch of {args.judge_items} judged items at {args.latency_ms:g} ms",
            lambda: measure_judge(
                server,
                fake,
                api_key,
                fingerprint,
                args.judge_items,
                args.latency_ms,
                "profile",
            ),
            args.profile_rate,
            out,
        ),
    ]
    return [s for s in sections if s]


# --------------------------------------------------------------------------- report


def fmt(value: float | None, digits: int = 2) -> str:
    return "–" if value is None or math.isnan(value) else f"{value:.{digits}f}"


@dataclass(frozen=True)
class Goal:
    text: str
    measured: str
    met: bool


def goals(report: Report) -> list[Goal]:
    found: list[Goal] = []
    singles, batches, judged = report.of("singles"), report.of("batch"), report.of("judge")
    if singles and batches:
        single_s = statistics.median(m.wall_s for m in singles)
        batch_s = statistics.median(m.wall_s for m in batches)
        ratio = batch_s / single_s
        # The server's CPU moves much less with other load on the machine than wall time.
        cpu_ratio = statistics.median(m.cpu_s for m in batches) / statistics.median(
            m.cpu_s for m in singles
        )
        found.append(
            Goal(
                f"{batches[0].items} deterministic items: one batch ≤ "
                f"{GOAL_DETERMINISTIC_RATIO:.2f} × the single runs (medians of wall time)",
                f"{batch_s:.2f} s / {single_s:.2f} s = {ratio:.3f}× (server CPU: {cpu_ratio:.3f}×)",
                ratio <= GOAL_DETERMINISTIC_RATIO,
            )
        )
    if judged:
        ratio = statistics.median(m.ratio or math.inf for m in judged)
        spread = ", ".join(f"{fmt(m.ratio)}×" for m in judged)
        found.append(
            Goal(
                f"{judged[0].items} items × {JUDGE_CASES} judge cases: wall ≤ "
                f"{GOAL_JUDGE_RATIO:.2f} × ideal {fmt(judged[0].ideal_s)} s (median)",
                f"{ratio:.2f}× (runs: {spread})",
                ratio <= GOAL_JUDGE_RATIO,
            )
        )
        most = max(m.fake_max_in_flight or 0 for m in judged)
        found.append(
            Goal(
                f"never more than {CONCURRENCY} judge calls in flight for the key",
                str(most),
                most <= CONCURRENCY,
            )
        )
    return found


def render(report: Report, args: argparse.Namespace) -> tuple[str, bool]:
    """The Markdown block for RESULTS.md, and whether every goal was met."""
    info = report.info
    lines = [
        f"Command: `{command_line()}`  ",
        f"Date: {report.started.strftime('%Y-%m-%d %H:%M UTC')}; took "
        f"{report.elapsed_s:.0f} s; commit {info['commit']}  ",
        f"Machine: {info['cores']} cores ({info['cpu']}), {info['os']}, Python "
        f"{info['python']}; load average at start {info['load_start']}, at end "
        f"{info['load_end']}  ",
        f"Stack: {info['packages']}  ",
        f"Setup: one `launchgate serve` (embedded: SQLite, in-process worker) and the fake "
        f"provider, each its own process. Deterministic: bench/run_latency.py's suite of "
        f"{len(CASES)} cases (contains ×2, regex, exact_match, json_schema) and output; "
        f"{args.items} synchronous `POST /v1/run` one after the other on one keep-alive "
        f"httpx client, then the same {args.items} outputs as the items of one synchronous "
        f"`POST /v1/batches` on the same client. Judged: one synchronous `POST /v1/batches` "
        f"of {args.judge_items} items on a suite of {JUDGE_CASES} `llm_judge` cases, the fake "
        f"answering after {args.latency_ms:g} ms, `LAUNCHGATE_JUDGE_CONCURRENCY="
        f"{CONCURRENCY}`; ideal = ceil({args.judge_items} × {JUDGE_CASES} / {CONCURRENCY}) × "
        f"{args.latency_ms:g} ms = {fmt(judge_ideal_s(args.judge_items, args.latency_ms))} s. "
        f"Warm-up first (20 single runs, a batch of 50, a judged batch of 10; not reported). "
        f'"first call after" = request sent → first judge call at the fake; "answer after '
        f'last call" = last judge answer → response.',
        "",
        "| Phase | items | wall s | ms per item | server CPU s | cleared | wall / ideal | "
        "judge calls | max in flight | first call after s | answer after last call s |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for m in report.runs:
        lines.append(
            f"| {m.label} | {m.items} | {m.wall_s:.3f} | {m.per_item_ms:.2f} | {m.cpu_s:.2f} | "
            f"{m.cleared} | {fmt(m.ratio)} | {m.fake_calls if m.fake_calls is not None else '–'}"
            f" | {m.fake_max_in_flight if m.fake_max_in_flight is not None else '–'} | "
            f"{fmt(m.first_call_after_s, 3)} | {fmt(m.answer_after_s, 3)} |"
        )
    problems = [f"- {m.label}: {p}" for m in report.runs for p in m.problems]
    if problems:
        lines += ["", "Problems:", "", *problems]
    found = goals(report)
    lines += ["", "| Goal (issue 14) | Measured | Met |", "|---|---:|:---:|"]
    lines += [f"| {g.text} | {g.measured} | {'yes' if g.met else '**no**'} |" for g in found]
    for section in report.profiles:
        lines += ["", section.rstrip("\n")]
    ok = bool(found) and all(g.met for g in found) and not problems
    return "\n".join(lines) + "\n", ok


def write_results(block: str, path: Path) -> None:
    write_between_markers(
        path,
        BEGIN_MARK,
        END_MARK,
        block,
        lambda text: (
            "## Batch throughput\n\nProduced by `.venv/bin/python bench/batch_throughput.py` "
            "(issue 14; how to run it and read it: [bench/README.md](README.md)). The block "
            "between the `batch:` markers is rewritten by every run.\n\n### Latest run\n\n"
            + text
            + "\n"
        ),
    )


# --------------------------------------------------------------------------- main


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description="One POST /v1/batches vs single POST /v1/run calls, and a judged batch "
        "vs the judge limiter's ideal."
    )
    parser.add_argument(
        "--items", type=int, default=1000, help="deterministic items and single runs (1000)"
    )
    parser.add_argument("--judge-items", type=int, default=100, help="judged items (100)")
    parser.add_argument(
        "--latency-ms", type=float, default=200.0, help="the fake's latency per judge call (200)"
    )
    parser.add_argument(
        "--repeat", type=int, default=3, help="measurements of each phase; goals use medians (3)"
    )
    parser.add_argument("--quick", action="store_true", help="--repeat 1")
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
        help="after the measurements, sample the server with py-spy over one more of each "
        "phase and print where its time goes",
    )
    parser.add_argument("--profile-rate", type=int, default=250, help="py-spy samples/s (250)")
    parser.add_argument("--keep-data", action="store_true", help="keep the data dir and logs")
    args = parser.parse_args(argv)
    if args.quick:
        args.repeat = 1
    if min(args.items, args.judge_items, args.repeat) < 1 or args.latency_ms <= 0:
        parser.error("--items, --judge-items, --repeat and --latency-ms must be positive")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    signal.signal(signal.SIGTERM, _raise_interrupt)
    signal.signal(signal.SIGINT, signal.default_int_handler)  # even if started with it ignored
    import httpx

    try:
        report = run_bench(args, lambda line: print(line, flush=True))
    except (BenchError, httpx.HTTPError, subprocess.SubprocessError) as exc:
        print(f"\nBench failed: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("\nInterrupted; processes stopped.", file=sys.stderr)
        return 130
    table, ok = render(report, args)
    print("\n" + table)
    if any(m.problems for m in report.runs):
        print("FAILED: an item did not clear (results file not written).", file=sys.stderr)
        return 1
    if not args.no_write:
        write_results(table, args.output)
        print(f"Written to {args.output}")
    if args.strict and not ok:
        print("A goal was missed (--strict).", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
