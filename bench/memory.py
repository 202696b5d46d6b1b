"""Resident memory of ``launchgate serve``: idle after start, and over 100,000 runs.

One command, from the repository root:

    .venv/bin/python bench/memory.py            # 100,000 runs (~5-10 min on 2 cores)
    .venv/bin/python bench/memory.py --quick    # 20,000 runs, a smoke check

What it does:

1. Starts a real ``launchgate serve`` (embedded SQLite, limits off, every other
   ``LAUNCHGATE_*`` setting of the shell dropped), as bench/run_latency.py does, and reads
   its resident set size (``VmRSS``, with ``RssAnon``: the heap, and ``RssFile``: mapped
   files and shared libraries) from ``/proc/<pid>/status`` once ``/health`` answers and
   the process has been quiet for ``--settle`` seconds: **idle after start**.
2. Creates run_latency.py's five-case deterministic suite (contains ×2, regex,
   exact_match, json_schema), then sends ``--runs`` synchronous ``POST /v1/run`` with wrk
   (``--connections`` connections, 1 thread) in steps of ``--step`` runs, reading the RSS
   after each step: a table of RSS against runs done.
3. Does the same with bench/baseline_app.py (a bare FastAPI POST endpoint served the way
   ``launchgate serve`` serves the API): its idle RSS is the floor the framework, the
   interpreter and uvicorn cost on this machine; its RSS over the same number of requests
   shows the noise of a process that keeps nothing per request.
4. Reads, in a fresh interpreter that takes ``serve``'s start-up steps in its order (the
   CLI, settings, logging, the migration, the secret checks, the big imports, the app,
   the runtime), the RSS after each step: where the idle RSS comes from; and which of
   the libraries the server imports only when first needed (``DEFERRED``) a started
   server has loaded anyway.
5. Prints a Markdown table with the goals (≤ 120 MB idle, ≤ 200 MB after 100,000 runs, no
   growth beyond noise between the 50,000th and the 100,000th run: ≤ 2 MiB) and writes it
   into bench/RESULTS.md between the ``memory:begin`` / ``memory:end`` markers.

The servers it started are always stopped (also on Ctrl-C). Exit 1 if any answer is not
200 or on any socket error; ``--strict`` also when a goal is missed. MB here is 10^6 bytes
for the goals (as the issue states them) and MiB for the growth bound.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

# The sibling benchmark's helpers (python puts this script's directory on sys.path).
from run_latency import (
    REPO,
    RESULTS,
    RUN_BODY,
    BenchError,
    Server,
    _raise_interrupt,
    command_line,
    commit,
    create_org,
    create_suite,
    ensure_wrk,
    free_port,
    launchgate_command,
    loadavg,
    machine,
    running,
    server_env,
    start_server,
    write_between_markers,
)

BENCH_DIR = Path(__file__).resolve().parent
BEGIN_MARK = "<!-- memory:begin (written by bench/memory.py; edit outside the markers) -->"
END_MARK = "<!-- memory:end -->"
GOAL_IDLE_MB = 120.0
GOAL_AFTER_MB = 200.0
GOAL_GROWTH_MIB = 2.0

# wrk script: POST the body until this thread has had BENCH_LIMIT answers, then stop;
# count the answers that are not 200 and print one result line.
LUA = r"""
local handle = assert(io.open(os.getenv("BENCH_BODY_FILE"), "rb"))
wrk.method = "POST"
wrk.body = handle:read("*a")
handle:close()
wrk.headers["Content-Type"] = "application/json"
local auth = os.getenv("BENCH_AUTH")
if auth and auth ~= "" then wrk.headers["Authorization"] = auth end
local limit = tonumber(os.getenv("BENCH_LIMIT"))
responses = 0
non200 = 0
first_bad = ""
local threads = {}
function setup(thread) table.insert(threads, thread) end
function response(status, headers, body)
  responses = responses + 1
  if status ~= 200 then
    non200 = non200 + 1
    if first_bad == "" then first_bad = status .. " " .. string.sub(body or "", 1, 200) end
  end
  if responses == limit then
    -- wrk's main thread sleeps for the whole -d: tell the bench, which sends SIGINT.
    local flag = assert(io.open(os.getenv("BENCH_DONE_FILE"), "w"))
    flag:write("done")
    flag:close()
    wrk.thread:stop()
  end
end
function done(summary, latency, requests)
  local total, bad, first = 0, 0, ""
  for _, t in ipairs(threads) do
    total = total + (t:get("responses") or 0)
    bad = bad + (t:get("non200") or 0)
    if first == "" then first = t:get("first_bad") or "" end
  end
  local e = summary.errors
  first = string.gsub(string.gsub(first, "[%c\"\\]", " "), "%s+", " ")
  io.write(string.format(
    "BENCH_RESULT {\"responses\":%d,\"non200\":%d,\"seconds\":%.3f,\"socket_errors\":%d," ..
    "\"first_bad\":\"%s\"}\n",
    total, bad, summary.duration / 1e6, e.connect + e.read + e.write + e.timeout, first))
end
"""


# --------------------------------------------------------------------------- measuring


def rss(pid: int) -> dict[str, float]:
    """VmRSS, RssAnon and RssFile of a process in bytes (Linux /proc)."""
    values: dict[str, float] = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        key, _, rest = line.partition(":")
        if key in ("VmRSS", "RssAnon", "RssFile", "RssShmem"):
            values[key] = float(rest.split()[0]) * 1024
    return values


def settle(pid: int, seconds: float) -> dict[str, float]:
    """The RSS once the process has been idle for ``seconds`` (no request in flight)."""
    time.sleep(seconds)
    return rss(pid)


def drive(wrk: str, url: str, body_file: Path, auth: str, runs: int, connections: int) -> int:
    """``runs`` POSTs (a few more: the answers in flight when wrk stops); returns how many
    were answered. Fails on any non-200 answer or socket error."""
    script = body_file.with_name("limit.lua")
    script.write_text(LUA)
    flag = body_file.with_name("wrk.done")
    flag.unlink(missing_ok=True)
    argv = [wrk, "-t1", f"-c{connections}", "-d3600s", "--timeout", "10s", "-s", str(script)]
    env = dict(
        os.environ,
        BENCH_BODY_FILE=str(body_file),
        BENCH_AUTH=auth,
        BENCH_LIMIT=str(runs),
        BENCH_DONE_FILE=str(flag),
    )
    proc = subprocess.Popen(
        [*argv, url + "/v1/run"], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    try:
        while not flag.exists() and proc.poll() is None:
            time.sleep(0.05)
        if proc.poll() is None:
            proc.send_signal(signal.SIGINT)  # wrk then joins its thread and prints done()
        stdout, stderr = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    for line in stdout.splitlines():
        if line.startswith("BENCH_RESULT "):
            result = json.loads(line.removeprefix("BENCH_RESULT "))
            if result["non200"] or result["socket_errors"]:
                raise BenchError(
                    f"{result['non200']} non-200 answers, {result['socket_errors']} socket "
                    f"errors (first: {result['first_bad']})"
                )
            return int(result["responses"])
    raise BenchError(f"wrk printed no result (exit {proc.returncode}):\n{stdout}{stderr}")


@dataclass
class Series:
    """One server's RSS: idle after start, then after each step of runs."""

    name: str
    idle: dict[str, float] = field(default_factory=dict)
    samples: list[tuple[int, dict[str, float]]] = field(default_factory=list)
    seconds: float = 0.0

    def at(self, runs: int) -> dict[str, float] | None:
        """The first sample taken at or after ``runs`` runs."""
        return next((s for n, s in self.samples if n >= runs), None)


def measure(
    server: Server,
    name: str,
    wrk: str,
    body_file: Path,
    auth: str,
    args: argparse.Namespace,
    setup: Any = None,
) -> Series:
    series = Series(name)
    pid = server.proc.pid
    series.idle = settle(pid, args.settle)
    print(f"  {name}: idle after start {mb(series.idle['VmRSS'])} MB", flush=True)
    if setup is not None:
        setup()
    done = 0
    started = time.monotonic()
    while done < args.runs:
        done += drive(
            wrk, server.url, body_file, auth, min(args.step, args.runs - done), args.connections
        )
        sample = settle(pid, 0.5)
        series.samples.append((done, sample))
        print(
            f"    {done:>7} runs: RSS {mb(sample['VmRSS'])} MB (anon {mb(sample['RssAnon'])})"
            f"  load {loadavg()}",
            flush=True,
        )
    series.seconds = time.monotonic() - started
    return series


# Libraries a started embedded server imports only when first needed (the job queue, the
# provider client, the dashboard's templates, the regex and schema engines, the request
# limits when off, rich's tracebacks): the probe reports any that the start loaded anyway.
DEFERRED = (
    "taskiq",
    "aiohttp",
    "httpx",
    "jinja2",
    "jsonschema",
    "regex",
    "re2",
    "limits",
    "rich.traceback",
    "pygments",
)

START_PROBE = r"""
import asyncio, importlib, json, sys
from pathlib import Path

def rss():
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
steps = [("interpreter", rss(), len(sys.modules))]
def step(label):
    steps.append((label, rss(), len(sys.modules)))

from launchgate.cli import admin, main
step("`launchgate` CLI (typer, click, rich)")
settings = admin._settings(None)
step("settings (pydantic, pydantic-settings)")
admin._configure_logs(settings)
step("logging (structlog, without rich's tracebacks)")
admin._migrate_apart(settings)
step("embedded migration (in a forked child where fork exists)")
admin._check_secrets(settings)
step("secret checks (cryptography for the vault, the price table)")
for module, label in [
    ("fastapi", "fastapi, starlette (and the opentelemetry API fastapi.telemetry imports)"),
    ("uvicorn", "uvicorn"),
    ("sqlalchemy.ext.asyncio", None),
    ("sqlalchemy.orm", "sqlalchemy core, asyncio and ORM"),
    ("launchgate.app", "launchgate.app: our own modules and what they import"),
]:
    importlib.import_module(module)
    if label:
        step(label)
from launchgate.app import create_app
create_app(settings)
step("create_app (routes, OpenAPI models)")
from launchgate.wiring import start_api_runtime, stop_api_runtime

async def runtime():
    started = await start_api_runtime(settings)
    step("runtime started (pools, group-commit writer, broker, caches)")
    await stop_api_runtime(started)
asyncio.run(runtime())
print("STEPS " + json.dumps(steps))
loaded = [n for n in DEFERRED if any(m == n or m.startswith(n + ".") for m in sys.modules)]
print("LOADED " + json.dumps(loaded))
"""


@dataclass
class StartSteps:
    """RSS and module count after each step of the start, and the ``DEFERRED`` libraries
    the started runtime had imported all the same."""

    steps: list[tuple[str, float, int]]
    loaded: list[str]


def start_steps(env: dict[str, str]) -> StartSteps:
    """The RSS after each step of ``serve``'s start, in the order it takes them, in a
    fresh interpreter on a data dir of its own: where the idle RSS comes from."""
    probe = f"DEFERRED = {DEFERRED!r}\n" + START_PROBE
    with tempfile.TemporaryDirectory(prefix="launchgate-memory-probe-") as data:
        done = subprocess.run(
            [sys.executable, "-c", probe],
            env={**env, "LAUNCHGATE_DATA_DIR": data},
            cwd=REPO,
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )
    steps: list[tuple[str, float, int]] | None = None
    for line in done.stdout.splitlines():
        if line.startswith("STEPS "):
            steps = [(str(a), float(b), int(c)) for a, b, c in json.loads(line[6:])]
        elif line.startswith("LOADED ") and steps is not None:
            return StartSteps(steps, [str(name) for name in json.loads(line[7:])])
    raise BenchError(f"the start probe failed ({done.returncode}):\n{done.stderr[-2000:]}")


# --------------------------------------------------------------------------- report


def mb(value: float) -> str:
    return f"{value / 1e6:.1f}"


def render(
    lg: Series,
    base: Series | None,
    start: StartSteps | None,
    args: argparse.Namespace,
    info: dict[str, str],
    started: dt.datetime,
) -> tuple[str, bool]:
    lines = [
        f"Command: `{command_line()}`  ",
        f"Date: {started:%Y-%m-%d %H:%M} UTC; commit {commit()}  ",
        f"Machine: {info['cores']} cores ({info['cpu']}), {info['os']}, Python {info['python']}  ",
        f"Stack: {info['packages']}  ",
        f"Load: {args.runs:,} synchronous runs of run_latency.py's five-case deterministic "
        f"suite per server, wrk with {args.connections} connections, RSS read every "
        f"{args.step:,} runs after {0.5:g} s idle; idle after start = {args.settle:g} s after "
        f"`/health` first answered, before any run. Load average at start "
        f"{info['load_start']}, at end {loadavg()}.",
        "",
        "| Runs done | LaunchGate RSS MB | LaunchGate anon MB | LaunchGate file MB |"
        + (" Baseline RSS MB | Baseline anon MB |" if base else ""),
        "|---:|---:|---:|---:|" + ("---:|---:|" if base else ""),
    ]

    def row(label: str, s: dict[str, float], b: dict[str, float] | None) -> str:
        text = f"| {label} | {mb(s['VmRSS'])} | {mb(s['RssAnon'])} | {mb(s['RssFile'])} |"
        if base:
            text += f" {mb(b['VmRSS'])} | {mb(b['RssAnon'])} |" if b else " – | – |"
        return text

    lines.append(row("idle after start", lg.idle, base.idle if base else None))
    for n, sample in lg.samples:
        other = base.at(n) if base else None
        lines.append(row(f"{n:,}", sample, other))
    half = lg.at(args.runs // 2)
    last = lg.samples[-1][1]
    growth = (last["VmRSS"] - half["VmRSS"]) if half else float("nan")
    goals = [
        (
            f"idle after start ≤ {GOAL_IDLE_MB:g} MB",
            f"{mb(lg.idle['VmRSS'])} MB",
            lg.idle["VmRSS"] / 1e6 <= GOAL_IDLE_MB,
        ),
        (
            f"after {args.runs:,} runs ≤ {GOAL_AFTER_MB:g} MB",
            f"{mb(last['VmRSS'])} MB",
            last["VmRSS"] / 1e6 <= GOAL_AFTER_MB,
        ),
        (
            f"growth from run {args.runs // 2:,} to run {args.runs:,} ≤ {GOAL_GROWTH_MIB:g} MiB",
            f"{growth / 2**20:+.2f} MiB",
            growth / 2**20 <= GOAL_GROWTH_MIB,
        ),
    ]
    lines += ["", "| Goal | Measured | Met |", "|---|---:|:---:|"]
    lines += [f"| {g} | {m} | {'yes' if ok else '**no**'} |" for g, m, ok in goals]
    ratios = [
        f"| LaunchGate runs/s during the load | {lg.samples[-1][0] / lg.seconds:.0f} |",
    ]
    if base:
        b_last = base.samples[-1][1]
        b_half = base.at(args.runs // 2)
        ratios += [
            f"| idle RSS, LaunchGate / baseline | {mb(lg.idle['VmRSS'])} / "
            f"{mb(base.idle['VmRSS'])} MB = **{lg.idle['VmRSS'] / base.idle['VmRSS']:.2f}×** |",
            f"| idle RSS, LaunchGate − baseline (what LaunchGate adds) | "
            f"{mb(lg.idle['VmRSS'] - base.idle['VmRSS'])} MB |",
            f"| after {args.runs:,} requests, LaunchGate / baseline | {mb(last['VmRSS'])} / "
            f"{mb(b_last['VmRSS'])} MB = **{last['VmRSS'] / b_last['VmRSS']:.2f}×** |",
        ]
        if b_half:
            ratios.append(
                f"| baseline growth from request {args.runs // 2:,} to {args.runs:,} (the "
                f"noise of a server that keeps nothing) | "
                f"{(b_last['VmRSS'] - b_half['VmRSS']) / 2**20:+.2f} MiB |"
            )
    lines += ["", "| Ratio | Value |", "|---|---:|", *ratios]
    if start:
        steps = start.steps
        lines += [
            "",
            "Where the idle RSS comes from: RSS after each step of `serve`'s start, in its "
            "order, in a fresh interpreter (the server itself then adds uvloop, the "
            "lifespan's tasks and its threads):",
            "",
            "| Step of the start | RSS MB | + MB | + modules |",
            "|---|---:|---:|---:|",
        ]
        previous: tuple[str, float, int] | None = None
        for label, size, modules in steps:
            if previous is None:
                lines.append(f"| {label} | {mb(size)} | | {modules} |")
            else:
                lines.append(
                    f"| {label} | {mb(size)} | {(size - previous[1]) / 1e6:+.1f} | "
                    f"+{modules - previous[2]} |"
                )
            previous = (label, size, modules)
        absent = [name for name in DEFERRED if name not in start.loaded]
        lines += [
            "",
            "Imported only when first needed, so absent from the started server: "
            + (", ".join(f"`{name}`" for name in absent) or "none")
            + ". Deferred but imported at start all the same: "
            + (", ".join(f"`{name}`" for name in start.loaded) or "none")
            + ".",
        ]
    met = all(ok for _, _, ok in goals)
    return "\n".join(lines) + "\n", met


def write_results(block_text: str, path: Path) -> None:
    write_between_markers(
        path,
        BEGIN_MARK,
        END_MARK,
        block_text,
        lambda block: (
            "## Resident memory\n\nProduced by `bench/memory.py` (how to run it: "
            "[bench/README.md](README.md)). The block between the `memory:` markers is "
            "rewritten by every run; the analysis below it is written by hand and dated.\n\n"
            "### Latest run\n\n" + block + "\n"
        ),
    )


# --------------------------------------------------------------------------- main


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=100_000, help="runs per server (100000)")
    parser.add_argument("--step", type=int, default=10_000, help="runs between RSS reads")
    parser.add_argument("--connections", type=int, default=8, help="wrk connections (8)")
    parser.add_argument(
        "--settle", type=float, default=3.0, help="idle seconds before the idle read (3)"
    )
    parser.add_argument("--quick", action="store_true", help="20,000 runs in steps of 5,000")
    parser.add_argument("--no-baseline", action="store_true", help="LaunchGate only")
    parser.add_argument("--no-probe", action="store_true", help="skip the start-up probe")
    parser.add_argument("--output", type=Path, default=RESULTS)
    parser.add_argument("--no-write", action="store_true", help="do not touch the results file")
    parser.add_argument("--strict", action="store_true", help="exit 1 when a goal is missed")
    parser.add_argument("--keep-data", action="store_true", help="keep the data dir and logs")
    parser.add_argument("--no-install", action="store_true", help="never apt-get install wrk")
    args = parser.parse_args(argv)
    if args.quick:
        args.runs, args.step = 20_000, 5_000
    if args.runs < 2 or args.step < 1 or args.connections < 1:
        parser.error("--runs must be at least 2, --step and --connections positive")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    started = dt.datetime.now(dt.UTC)
    load_start = loadavg()
    signal.signal(signal.SIGTERM, _raise_interrupt)
    work = Path(tempfile.mkdtemp(prefix="launchgate-memory-bench-"))
    body_file = work / "body.json"
    body_file.write_text(json.dumps(RUN_BODY))
    base: Series | None = None
    steps: StartSteps | None = None
    try:
        wrk = ensure_wrk(not args.no_install)
        env = server_env(work / "data")
        port = free_port()
        print(f"LaunchGate: launchgate serve on 127.0.0.1:{port}", flush=True)
        server = start_server(
            "launchgate",
            [*launchgate_command(), "serve", "--host", "127.0.0.1", "--port", str(port)],
            env,
            port,
            work,
            None,
        )
        with running(server):
            api_key = create_org(env, "enterprise")  # a CLI process: not the server's memory
            lg = measure(
                server,
                "LaunchGate",
                wrk,
                body_file,
                f"Bearer {api_key}",
                args,
                setup=lambda: create_suite(server.url, api_key),
            )
        if not args.no_baseline:
            port = free_port()
            print(f"Baseline: bench/baseline_app.py on 127.0.0.1:{port}", flush=True)
            baseline = start_server(
                "baseline",
                [sys.executable, str(BENCH_DIR / "baseline_app.py"), "--port", str(port)],
                env,
                port,
                work,
                None,
            )
            with running(baseline):
                base = measure(baseline, "Baseline", wrk, body_file, "", args)
        if not args.no_probe:
            print("RSS by step of the start ...", flush=True)
            steps = start_steps(env)
    except BenchError as exc:
        print(f"\nBench failed: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("\nInterrupted; servers stopped.", file=sys.stderr)
        return 130
    finally:
        if args.keep_data:
            print(f"Data dir and logs kept in {work}")
        else:
            with contextlib.suppress(OSError):
                subprocess.run(["rm", "-rf", str(work)], check=False)

    info = machine()
    info["load_start"] = load_start
    table, met = render(lg, base, steps, args, info, started)
    print("\n" + table)
    if not args.no_write:
        write_results(table, args.output)
        print(f"Written to {args.output}")
    if args.strict and not met:
        print("Goals missed (--strict).", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
