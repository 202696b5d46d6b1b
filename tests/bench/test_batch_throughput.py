"""bench/batch_throughput.py end to end with tiny sizes: the fake provider and a real
``launchgate serve`` as subprocesses, every phase run once (about 10 s).

Structure only: every phase is measured and cleared, the judged batch made exactly its
judge calls within the limit, and the report carries the table and the three goals. No
figure is asserted: timings are the benchmark's, and a loaded machine would make any
bound a coin toss."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

BENCH = Path(__file__).resolve().parents[2] / "bench"
ITEMS, JUDGE_ITEMS = 12, 6

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def bench() -> Iterator[ModuleType]:
    sys.path.insert(0, str(BENCH))  # the script imports its sibling scripts by name
    try:
        import batch_throughput as module

        yield module
    finally:
        sys.path.remove(str(BENCH))


@pytest.fixture(scope="module")
def report(bench: ModuleType) -> Any:
    sizes = ["--items", str(ITEMS), "--judge-items", str(JUDGE_ITEMS), "--latency-ms", "50"]
    args = bench.parse_args([*sizes, "--quick", "--no-write"])
    return bench.run_bench(args, log=lambda _line: None)


def test_every_phase_is_measured_once_and_clears(bench: ModuleType, report: Any) -> None:
    assert [(m.kind, m.items) for m in report.runs] == [
        ("singles", ITEMS),
        ("batch", ITEMS),
        ("judge", JUDGE_ITEMS),
    ]
    for m in report.runs:
        assert m.problems == [], m.problems
        assert m.cleared == m.items and m.wall_s > 0 and m.cpu_s >= 0
    batch, judged = report.of("batch")[0], report.of("judge")[0]
    assert batch.batch_id.startswith("bat_") and judged.batch_id.startswith("bat_")
    assert judged.fake_calls == JUDGE_ITEMS * bench.JUDGE_CASES
    assert 1 <= judged.fake_max_in_flight <= bench.CONCURRENCY
    assert judged.ideal_s == pytest.approx(0.05)  # ceil(6 × 2 / 20) × 50 ms


def test_the_report_has_the_table_and_the_three_goals(
    bench: ModuleType, report: Any, tmp_path: Path
) -> None:
    args = bench.parse_args(["--items", str(ITEMS), "--judge-items", str(JUDGE_ITEMS)])
    text, _ = bench.render(report, args)
    assert text.count("\n| 1 batch of") == 2 and f"| {ITEMS} single runs |" in text
    goals = [line for line in text.splitlines() if line.startswith(("| 12 determ", "| 6 items"))]
    assert len(goals) == 2 and "never more than 20 judge calls in flight" in text
    results = tmp_path / "RESULTS.md"
    results.write_text("# Results\n\nhand-written\n")
    bench.write_results(text, results)
    bench.write_results(text, results)  # the second run replaces the block, keeps the rest
    written = results.read_text()
    assert written.count(bench.BEGIN_MARK) == 1 and written.startswith("# Results\n\nhand-written")
