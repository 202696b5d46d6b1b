"""bench/run_cost_parts.py with tiny sizes: every variant is measured in a process of its
own and the report has a row for each. Structure only: no figure is asserted (timings are
the benchmark's)."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parents[2] / "bench" / "run_cost_parts.py"

pytestmark = pytest.mark.slow


def test_every_variant_is_measured_and_costed() -> None:
    done = subprocess.run(
        [sys.executable, str(SCRIPT), "--runs", "64", "--rounds", "1"],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    rows = re.findall(r"^\| (.+?) \| ([\d.]+) \| [\d.]+ \| (–|-?[\d.]+) \|$", done.stdout, re.M)
    assert [row[0] for row in rows] == [
        "the app as served",
        "no json_schema validation",
        "no scoring",
        "no write (run not stored)",
        "answer by orjson (no RunResult)",
        "bare endpoint (bench/baseline_app.py)",
    ]
    assert all(float(cpu) > 0 for _, cpu, _ in rows)
    assert re.search(r"^Whole app / bare endpoint, in-process: [\d.]+×$", done.stdout, re.M)


def test_bad_sizes_are_refused() -> None:
    done = subprocess.run(
        [sys.executable, str(SCRIPT), "--runs", "5"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 2
    assert "--runs must be" in done.stderr
