"""CPU per run of scoring bench/run_latency.py's five-case suite: compiled vs per call.

    .venv/bin/python bench/scorer_cost.py            # 5 rounds of 2,000 runs per path
    .venv/bin/python bench/scorer_cost.py --runs 500 --rounds 3

Scores the suite of bench/run_latency.py (contains ×2, regex, exact_match, json_schema)
on its output, in this process, on one event loop, two ways, in alternating rounds:

- **per call** — the engine with each case scored as runs/engine.py scored it before
  scorers were compiled: `score()` for each case on every run (values looked up and
  case-folded, the pattern looked up in its cache, the schema serialised to find its
  validator), the regex case in a thread (`asyncio.to_thread`) under its time limit;
- **compiled** — `engine.execute` today: the snapshot's compiled scorers (built once, held
  by its PreparedSuite, runs/cache.py), the regex on RE2 inline when it can be.

It prints the CPU time per run (process CPU: every thread, so the thread hop's cost is
in it) and wall time per run, each the median of the rounds, and their ratio. No server
and no database: this is the scoring share of a run only. The machine's load moves both
paths alike, since the rounds alternate; the ratio is the number to read.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import statistics
import sys
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from run_latency import CASES, OUTPUT, RUN_BODY, SCORERS

from launchgate.runs import engine
from launchgate.runs.cache import PreparedSuite
from launchgate.runs.engine import EngineOptions
from launchgate.scorers.builtin import ScoreResult, score, validate_config

TIMEOUT_S = 0.25  # LAUNCHGATE_REGEX_TIMEOUT_MS's default


def snapshot() -> dict[str, Any]:
    """The bench suite as a run's snapshot (the keys the engine reads)."""
    scorers = {s["name"]: s for s in SCORERS}
    cases = []
    for position, case in enumerate(CASES):
        scorer = scorers[case["scorer"]]
        cases.append(
            {
                "id": str(uuid.uuid4()),
                "name": case["name"],
                "input": {},
                "expected": case.get("expected"),
                "threshold": 0.5,
                "weight": 1.0,
                "position": position,
                "scorer": {
                    "id": str(uuid.uuid4()),
                    "name": scorer["name"],
                    "type": scorer["type"],
                    "config": validate_config(scorer["type"], scorer["config"]),
                    "dual_sided": False,
                    "precision_threshold": None,
                    "recall_threshold": None,
                },
            }
        )
    return {"suite": {"id": str(uuid.uuid4()), "pass_threshold": 1.0}, "cases": cases}


@dataclass(frozen=True)
class PerCall:
    """A case scored the way runs/engine.py scored it before compiled scorers: `score()`
    on every run, the regex case in a thread."""

    case: dict[str, Any]

    def in_thread(self, output: str) -> bool:
        return bool(self.case["scorer"]["type"] == "regex")

    def score(self, output: str, *, regex_timeout_s: float) -> ScoreResult:
        scorer = self.case["scorer"]
        return score(
            scorer["type"],
            scorer["config"],
            output,
            self.case["expected"],
            regex_timeout_s=regex_timeout_s,
        )


def per_call_cases(snap: dict[str, Any]) -> tuple[PerCall, ...]:
    return tuple(PerCall(case) for case in snap["cases"])


async def execute(snap: dict[str, Any], output: str) -> list[dict[str, Any]]:
    scores, _ = await engine.execute(snap, output, {}, EngineOptions(regex_timeout_s=TIMEOUT_S))
    return scores


@contextlib.contextmanager
def scoring(path: str) -> Iterator[None]:
    """The engine as it is ("compiled"), or with each case scored per call ("per call")."""
    if path == "compiled":
        yield
        return
    real = engine.compiled_cases
    engine.compiled_cases = per_call_cases  # type: ignore[assignment]
    try:
        yield
    finally:
        engine.compiled_cases = real


async def measure(runs: int, rounds: int) -> dict[str, list[tuple[float, float]]]:
    prepared = PreparedSuite(uuid.uuid4(), uuid.uuid4(), snapshot())
    snap = prepared.snapshot
    output = RUN_BODY["output"]
    assert output == OUTPUT
    # Same answers both ways, and every case passes (as run_latency checks).
    answers = {}
    for name in ("per call", "compiled"):
        with scoring(name):
            answers[name] = [(s["score"], s["reason"]) for s in await execute(snap, output)]
    assert answers["per call"] == answers["compiled"], answers
    assert all(value == 1.0 for value, _ in answers["compiled"]), answers
    results: dict[str, list[tuple[float, float]]] = {"per call": [], "compiled": []}
    for _ in range(rounds):
        for name in results:
            with scoring(name):
                for _ in range(runs // 10):  # warm-up
                    await execute(snap, output)
                cpu, wall = time.process_time(), time.perf_counter()
                for _ in range(runs):
                    await execute(snap, output)
                cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
            results[name].append((cpu / runs * 1000, wall / runs * 1000))
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=2000, help="runs per round and path")
    parser.add_argument("--rounds", type=int, default=5, help="alternating rounds")
    args = parser.parse_args()
    results = asyncio.run(measure(args.runs, args.rounds))
    load = " ".join(f"{x:.2f}" for x in os.getloadavg())
    print(
        f"Command: `.venv/bin/python bench/scorer_cost.py --runs {args.runs} "
        f"--rounds {args.rounds}`  "
    )
    print(f"Load average at the end: {load} ({os.cpu_count()} cores)\n")
    print(
        "| Scoring the 5-case suite | CPU ms/run (median) | wall ms/run (median) | CPU per round |"
    )
    print("|---|---:|---:|---|")
    medians = {}
    for name, rows in results.items():
        cpu = statistics.median(r[0] for r in rows)
        wall = statistics.median(r[1] for r in rows)
        medians[name] = cpu
        each = ", ".join(f"{r[0]:.3f}" for r in rows)
        print(f"| {name} | {cpu:.3f} | {wall:.3f} | {each} |")
    print(f"\nCompiled / per call, CPU: {medians['compiled'] / medians['per call']:.2f}×")


if __name__ == "__main__":
    main()
