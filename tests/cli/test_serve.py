"""``launchgate serve`` as a real server process. (The README's curl walk-through runs
against one in tests/docs, with the other runnable examples of the docs.)"""

from __future__ import annotations

import contextlib
import re
import signal
import socket
import subprocess
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from tests.cli.conftest import (
    BIN,
    QUIET_LIMITS,
    Cli,
    Server,
    assert_one_clear_line,
    make_cli,
    start_server,
    stop_server,
)

pytestmark = pytest.mark.slow

PASSWORD = "correct horse battery staple"


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Server, str, str]]:
    """One server for this module, over a data dir holding one organisation and its owner."""
    cli = make_cli(tmp_path_factory.mktemp("served"))
    cli.settings.update(QUIET_LIMITS)
    org_id, key = cli.create_org("Acme")
    done = cli.run(
        "users",
        "create",
        "--org",
        org_id,
        "--email",
        "owner@example.com",
        "--password-stdin",
        "--role",
        "owner",
        stdin=PASSWORD + "\n",
    )
    assert done.returncode == 0, done.stderr
    server = start_server(cli)
    try:
        yield server, org_id, key
    finally:
        code = stop_server(server)
    # uvicorn shuts down gracefully, then re-raises the signal it caught.
    assert code in (0, -signal.SIGTERM), f"launchgate serve exited with {code} on SIGTERM"


def test_serve_answers_health_and_the_api(served: tuple[Server, str, str]) -> None:
    server, _, key = served
    health = httpx.get(f"{server.url}/health", timeout=5)
    assert health.status_code == 200
    body = health.json()
    assert body["status"] == "healthy" and body["version"]
    assert body["services"] == {"database": "connected", "redis": "not_configured"}
    usage = httpx.get(
        f"{server.url}/v1/billing/usage", headers={"Authorization": f"Bearer {key}"}, timeout=5
    )
    assert usage.status_code == 200 and usage.json()["plan"] == "enterprise"


def test_a_user_made_with_the_cli_can_log_in(served: tuple[Server, str, str]) -> None:
    server, _, _ = served
    login = httpx.post(
        f"{server.url}/v1/auth/login",
        timeout=10,
        json={"email": "Owner@Example.com", "password": PASSWORD},
    )
    assert login.status_code == 200, login.text
    token = login.json()["data"]["access_token"]
    projects = httpx.get(
        f"{server.url}/v1/projects", headers={"Authorization": f"Bearer {token}"}, timeout=5
    )
    assert projects.status_code == 200 and projects.json()["data"] == []
    wrong = httpx.post(
        f"{server.url}/v1/auth/login",
        timeout=10,
        json={"email": "owner@example.com", "password": PASSWORD + "!"},
    )
    assert wrong.status_code == 401
    assert wrong.json()["error"]["code"] == "UNAUTHORIZED"


def test_a_taken_port_is_one_clear_line_and_exit_2(tmp_path: Path) -> None:
    cli = make_cli(tmp_path)
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        for command in (["serve"], ["quickstart"]):
            done = cli.run(*command, "--port", str(port))
            assert done.returncode == 2, done.stdout + done.stderr
            assert_one_clear_line(done.stderr, f"port {port} is in use; pass --port")
            assert "Errno" not in done.stderr
            # Nothing claimed to listen, and nothing was set up before the port was tried.
            assert done.stdout == ""
            assert not (tmp_path / "data").exists()


@dataclass
class Started:
    """A ``launchgate serve`` that has said it listens: what it printed until then."""

    process: subprocess.Popen[str]
    lines: list[str]
    url: str


@contextlib.contextmanager
def serving(cli: Cli, *args: str) -> Iterator[Started]:
    """``launchgate serve --port 0 ARGS``, read up to its "listening" line; stopped after."""
    process = subprocess.Popen(
        [str(BIN), "serve", "--port", "0", *args],
        cwd=cli.cwd,
        env=cli.env(),
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        lines: list[str] = []
        assert process.stdout is not None
        # readline in a thread: a server that never says "listening" fails the test
        # instead of hanging it (a bound on the wait, not a timing assertion).
        with ThreadPoolExecutor(1) as reader:
            while not lines or "listening on" not in lines[-1]:
                line = reader.submit(process.stdout.readline).result(timeout=60)
                assert line, (
                    f"serve exited: {lines} {process.stderr.read() if process.stderr else ''}"
                )
                lines.append(line.rstrip("\n"))
        url = re.search(r"LaunchGate listening on (http://\S+)", lines[-1])
        assert url, lines
        yield Started(process, lines, url[1])
    finally:
        stop_server(Server("", process))


def test_listening_is_said_once_the_socket_answers(tmp_path: Path) -> None:
    cli = make_cli(tmp_path)
    with serving(cli) as server:
        # No retry: the line is printed only once the server accepts and answers.
        assert httpx.get(f"{server.url}/health", timeout=10).status_code == 200
        assert httpx.head(f"{server.url}/health", timeout=10).status_code == 200


def test_serve_says_which_data_dir_and_how_to_use_an_existing_one(tmp_path: Path) -> None:
    """The issue's trap: a quickstart in one directory, ``serve`` from another, a new empty
    data dir and "Invalid API key". Now serve says so, and --data-dir serves the old one."""
    cli = make_cli(tmp_path)
    cli.settings.pop("LAUNCHGATE_DATA_DIR")  # the default, ./.launchgate, as a user has it
    _, key = cli.create_org()
    existing = (tmp_path / ".launchgate").resolve()
    sub = tmp_path / "sub"
    sub.mkdir()
    cli.cwd = sub
    new = (sub / ".launchgate").resolve()

    with serving(cli) as server:
        said = "\n".join(server.lines)
        assert f"Data directory: {new} (new: created just now, empty)" in said
        assert f"An existing data directory is at {existing}" in said
        assert f"launchgate serve --data-dir {existing}" in said
    with serving(cli) as server:  # the same one again: known now, no advice
        assert f"Data directory: {new}\n" in "\n".join(server.lines) + "\n"
        assert "existing" not in "\n".join(server.lines)
    with serving(cli, "--data-dir", str(existing)) as server:
        assert f"Data directory: {existing}" in "\n".join(server.lines)
        usage = httpx.get(
            f"{server.url}/v1/billing/usage", headers={"Authorization": f"Bearer {key}"}, timeout=10
        )
        assert usage.status_code == 200, usage.text


def test_a_new_data_dir_with_none_nearby_says_how_to_point_at_one(tmp_path: Path) -> None:
    cli = make_cli(tmp_path)
    with serving(cli) as server:
        said = "\n".join(server.lines)
    data = (tmp_path / "data").resolve()
    assert f"Data directory: {data} (new: created just now, empty)" in said
    assert "pass --data-dir PATH or set LAUNCHGATE_DATA_DIR=PATH" in said
