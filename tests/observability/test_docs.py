"""docs/observability.md's examples, run as written against a real ``launchgate serve``
with metrics on, a token and JSON logs (the shared docs test's server has metrics off,
so these blocks are marked for this test); and that server's log is JSON lines."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.contract.server import LiveServer, start
from tests.docs.blocks import PYTHON, ROOT, blocks

PAGE = ROOT / "docs" / "observability.md"
OURS = "tests/observability/test_docs.py runs it"
TOKEN = "docs-metrics-" + "t" * 24


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    live = start(
        tmp_path_factory.mktemp("observability-docs"),
        extra_env={
            "LAUNCHGATE_METRICS": "on",
            "LAUNCHGATE_METRICS_TOKEN": TOKEN,
            "LAUNCHGATE_LOG_FORMAT": "json",
            "LAUNCHGATE_LOG_LEVEL": "DEBUG",
        },
    )
    try:
        yield live
    finally:
        live.process.terminate()
        live.process.wait(timeout=30)


def test_the_pages_examples_run(server: LiveServer, tmp_path: Path) -> None:
    httpx.get(server.url + "/health")  # one /health request for the first example to find
    ours = [block for block in blocks(PAGE) if block.reason and OURS in block.reason]
    assert len(ours) == 3
    env = os.environ | {"LAUNCHGATE_URL": server.url, "LAUNCHGATE_METRICS_TOKEN": TOKEN}
    for block in ours:
        command = [sys.executable, "-c", block.code] if block.lang in PYTHON else None
        done = subprocess.run(
            command or ["bash", "-euo", "pipefail", "-c", block.code],
            env=env,
            cwd=tmp_path,
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert done.returncode == 0, (block.where, done.stdout, done.stderr)
        assert done.stdout.strip(), block.where
        if block.lang in PYTHON:
            assert "/health 200" in done.stdout


def test_the_servers_log_is_json_lines(server: LiveServer) -> None:
    """Every line the server writes once listening. The command's own lines before it (the
    data directory, the "listening" banner, a warning of the start-up checks) come before
    the app configures its logs (cli/admin.py)."""
    httpx.get(server.url + "/health", headers={"X-Request-ID": "docs-log-1"})
    # The server writes its line after answering: wait for it rather than race it.
    deadline = time.monotonic() + 10
    while True:
        written = server.log_tail(200_000).splitlines()
        banner = next(n for n, line in enumerate(written) if "LaunchGate listening on" in line)
        lines = [json.loads(line) for line in written[banner + 1 :] if line.strip()]
        if any(line.get("request_id") == "docs-log-1" for line in lines):
            break
        assert time.monotonic() < deadline, "no log line with request_id docs-log-1"
        time.sleep(0.05)
    assert all("event" in line and "level" in line for line in lines)
    assert TOKEN not in server.log_tail(200_000)
