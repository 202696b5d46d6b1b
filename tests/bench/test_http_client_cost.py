"""bench/http_client_cost.py with tiny sizes: every client answers every request of the
local server and the report carries a row for each and their ratios. Structure only: no
figure is asserted (timings are the benchmark's)."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

SCRIPT = Path(__file__).resolve().parents[2] / "bench" / "http_client_cost.py"


def test_every_client_is_measured_and_compared() -> None:
    done = subprocess.run(
        [sys.executable, str(SCRIPT), "--requests", "30", "--rounds", "2", "--in-flight", "5"],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    rows = re.findall(r"^\| (.+?) \| [\d.]+ \(([\d.]+), ([\d.]+)\) \|$", done.stdout, re.M)
    assert [row[0] for row in rows] == [
        "httpx's own transport (httpcore)",
        "httpx over aiohttp (HttpClient.request)",
        "the judge's send() on aiohttp's session",
    ]
    assert re.search(r"^httpx over aiohttp / httpx's own transport: [\d.]+×$", done.stdout, re.M)
    assert re.search(r"^the judge's send\(\) / httpx over aiohttp: [\d.]+×$", done.stdout, re.M)


def test_bad_sizes_are_refused() -> None:
    done = subprocess.run(
        [sys.executable, str(SCRIPT), "--requests", "0"], capture_output=True, text=True
    )
    assert done.returncode == 2 and "must be positive" in done.stderr
