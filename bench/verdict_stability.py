"""Verdict stability: the same output judged R times by a noisy judge, single-sample versus
adaptive sampling (issue 13, item 6).

One command, from the repository root:

    .venv/bin/python bench/verdict_stability.py            # R = 1000 per setting and mode
    .venv/bin/python bench/verdict_stability.py --quick    # R = 50, a smoke check

What it does:

1. Starts the fake provider (``python -m launchgate.testing.fake_provider --seed S``, its own
   process, latency 0) and a real ``launchgate serve`` subprocess on a free port with a fresh
   temporary ``LAUNCHGATE_DATA_DIR`` (SQLite), request limits off,
   ``LAUNCHGATE_OPENAI_BASE_URL`` at the fake, ``LAUNCHGATE_ALLOW_PRIVATE_PROVIDER_URLS=true``,
   ``LAUNCHGATE_JUDGE_CONCURRENCY=20`` and a random ``BYOK_ENCRYPTION_KEY``.
2. ``launchgate orgs create bench --json --plan enterprise``, then through the API an OpenAI
   BYOK key, a project and two ``llm_judge`` scorers that differ only in sampling:
   ``samples`` 1 (single sample, today's behaviour) and ``samples`` 10 (adaptive;
   ``min_samples`` and ``confidence`` left at their defaults). Both use temperature 0.7 (the
   fake ignores it; it keeps the "temperature 0" warning away) and no ``cache_ttl_s``. Each
   scorer gets a suite of R identical cases (same input, threshold 0.7): one run of such a
   suite is R independent judgements of the same output, each case its own verdict.
3. For each true mean μ in 0.4, 0.5, 0.6, 0.65, 0.7, 0.75, 0.8, 0.9, 1.0 (0.7 ± 0, 0.05, 0.1,
   0.2, 0.3) and each mode: one synchronous ``POST /v1/run`` whose output carries
   ``FAKE_SCORE_NORMAL=μ,0.1``, so every judge call draws a fresh score from N(μ, 0.1)
   clipped to [0, 1]. Before each run the fake is reseeded with ``seed × 1000 + k`` (k the
   run's index) and its counters are reset. The draws are then reproducible; which case gets
   which draw depends on the order the concurrent calls arrive in.
4. Per setting and mode: passed / failed / inconclusive cases, **wrong verdicts** (a case
   passed when μ < 0.7, failed when μ > 0.7; none is wrong at μ = 0.7) with a 95% Wilson
   upper bound, the inconclusive share, and **judge calls per case** from each case's
   ``sampling.samples``, cross-checked against the chat requests the fake counted for the
   bench's key during that run.
5. Checks the issue's goals (at |μ − 0.7| ≥ 0.1 adaptive wrong verdicts ≤ 1%; at ≥ 0.2 mean
   judge calls per case ≤ 3.5; at μ = 0.7 ≥ 90% inconclusive) and prints them met / not
   met; prints a Markdown table and writes it into bench/RESULTS.md between the
   ``stability:begin`` / ``stability:end`` markers, keeping the text outside them.

Every process it starts is stopped at the end, on an error, on Ctrl-C and on SIGTERM; every
phase has a time limit. Exit 1 when the bench itself fails (a server does not start, a
request fails, a case ends in ``error``, a phase times out); ``--strict`` also exits 1 when
a goal is missed or the fake's count disagrees with the cases' samples.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import math
import os
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
    BenchError,
    Server,
    _raise_interrupt,
    command_line,
    commit,
    free_port,
    launchgate_command,
    loadavg,
    machine_info,
    running,
    server_env,
    start_server,
    stop_server,
    write_between_markers,
)

from launchgate.batches.statistics import wilson

BENCH_DIR = Path(__file__).resolve().parent
REPO = BENCH_DIR.parent
RESULTS = BENCH_DIR / "RESULTS.md"
BEGIN_MARK = (
    "<!-- stability:begin (written by bench/verdict_stability.py; edit outside the markers) -->"
)
END_MARK = "<!-- stability:end -->"

THRESHOLD = 0.7
SIGMA = 0.1
DISTANCES = (0.0, 0.05, 0.1, 0.2, 0.3)
# Signed offsets from the threshold, lowest true mean first: nine settings.
OFFSETS = tuple(sorted({sign * d + 0.0 for d in DISTANCES for sign in (-1, 1)}))  # no -0.0
ADAPTIVE_SAMPLES = 10
DEFAULT_MIN_SAMPLES = 3  # the default min(3, samples), stated here for the report
TEMPERATURE = 0.7
CONCURRENCY = 20
FULL_REPETITIONS = 1000
QUICK_REPETITIONS = 50

GOAL_WRONG = 0.01  # at |μ − threshold| ≥ 0.1
GOAL_CALLS = 3.5  # at |μ − threshold| ≥ 0.2
GOAL_INCONCLUSIVE = 0.90  # at μ = threshold

PROJECT_SLUG = "stability-bench"
RUBRIC = (
    "The answer names the correct capital city, states it plainly, and stays polite and "
    "on topic. Score 1 when all three hold, 0 when none do."
)
SETUP_TIMEOUT_S = 600.0
CLI_TIMEOUT_S = 120.0
STARTUP_TIMEOUT_S = 90.0


@dataclass(frozen=True)
class Mode:
    """One way of judging: a scorer config and the suite of R cases that uses it."""

    key: str
    label: str
    samples: int

    @property
    def suite_slug(self) -> str:
        return f"stability-{self.key}"

    def scorer_config(self) -> dict[str, Any]:
        return {
            "rubric": RUBRIC,
            "_provider": "openai",
            "temperature": TEMPERATURE,
            "samples": self.samples,
        }


MODES = (
    Mode("single", "single sample", 1),
    Mode("adaptive", f"adaptive (samples {ADAPTIVE_SAMPLES})", ADAPTIVE_SAMPLES),
)


def output_text(mean: float) -> str:
    """The output under test: a fixed answer plus the fake's noisy-judge marker."""
    return f"The capital of France is Paris. FAKE_SCORE_NORMAL={mean:g},{SIGMA:g}"


def true_mean(offset: float) -> float:
    return round(THRESHOLD + offset, 4)


# --------------------------------------------------------------------------- figures


@dataclass
class Cell:
    """What one run (one setting, one mode) gave: R cases, each an independent verdict."""

    mode: str
    offset: float
    statuses: dict[str, int]
    calls: list[int]  # judgements per case, from its ``sampling.samples``
    scores: list[float]  # every judgement's score, all cases
    fake_calls: int  # chat requests the fake counted for the bench's key during the run
    fake_max_in_flight: int
    run_status: str
    seconds: float

    @property
    def mean(self) -> float:
        return true_mean(self.offset)

    @property
    def cases(self) -> int:
        return sum(self.statuses.values())

    @property
    def wrong(self) -> int:
        """Passed below the threshold or failed above it; nothing is wrong at it."""
        if self.offset < 0:
            return self.statuses.get("passed", 0)
        if self.offset > 0:
            return self.statuses.get("failed", 0)
        return 0

    @property
    def wrong_share(self) -> float:
        return self.wrong / self.cases if self.cases else math.nan

    @property
    def inconclusive_share(self) -> float:
        return self.statuses.get("inconclusive", 0) / self.cases if self.cases else math.nan

    @property
    def mean_calls(self) -> float:
        return sum(self.calls) / len(self.calls) if self.calls else math.nan

    @property
    def calls_agree(self) -> bool:
        return self.fake_calls == sum(self.calls)


def wilson_upper(hits: int, n: int) -> float:
    """Upper end of the 95% Wilson interval for a share: honest at 0 of n, unlike k / n
    (the product's own interval, launchgate.batches.statistics, checked against scipy)."""
    return math.nan if n == 0 else wilson(hits, n)[1]


def clipped_normal_mean(mu: float, sigma: float) -> float:
    """E[min(1, max(0, X))] for X ~ N(mu, sigma): what the fake's scores average to."""

    def phi(x: float) -> float:
        return math.exp(-x * x / 2) / math.sqrt(2 * math.pi)

    def cdf(x: float) -> float:
        return 0.5 * (1 + math.erf(x / math.sqrt(2)))

    a, b = (0 - mu) / sigma, (1 - mu) / sigma
    inside = mu * (cdf(b) - cdf(a)) + sigma * (phi(a) - phi(b))
    return inside + (1 - cdf(b))


def read_cell(mode: Mode, offset: float, run: dict[str, Any], repetitions: int) -> Cell:
    """The figures of one synchronous run answer; a shape the contract does not promise
    (a missing case, an ``error`` case, no ``sampling`` entry) is a bench failure."""
    scores = run.get("scores") or []
    if len(scores) != repetitions:
        raise BenchError(f"{mode.key} μ={true_mean(offset)}: {len(scores)} case scores, not R")
    statuses: dict[str, int] = {}
    calls: list[int] = []
    draws: list[float] = []
    for score in scores:
        status = score["status"]
        if status not in ("passed", "failed", "inconclusive"):
            raise BenchError(
                f"{mode.key} μ={true_mean(offset)}: case {score['case']!r} ended {status!r}: "
                f"{score.get('reason')}"
            )
        sampling = score.get("sampling")
        if not sampling or not sampling.get("samples"):
            raise BenchError(
                f"{mode.key} μ={true_mean(offset)}: case {score['case']!r} has no "
                "`sampling.samples` (is issue 13's wiring in this tree?)"
            )
        statuses[status] = statuses.get(status, 0) + 1
        calls.append(len(sampling["samples"]))
        draws.extend(float(s) for s in sampling["samples"])
    return Cell(
        mode=mode.key,
        offset=offset,
        statuses=statuses,
        calls=calls,
        scores=draws,
        fake_calls=0,
        fake_max_in_flight=0,
        run_status=str(run.get("status")),
        seconds=0.0,
    )


# --------------------------------------------------------------------------- phases


def create_org(env: dict[str, str]) -> str:
    """``launchgate orgs create bench --plan enterprise`` (unlimited runs); its API key."""
    argv = [*launchgate_command(), "orgs", "create", "bench", "--json", "--plan", "enterprise"]
    try:
        done = subprocess.run(
            argv,
            env=env,
            cwd=REPO,
            capture_output=True,
            text=True,
            check=False,
            timeout=CLI_TIMEOUT_S,
        )
    except subprocess.TimeoutExpired as exc:  # run() has killed it
        raise BenchError(f"launchgate orgs create took longer than {CLI_TIMEOUT_S:g} s") from exc
    if done.returncode != 0:
        raise BenchError(f"launchgate orgs create failed ({done.returncode}):\n{done.stderr}")
    return str(json.loads(done.stdout.strip().splitlines()[-1])["api_key"])


def setup_suites(url: str, api_key: str, openai_key: str, repetitions: int) -> None:
    """BYOK key, project, one scorer and one suite of R identical cases per mode, within
    ``SETUP_TIMEOUT_S`` (checked before every request; each request has its own timeout)."""
    import httpx

    deadline = time.monotonic() + SETUP_TIMEOUT_S
    with httpx.Client(
        base_url=url + "/v1", timeout=60.0, headers={"Authorization": f"Bearer {api_key}"}
    ) as client:

        def post(path: str, payload: dict[str, Any]) -> dict[str, Any]:
            if time.monotonic() > deadline:
                raise BenchError(f"setup took longer than {SETUP_TIMEOUT_S:g} s")
            answer = client.post(path, json=payload)
            if answer.status_code != 201:
                raise BenchError(f"POST /v1{path} answered {answer.status_code}: {answer.text}")
            data: dict[str, Any] = answer.json()["data"]
            return data

        post(
            "/byok-keys",
            {"provider": "openai", "name": "bench", "key": openai_key, "is_default": True},
        )
        post("/projects", {"name": "Stability bench", "slug": PROJECT_SLUG})
        for mode in MODES:
            scorer = post(
                f"/projects/{PROJECT_SLUG}/scorers",
                {
                    "name": f"judge, {mode.label}",
                    "type": "llm_judge",
                    "config": mode.scorer_config(),
                },
            )
            suite = post(
                f"/projects/{PROJECT_SLUG}/suites",
                {
                    "name": f"Stability, {mode.label}",
                    "slug": mode.suite_slug,
                    "pass_threshold": 1.0,
                },
            )
            for i in range(repetitions):
                post(
                    f"/suites/{suite['id']}/cases",
                    {
                        "name": f"repetition {i + 1:04d}",
                        "scorer_id": scorer["id"],
                        "threshold": THRESHOLD,
                        "input": {"question": "What is the capital of France?"},
                    },
                )


def post_run(url: str, api_key: str, mode: Mode, mean: float, timeout_s: float) -> dict[str, Any]:
    """One synchronous run. The server sends nothing until the run is over, so the read
    timeout bounds the whole phase; no SIGALRM: an exception raised by a signal handler
    inside the HTTP client can leave one of its locks held and hang the cleanup."""
    import httpx

    body = {
        "suite": mode.suite_slug,
        "project": PROJECT_SLUG,
        "output": output_text(mean),
        "trigger": "api",
        "trigger_meta": {"bench": "verdict_stability", "mode": mode.key, "mean": mean},
    }
    with httpx.Client(timeout=timeout_s, headers={"Authorization": f"Bearer {api_key}"}) as client:
        try:
            answer = client.post(url + "/v1/run", json=body)
        except httpx.TimeoutException as exc:
            raise BenchError(f"run {mode.key} μ={mean:g} took longer than {timeout_s:g} s") from exc
        except httpx.HTTPError as exc:
            raise BenchError(f"run {mode.key} μ={mean:g}: {exc!r}") from exc
    if answer.status_code != 200:
        raise BenchError(f"POST /v1/run answered {answer.status_code}: {answer.text[:2000]}")
    data: dict[str, Any] = answer.json()
    return data


def measure_cell(
    server: Server,
    fake: Fake,
    api_key: str,
    fingerprint: str,
    mode: Mode,
    offset: float,
    phase_seed: int,
    args: argparse.Namespace,
) -> Cell:
    """One run of the mode's suite at true mean 0.7 + offset, the fake freshly seeded."""
    fake.configure(seed=phase_seed)
    fake.reset_counters()  # keeps the configuration; restarts the draws from phase_seed
    mean = true_mean(offset)
    started = time.perf_counter()
    run = post_run(server.url, api_key, mode, mean, args.phase_timeout)
    counters = fake.admin("GET", "counters")
    cell = read_cell(mode, offset, run, args.repetitions)
    key = counters["keys"].get(fingerprint, {})
    cell.fake_calls = int(key.get("endpoints", {}).get("chat", 0))
    cell.fake_max_in_flight = int(key.get("max_concurrent", 0))
    cell.seconds = time.perf_counter() - started
    return cell


# --------------------------------------------------------------------------- the bench


@dataclass
class Report:
    started: dt.datetime
    seed: int
    repetitions: int
    cells: list[Cell] = field(default_factory=list)
    info: dict[str, str] = field(default_factory=dict)
    elapsed_s: float = 0.0

    def cell(self, mode: str, offset: float) -> Cell | None:
        return next((c for c in self.cells if c.mode == mode and c.offset == offset), None)


def run_bench(args: argparse.Namespace, log: Callable[[str], None] = print) -> Report:
    """Start the fake and the server, set up, measure every setting and mode, stop both.

    The core of the command, without signals, printing of the table or the results file,
    so that a test can run it with a tiny R.
    """
    report = Report(dt.datetime.now(dt.UTC), args.seed, args.repetitions)
    report.info = machine_info(("fastapi", "uvicorn", "sqlalchemy", "httpx"))
    report.info["load_start"] = loadavg()
    report.info["commit"] = commit()
    clock = time.perf_counter()
    work = Path(tempfile.mkdtemp(prefix="launchgate-stability-bench-"))
    fake_server: Server | None = None
    try:
        fake_port = free_port()
        fake_env = {k: v for k, v in os.environ.items() if not k.startswith("LAUNCHGATE_")}
        log(f"Fake provider on 127.0.0.1:{fake_port}, latency 0, seed {args.seed}")
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
                "0",
                "--seed",
                str(args.seed),
                "--log-level",
                "warning",
            ],
            fake_env,
            fake_port,
            work,
            None,
        )
        wait_fake(fake_server, STARTUP_TIMEOUT_S)
        fake = Fake(fake_server, fake_port)
        env = server_env(work / "data")
        env.pop("BYOK_ENCRYPTION_KEY_PREVIOUS", None)
        env.update(
            {
                "LAUNCHGATE_OPENAI_BASE_URL": f"{fake.base}/v1",
                "LAUNCHGATE_ALLOW_PRIVATE_PROVIDER_URLS": "true",
                "LAUNCHGATE_JUDGE_CONCURRENCY": str(CONCURRENCY),
                "BYOK_ENCRYPTION_KEY": secrets.token_hex(32),
            }
        )
        port = free_port()
        log(f"LaunchGate: launchgate serve on 127.0.0.1:{port}, data dir {work / 'data'}")
        server = start_server(
            "launchgate",
            [*launchgate_command(), "serve", "--host", "127.0.0.1", "--port", str(port)],
            env,
            port,
            work,
            None,
        )
        with running(server):
            openai_key = "sk-test-stability-" + secrets.token_hex(12)
            setup_started = time.perf_counter()
            api_key = create_org(env)
            setup_suites(server.url, api_key, openai_key, args.repetitions)
            log(
                f"  org, BYOK key, project, 2 scorers, 2 suites of {args.repetitions} cases "
                f"({time.perf_counter() - setup_started:.1f} s)"
            )
            fingerprint = key_fingerprint(openai_key)
            index = 0
            for offset in OFFSETS:
                for mode in MODES:
                    index += 1
                    cell = measure_cell(
                        server,
                        fake,
                        api_key,
                        fingerprint,
                        mode,
                        offset,
                        args.seed * 1000 + index,
                        args,
                    )
                    report.cells.append(cell)
                    log(
                        f"  μ={cell.mean:<4g} {mode.key:<8} {_status_text(cell)}; wrong "
                        f"{cell.wrong}; calls/case {cell.mean_calls:.2f} (fake "
                        f"{cell.fake_calls}); {cell.seconds:.1f} s"
                    )
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


# --------------------------------------------------------------------------- report


def _status_text(cell: Cell) -> str:
    s = cell.statuses
    text = f"{s.get('passed', 0)} / {s.get('failed', 0)}"
    return text + (f" / {s.get('inconclusive', 0)}" if cell.mode == "adaptive" else "")


def _pct(share: float) -> str:
    return "–" if math.isnan(share) else f"{100 * share:.1f}%"


@dataclass(frozen=True)
class Goal:
    text: str
    measured: str
    met: bool


def goals(report: Report) -> list[Goal]:
    """The issue's three goals, each over every setting it names."""
    adaptive = [c for c in report.cells if c.mode == "adaptive"]
    far = [c for c in adaptive if abs(c.offset) >= 0.1 - 1e-9]
    farther = [c for c in adaptive if abs(c.offset) >= 0.2 - 1e-9]
    at = [c for c in adaptive if c.offset == 0]
    gap = f"\\|μ − {THRESHOLD:g}\\|"  # escaped: a bare | would split the table cell
    found: list[Goal] = []
    if far:
        worst = max(far, key=lambda c: c.wrong_share)
        found.append(
            Goal(
                f"adaptive wrong verdicts ≤ {100 * GOAL_WRONG:g}% at {gap} ≥ 0.1",
                f"worst {_pct(worst.wrong_share)} (μ = {worst.mean:.2f}: "
                f"{worst.wrong} of {worst.cases}); {sum(c.wrong for c in far)} of "
                f"{sum(c.cases for c in far)} over the {len(far)} settings",
                all(c.wrong_share <= GOAL_WRONG for c in far),
            )
        )
    if farther:
        found.append(
            Goal(
                f"adaptive mean judge calls per case ≤ {GOAL_CALLS:g} at {gap} ≥ 0.2",
                ", ".join(f"{c.mean_calls:.2f} (μ = {c.mean:.2f})" for c in farther),
                all(c.mean_calls <= GOAL_CALLS for c in farther),
            )
        )
    if at:
        cell = at[0]
        found.append(
            Goal(
                f"≥ {100 * GOAL_INCONCLUSIVE:g}% inconclusive at μ = {THRESHOLD:g}",
                _pct(cell.inconclusive_share),
                cell.inconclusive_share >= GOAL_INCONCLUSIVE,
            )
        )
    return found


def render(report: Report, args: argparse.Namespace) -> tuple[str, bool]:
    """The Markdown block for RESULTS.md, and whether every goal and check holds."""
    info = report.info
    r = report.repetitions
    lines = [
        f"Command: `{command_line()}`  ",
        f"Date: {report.started.strftime('%Y-%m-%d %H:%M UTC')}; took {report.elapsed_s:.0f} s; "
        f"commit {info.get('commit', 'unknown')}  ",
        f"Machine: {info['cores']} cores ({info['cpu']}), {info['os']}, Python {info['python']}; "
        f"load average at start {info['load_start']}, at end {info.get('load_end', 'n/a')}  ",
        f"Setup: threshold {THRESHOLD:g}; each judge call draws a score from N(μ, {SIGMA:g}) "
        f"clipped to [0, 1] (the fake's `FAKE_SCORE_NORMAL=μ,{SIGMA:g}`, seed {report.seed}, "
        f"reseeded per run); R = {r} identical `llm_judge` cases per setting and mode, one run "
        f"each, every case its own verdict; single sample = `samples` 1, adaptive = `samples` "
        f"{ADAPTIVE_SAMPLES} with the default `min_samples` ({DEFAULT_MIN_SAMPLES}) and "
        f"`confidence` (0.95); temperature {TEMPERATURE:g}, no cache; "
        f"`LAUNCHGATE_JUDGE_CONCURRENCY={CONCURRENCY}`, fake latency 0.",
        "",
        "Wrong = a case passed when μ < 0.7 or failed when μ > 0.7 (none is wrong at μ = 0.7); "
        "the bound is the upper end of its 95% Wilson interval. Judge calls per case come from "
        'each case\'s `sampling.samples`; "fake" is what the fake provider counted for the '
        "bench's key during the same run (they must agree). μ = 1.0 is clipped: its scores "
        f"average {clipped_normal_mean(1.0, SIGMA):.3f}. The last column is every score the fake "
        "drew in both runs of the row, a check of the noise itself.",
        "",
        "| true μ | μ − 0.7 | single: passed / failed | single: wrong | adaptive: passed / "
        "failed / inconclusive | adaptive: wrong (95% upper bound) | adaptive: inconclusive | "
        "adaptive: judge calls per case, mean (min–max) | judge calls, cases / fake (single; "
        "adaptive) | scores drawn: mean, sd |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for offset in OFFSETS:
        single, adaptive = report.cell("single", offset), report.cell("adaptive", offset)
        if single is None or adaptive is None:
            continue
        draws = single.scores + adaptive.scores
        lines.append(
            f"| {single.mean:.2f} | {offset:+.2f} | {_status_text(single)} | "
            f"{_wrong_text(single, bound=False)} | {_status_text(adaptive)} | "
            f"{_wrong_text(adaptive, bound=True)} | {_pct(adaptive.inconclusive_share)} | "
            f"{adaptive.mean_calls:.2f} ({min(adaptive.calls)}–{max(adaptive.calls)}) | "
            f"{_calls_text(single)}; {_calls_text(adaptive)} | "
            f"{statistics.fmean(draws):.3f}, {statistics.pstdev(draws):.3f} |"
        )
    checks = [c for c in report.cells if not c.calls_agree]
    in_flight = max((c.fake_max_in_flight for c in report.cells), default=0)
    lines += [
        "",
        f"Checks: the fake's request count equals the cases' samples in "
        f"{len(report.cells) - len(checks)} of {len(report.cells)} runs; at most {in_flight} "
        f"judge calls in flight for the key (limit {CONCURRENCY}).",
        "",
        "| Goal (issue 13) | Measured | Met |",
        "|---|---:|:---:|",
    ]
    found = goals(report)
    lines += [f"| {g.text} | {g.measured} | {'yes' if g.met else '**no**'} |" for g in found]
    ok = all(g.met for g in found) and not checks and in_flight <= CONCURRENCY
    return "\n".join(lines) + "\n", ok


def _wrong_text(cell: Cell, *, bound: bool) -> str:
    if cell.offset == 0:
        return "–"
    text = f"{cell.wrong} ({_pct(cell.wrong_share)}"
    if bound:
        text += f", ≤ {_pct(wilson_upper(cell.wrong, cell.cases))}"
    return text + ")"


def _calls_text(cell: Cell) -> str:
    mark = "" if cell.calls_agree else " **≠**"
    return f"{sum(cell.calls)} / {cell.fake_calls}{mark}"


def write_results(block: str, path: Path) -> None:
    write_between_markers(
        path,
        BEGIN_MARK,
        END_MARK,
        block,
        lambda text: (
            "## Verdict stability\n\nProduced by `.venv/bin/python bench/verdict_stability.py` "
            "(issue 13; how to run it and read it: [bench/README.md](README.md)). The block "
            "between the `stability:` markers is rewritten by every run.\n\n### Latest run\n\n"
            + text
            + "\n"
        ),
    )


# --------------------------------------------------------------------------- main


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description="The same output judged R times by a noisy judge: single-sample vs "
        "adaptive verdicts at true means around the threshold."
    )
    parser.add_argument(
        "--repetitions",
        "-R",
        type=int,
        default=None,
        help=f"judgements per setting and mode ({FULL_REPETITIONS}; --quick: {QUICK_REPETITIONS})",
    )
    parser.add_argument("--quick", action="store_true", help=f"R = {QUICK_REPETITIONS}")
    parser.add_argument("--seed", type=int, default=13, help="the fake's base seed (13)")
    parser.add_argument(
        "--phase-timeout",
        type=float,
        default=300.0,
        help="seconds one run (one setting and mode) may take (300)",
    )
    parser.add_argument(
        "--output",
        type=Path,
        default=RESULTS,
        help="Markdown file to update (default bench/RESULTS.md)",
    )
    parser.add_argument("--no-write", action="store_true", help="do not touch the results file")
    parser.add_argument(
        "--strict",
        action="store_true",
        help="exit 1 also when a goal is missed or a check fails",
    )
    parser.add_argument("--keep-data", action="store_true", help="keep the data dir and logs")
    args = parser.parse_args(argv)
    if args.repetitions is None:
        args.repetitions = QUICK_REPETITIONS if args.quick else FULL_REPETITIONS
    if args.repetitions < 1 or args.phase_timeout <= 0:
        parser.error("--repetitions and --phase-timeout must be positive")
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
    if not args.no_write:
        write_results(table, args.output)
        print(f"Written to {args.output}")
    if args.strict and not ok:
        print("A goal or a check was missed (--strict).", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
