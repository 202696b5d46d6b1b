"""Where a run's CPU goes when no HTTP server is in the way: LaunchGate's ASGI app called
in-process, whole and with one part taken out at a time.

    .venv/bin/python bench/run_cost_parts.py                 # 3 rounds of 4,800 runs each
    .venv/bin/python bench/run_cost_parts.py --runs 960 --rounds 2

bench/run_latency.py measures `POST /v1/run` through uvicorn against a bare FastAPI
endpoint; its throughput goal (issue 17: ≥ 0.40× the bare endpoint at 32 connections)
sets a budget of CPU per run. This script says what the parts of a run cost against that
budget. It sets up run_latency's five-case suite on a fresh embedded database (through a
real `launchgate serve`, stopped afterwards), then, in a fresh process per variant and
round, calls the app the way uvicorn would (an ASGI `http` scope, the same body and key)
from 32 concurrent clients and takes the process's CPU time per run (every thread: the
group-commit writer's too). Variants, each the whole app minus one part:

- **whole** — the app as served;
- **no json_schema** — the `json_schema` case answers a pass without validating;
- **no scoring** — every case answers a pass without scoring;
- **no write** — the group-commit writer returns at once (the run is not stored);
- **answer by orjson** — the 200 answer dumped by orjson, without `RunResult`'s
  validation and pydantic's serialisation;
- **bare endpoint** — bench/baseline_app.py's app, called the same way.

A part's cost is the whole's CPU per run minus its variant's. The rounds alternate the
variants, so the machine's load moves them alike; medians are printed. Only the embedded
SQLite database is measured: the parts other than the write are the same code on
PostgreSQL.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

import run_latency

VARIANTS = {
    "whole": "the app as served",
    "no-json-schema": "no json_schema validation",
    "no-scoring": "no scoring",
    "no-write": "no write (run not stored)",
    "answer-orjson": "answer by orjson (no RunResult)",
    "bare": "bare endpoint (bench/baseline_app.py)",
}
CONCURRENCY = 32


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=4800, help="runs per variant and round")
    parser.add_argument("--rounds", type=int, default=3, help="alternating rounds")
    parser.add_argument("--variant", choices=VARIANTS, help=argparse.SUPPRESS)
    parser.add_argument("--key", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if not CONCURRENCY <= args.runs <= 1_000_000 or not 1 <= args.rounds <= 50:
        parser.error(f"--runs must be {CONCURRENCY}–1000000 and --rounds 1–50")
    return args


# --------------------------------------------------------------------------- one variant


def _take_out(variant: str) -> None:
    """Replace the part `variant` takes out, before the app is built."""
    if variant in ("no-json-schema", "no-scoring"):
        from launchgate.scorers.builtin import compiled
        from launchgate.scorers.builtin.result import ScoreResult

        passed = ScoreResult(1.0, "passed without scoring (bench)")
        kinds = [compiled._JsonSchema]
        if variant == "no-scoring":
            kinds += [compiled._Contains, compiled._ExactMatch, compiled._Regex]
        for kind in kinds:
            kind.score = lambda self, output, **_: passed  # type: ignore[method-assign]
    elif variant == "no-write":
        from launchgate.runs.writer import RunWriter

        async def write(self: RunWriter, values: dict[str, Any]) -> None:
            return None

        RunWriter.write = write  # type: ignore[method-assign]
    elif variant == "answer-orjson":
        import orjson
        from starlette.responses import Response

        from launchgate.runs import endpoints

        def answer(result: dict[str, Any]) -> Response:
            body = orjson.dumps(result, default=str)
            return Response(body, media_type="application/json")

        endpoints._answer = answer  # type: ignore[assignment]


async def _drive(app: Any, key: str, runs: int) -> float:
    """CPU seconds per run of `runs` runs from CONCURRENCY clients; every answer a 200."""
    body = json.dumps(run_latency.RUN_BODY).encode()
    headers = [
        (b"host", b"127.0.0.1"),
        (b"content-type", b"application/json"),
        (b"authorization", f"Bearer {key}".encode()),
        (b"content-length", str(len(body)).encode()),
    ]
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": "/v1/run",
        "raw_path": b"/v1/run",
        "query_string": b"",
        "root_path": "",
        "headers": headers,
        "client": ("127.0.0.1", 50000),
        "server": ("127.0.0.1", 8000),
    }
    statuses: list[int] = []

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": body, "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        if message["type"] == "http.response.start":
            statuses.append(message["status"])

    async def client(n: int) -> None:
        for _ in range(n):
            await app(dict(scope), receive, send)

    await asyncio.gather(*(client(10) for _ in range(CONCURRENCY)))  # warm-up
    statuses.clear()
    started = time.process_time()
    await asyncio.gather(*(client(runs // CONCURRENCY) for _ in range(CONCURRENCY)))
    cpu = time.process_time() - started
    if set(statuses) != {200}:
        raise SystemExit(f"answers other than 200: {sorted(set(statuses))}")
    return cpu / len(statuses)


async def _one_variant(variant: str, key: str, runs: int) -> float:
    if variant == "bare":
        from baseline_app import app

        return await _drive(app, key, runs)
    _take_out(variant)
    from launchgate.app import create_app

    app = create_app(settle_heap=True)
    async with app.router.lifespan_context(app):
        return await _drive(app, key, runs)


def run_variant(args: argparse.Namespace) -> None:
    """In a process of its own (the settings come from the environment)."""
    import uvloop

    print(
        json.dumps({"cpu_s_per_run": uvloop.run(_one_variant(args.variant, args.key, args.runs))})
    )


# --------------------------------------------------------------------------- the bench


def setup(work: Path) -> tuple[dict[str, str], str]:
    """A fresh embedded database holding run_latency's suite; its settings and key."""
    env = run_latency.server_env(work / "data")
    port = run_latency.free_port()
    argv = [*run_latency.launchgate_command(), "serve", "--host", "127.0.0.1", "--port", str(port)]
    server = run_latency.start_server("launchgate", argv, env, port, work, None)
    with run_latency.running(server):
        key = run_latency.create_org(env, "enterprise")
        run_latency.create_suite(server.url, key)
    return env, key


def measure(args: argparse.Namespace, log: Any = print) -> dict[str, list[float]]:
    with tempfile.TemporaryDirectory(prefix="lg-cost-parts-") as tmp:
        env, key = setup(Path(tmp))
        results: dict[str, list[float]] = {name: [] for name in VARIANTS}
        for round_ in range(args.rounds):
            for variant in VARIANTS:
                argv = [sys.executable, __file__, "--variant", variant, "--key", key]
                argv += ["--runs", str(args.runs)]
                done = subprocess.run(argv, env=env, capture_output=True, text=True, check=False)
                if done.returncode != 0:
                    raise SystemExit(f"variant {variant} failed:\n{done.stdout}\n{done.stderr}")
                value = json.loads(done.stdout.strip().splitlines()[-1])["cpu_s_per_run"]
                results[variant].append(1000 * value)
                log(f"  round {round_ + 1}, {variant}: {1000 * value:.3f} ms/run")
    return results


def render(results: dict[str, list[float]], args: argparse.Namespace) -> str:
    whole = statistics.median(results["whole"])
    lines = [
        f"Command: `{run_latency.command_line()}`  ",
        f"Date: {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}; "
        f"{args.rounds} alternating rounds of {args.runs} runs from {CONCURRENCY} concurrent "
        f"clients per variant; load average at the end {run_latency.loadavg()}",
        "",
        "| Variant | CPU ms/run (median) | rounds | the part's cost (whole − variant) |",
        "|---|---:|---|---:|",
    ]
    for variant, label in VARIANTS.items():
        median = statistics.median(results[variant])
        rounds = ", ".join(f"{value:.3f}" for value in results[variant])
        cost = "–" if variant in ("whole", "bare") else f"{whole - median:.3f}"
        lines.append(f"| {label} | {median:.3f} | {rounds} | {cost} |")
    bare = statistics.median(results["bare"])
    lines += ["", f"Whole app / bare endpoint, in-process: {whole / bare:.1f}×"]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.variant:
        run_variant(args)
        return 0
    print(render(measure(args), args))
    return 0


if __name__ == "__main__":
    os.environ.setdefault("PYTHONHASHSEED", "0")
    sys.exit(main())
