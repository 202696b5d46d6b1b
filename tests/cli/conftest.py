"""The real ``launchgate`` console script, run as a subprocess the way an operator runs it.

Each call gets a clean environment (no ``LAUNCHGATE_*`` from the caller, a private HOME)
and, unless the test says otherwise, its own data dir under ``tmp_path``.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path

import httpx
import pytest

from launchgate.testing.fake_provider import free_port
from tests.pg import empty_database

BIN = Path(sys.executable).parent / "launchgate"
# Settings that would make a test depend on the clock or on its neighbours.
QUIET_LIMITS = {
    "LAUNCHGATE_RATE_LIMIT": "off",
    "LAUNCHGATE_AUTH_RATE_LIMIT": "off",
    "LAUNCHGATE_LOCKOUT_LIMIT": "off",
}


def clean_env(home: Path, **settings: str) -> dict[str, str]:
    """PATH and locale from the caller, nothing else; then the given settings. PYTHONPATH
    too, when the caller has one, so the subprocess runs the code under test (a worktree's
    ``src`` ahead of the installed package)."""
    keep = ("PATH", "LANG", "LC_ALL", "TMPDIR", "PYTHONPATH")
    env = {k: v for k, v in os.environ.items() if k in keep}
    env.update(HOME=str(home), PYTHONDONTWRITEBYTECODE="1", COLUMNS="200")
    env.update(settings)
    return env


@dataclass
class Cli:
    """Runs ``launchgate`` with one data dir and one working directory."""

    home: Path
    cwd: Path
    settings: dict[str, str]

    def env(self, **extra: str) -> dict[str, str]:
        return clean_env(self.home, **{**self.settings, **extra})

    def run(
        self, *args: str, stdin: str | None = None, timeout: float = 120, **extra: str
    ) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [str(BIN), *args],
            cwd=self.cwd,
            env=self.env(**extra),
            input=stdin,
            capture_output=True,
            text=True,
            timeout=timeout,
            stdin=None if stdin is not None else subprocess.DEVNULL,
        )

    def with_settings(self, **extra: str) -> Cli:
        """This ``Cli`` with more settings: for passing settings as a ``**dict``, which
        ``run`` cannot take (it could fill ``stdin`` or ``timeout``)."""
        return replace(self, settings={**self.settings, **extra})

    def create_org(self, name: str = "Acme", **extra: str) -> tuple[str, str]:
        done = self.with_settings(**extra).run("orgs", "create", name, "--json")
        assert done.returncode == 0, done.stderr
        created = json.loads(done.stdout)
        return created["org_id"], created["api_key"]


def make_cli(root: Path) -> Cli:
    """A ``Cli`` working in ``root``, with its data dir at ``root/data``."""
    home = root / "home"
    home.mkdir()
    return Cli(home=home, cwd=root, settings={"LAUNCHGATE_DATA_DIR": str(root / "data")})


@pytest.fixture
def cli(tmp_path: Path) -> Cli:
    return make_cli(tmp_path)


def assert_one_clear_line(stderr: str, *needles: str) -> None:
    """An operator error is one line on stderr that says what is wrong, never a traceback."""
    lines = [line for line in stderr.splitlines() if line.strip()]
    assert len(lines) == 1, stderr
    assert "Traceback" not in stderr
    for needle in needles:
        assert needle in lines[0], lines[0]


@dataclass
class Server:
    url: str
    process: subprocess.Popen[str]


def start_server(cli: Cli, timeout_s: float = 60) -> Server:
    """``launchgate serve`` on a free port; returns once ``GET /health`` answers 200."""
    port = free_port()
    process = subprocess.Popen(
        [str(BIN), "serve", "--port", str(port)],
        cwd=cli.cwd,
        env=cli.env(),
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if process.poll() is not None:
            output = process.stdout.read() if process.stdout else ""
            raise AssertionError(f"launchgate serve exited with {process.returncode}:\n{output}")
        try:
            if httpx.get(f"{url}/health", timeout=2).status_code == 200:
                return Server(url, process)
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    stop_server(Server(url, process))
    raise AssertionError(f"launchgate serve did not answer /health within {timeout_s} s")


def stop_server(server: Server, timeout_s: float = 20) -> int:
    """SIGTERM, as a process manager would; returns the exit code."""
    server.process.send_signal(signal.SIGTERM)
    try:
        return server.process.wait(timeout=timeout_s)
    except subprocess.TimeoutExpired:
        server.process.kill()
        server.process.wait()
        raise AssertionError(f"launchgate serve ignored SIGTERM for {timeout_s} s") from None
    finally:
        if server.process.stdout:
            server.process.stdout.close()


@pytest.fixture
def fresh_postgres() -> Iterator[str]:
    """An empty PostgreSQL database (not migrated), dropped afterwards; its plain URL."""
    with empty_database("lg_cli") as url:
        yield url
