"""``launchgate serve --workers N`` for real: two API processes on one port (scaled-out mode:
PostgreSQL and Redis), each of them answering runs on its own, a killed one replaced, and
the combinations that cannot work refused in one line before anything is opened."""

from __future__ import annotations

import contextlib
import os
import secrets
import signal
import socket
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
import redis

from launchgate.testing.fake_provider import free_port
from tests.cli.conftest import BIN, QUIET_LIMITS, Cli, assert_one_clear_line, make_cli
from tests.pg import empty_database

pytestmark = pytest.mark.slow

REDIS_URL = os.environ.get("LAUNCHGATE_TEST_REDIS_URL", "redis://127.0.0.1:6379")
# A database index no other test uses (tests/scale takes 13 and up), emptied before and
# after: one per pytest-xdist worker (gw0 -> 12, gw1 -> 11, gw2 -> 10), since the module's
# fixture may be set up in several workers at once.
REDIS_DB = 12 - int(os.environ.get("PYTEST_XDIST_WORKER", "gw0").removeprefix("gw") or 0)
REQUIRE_REDIS = os.environ.get("LAUNCHGATE_TEST_REQUIRE_REDIS") == "1"
OUTPUT = "Paris is the capital of France."
DOCS = Path(__file__).resolve().parents[2] / "docs" / "operations.md"


@dataclass
class Workers:
    url: str
    parent: subprocess.Popen[str]
    log: Path
    key: str

    def children(self) -> list[int]:
        """The live API processes the supervisor spawned (not multiprocessing's tracker)."""
        found = []
        for stat in Path("/proc").glob("[0-9]*/stat"):
            try:
                fields = stat.read_text().rsplit(")", 1)[1].split()
                cmdline = (stat.parent / "cmdline").read_bytes()
            except OSError:
                continue
            if int(fields[1]) == self.parent.pid and fields[0] != "Z" and b"spawn_main" in cmdline:
                found.append(int(stat.parent.name))
        return sorted(found)

    def run(self) -> dict[str, object]:
        """One synchronous run on a new connection (so any live process may take it)."""
        answer = httpx.post(
            f"{self.url}/v1/run",
            json={"suite": "gate", "output": OUTPUT},
            headers={"Authorization": f"Bearer {self.key}"},
            timeout=30,
        )
        assert answer.status_code == 200, answer.text
        body: dict[str, object] = answer.json()
        assert body["status"] == "cleared", body
        return body


def _redis_url() -> str:
    url = f"{REDIS_URL.rstrip('/')}/{REDIS_DB}"
    client = redis.Redis.from_url(url, socket_connect_timeout=2)
    try:
        client.flushdb()
    except redis.RedisError as exc:
        if REQUIRE_REDIS:
            pytest.fail(f"Redis is required but unreachable at {REDIS_URL}: {exc}")
        pytest.skip(f"Redis unreachable at {REDIS_URL}")
    finally:
        client.close()
    return url


def _scaled_out_cli(root: Path, database_url: str, redis_url: str) -> Cli:
    cli = make_cli(root)
    cli.settings.update(
        QUIET_LIMITS,
        LAUNCHGATE_DATABASE_URL=database_url,
        LAUNCHGATE_REDIS_URL=redis_url,
        LAUNCHGATE_SECRET_KEY=secrets.token_urlsafe(48),
        BYOK_ENCRYPTION_KEY=secrets.token_hex(32),
    )
    return cli


def _create_suite(url: str, key: str) -> None:
    with httpx.Client(
        base_url=f"{url}/v1", headers={"Authorization": f"Bearer {key}"}, timeout=30
    ) as client:

        def post(path: str, body: dict[str, object]) -> dict[str, object]:
            answer = client.post(path, json=body)
            assert answer.status_code == 201, answer.text
            data: dict[str, object] = answer.json()["data"]
            return data

        post("/projects", {"name": "Gate", "slug": "gate"})
        scorer = post(
            "/projects/gate/scorers",
            {"name": "names the capital", "type": "contains", "config": {"values": ["Paris"]}},
        )
        suite = post("/projects/gate/suites", {"name": "Gate", "slug": "gate"})
        post(f"/suites/{suite['id']}/cases", {"name": "capital", "scorer_id": scorer["id"]})


def _wait_ready(server: Workers, timeout_s: float = 90) -> None:
    """Until the parent says every process listens (it says so only once they all do)."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if server.parent.poll() is not None:
            raise AssertionError(
                f"serve --workers exited with {server.parent.returncode}:\n{server.log.read_text()}"
            )
        if "LaunchGate listening on" in server.log.read_text():
            return
        time.sleep(0.2)
    raise AssertionError(f"no 'listening' line within {timeout_s} s:\n{server.log.read_text()}")


@pytest.fixture(scope="module")
def workers(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Workers]:
    """``serve --workers 2`` on a fresh PostgreSQL database and a Redis database index of
    its own, with one organisation and a one-case deterministic suite."""
    root = tmp_path_factory.mktemp("workers")
    redis_url = _redis_url()
    with empty_database("lg_workers") as database_url:
        cli = _scaled_out_cli(root, database_url, redis_url)
        done = cli.run("db", "upgrade")
        assert done.returncode == 0, done.stderr
        _, key = cli.create_org("Acme")
        port = free_port()
        log = root / "serve.log"
        with log.open("w") as sink:
            parent = subprocess.Popen(
                [str(BIN), "serve", "--workers", "2", "--port", str(port)],
                cwd=cli.cwd,
                env=cli.env(),
                stdin=subprocess.DEVNULL,
                stdout=sink,
                stderr=subprocess.STDOUT,
                text=True,
            )
        server = Workers(f"http://127.0.0.1:{port}", parent, log, key)
        try:
            _wait_ready(server)
            _create_suite(server.url, key)
            yield server
        finally:
            children = server.children()
            parent.send_signal(signal.SIGTERM)
            try:
                code = parent.wait(timeout=30)
            except subprocess.TimeoutExpired:
                parent.kill()
                for pid in server.children():
                    os.kill(pid, signal.SIGKILL)
                raise AssertionError("serve --workers ignored SIGTERM for 30 s") from None
            finally:
                redis.Redis.from_url(redis_url).flushdb()
        # Stopped as a process manager stops it: the parent exits 0 and takes its
        # processes with it.
        assert code == 0, log.read_text()
        assert not [pid for pid in children if Path(f"/proc/{pid}").exists()]


def test_two_processes_each_answer_runs(workers: Workers) -> None:
    assert "LaunchGate listening on " + workers.url + " with 2 processes" in workers.log.read_text()
    children = workers.children()
    assert len(children) == 2, children
    run_ids = []
    # Each process alone: with the other one stopped, every new connection is its own.
    for paused in children:
        os.kill(paused, signal.SIGSTOP)
        try:
            run_ids += [str(workers.run()["id"]) for _ in range(3)]
        finally:
            os.kill(paused, signal.SIGCONT)
    # One database: a run stored by either process is read back through the other.
    for run_id in run_ids:
        answer = httpx.get(
            f"{workers.url}/v1/runs/{run_id}",
            headers={"Authorization": f"Bearer {workers.key}"},
            timeout=30,
        )
        assert answer.status_code == 200 and answer.json()["data"]["status"] == "cleared", (
            answer.text
        )


def test_a_killed_process_is_replaced(workers: Workers) -> None:
    before = workers.children()
    assert len(before) == 2, before
    os.kill(before[0], signal.SIGKILL)
    workers.run()  # the other one answers meanwhile
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        now = workers.children()
        if len(now) == 2 and before[0] not in now:
            break
        time.sleep(0.2)
    else:
        raise AssertionError(f"no process replaced {before[0]}: {workers.children()}")
    os.kill(before[1], signal.SIGSTOP)  # now the replacement must answer by itself
    try:
        deadline = time.monotonic() + 60
        while True:  # it is spawned; it answers once its app has started
            try:
                workers.run()
                break
            except (httpx.HTTPError, AssertionError):
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.5)
    finally:
        # uvicorn's supervisor may have replaced the stopped process meanwhile (it stops
        # answering the supervisor's health pings): then there is nothing to resume.
        with contextlib.suppress(ProcessLookupError):
            os.kill(before[1], signal.SIGCONT)


def _refused(cli: Cli, port: int, *args: str) -> str:
    done = cli.run("serve", "--port", str(port), *args)
    assert done.returncode == 2, (done.stdout, done.stderr)
    # Refused before the port is taken or anything is created.
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", port))
    assert not (cli.cwd / "data").exists()
    return done.stderr


def test_the_embedded_mode_refuses_more_than_one_process(cli: Cli) -> None:
    stderr = _refused(cli, free_port(), "--workers", "2")
    assert_one_clear_line(
        stderr, "--workers 2", "LAUNCHGATE_DATABASE_URL", "LAUNCHGATE_REDIS_URL", "one process"
    )
    # docs/operations.md quotes the line as it is.
    assert stderr.strip() in DOCS.read_text().splitlines()


def test_postgresql_without_redis_refuses_more_than_one_process(
    cli: Cli, fresh_postgres: str
) -> None:
    cli.settings.update(
        LAUNCHGATE_DATABASE_URL=fresh_postgres, LAUNCHGATE_SECRET_KEY=secrets.token_urlsafe(48)
    )
    stderr = _refused(cli, free_port(), "--workers", "3")
    assert_one_clear_line(stderr, "--workers 3", "LAUNCHGATE_REDIS_URL")
    assert "LAUNCHGATE_DATABASE_URL" not in stderr


def test_the_number_of_processes_is_checked(cli: Cli) -> None:
    for bad in ("0", "65"):
        done = cli.run("serve", "--port", str(free_port()), "--workers", bad)
        assert done.returncode == 2, done.stderr
        assert "--workers" in done.stderr and "Traceback" not in done.stderr
