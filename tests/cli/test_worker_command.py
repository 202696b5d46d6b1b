"""`launchgate worker` refuses, in one line, what it cannot run with; with Redis it runs
until SIGTERM and exits 0 (the fleet tests in tests/scale show it doing the work)."""

from __future__ import annotations

import os
import signal
import subprocess
import time

from tests.cli.conftest import BIN, Cli, assert_one_clear_line


def test_the_worker_needs_a_redis_url(cli: Cli) -> None:
    done = cli.run("worker")
    assert done.returncode == 2
    assert_one_clear_line(done.stderr, "LAUNCHGATE_REDIS_URL")


def test_a_bad_redis_url_is_named(cli: Cli) -> None:
    done = cli.run("worker", LAUNCHGATE_REDIS_URL="http://nope")
    assert done.returncode == 2
    assert_one_clear_line(done.stderr, "LAUNCHGATE_REDIS_URL", "redis://")


def test_the_worker_stops_cleanly_on_sigterm_even_when_redis_is_unreachable(cli: Cli) -> None:
    out_file, err_file = cli.cwd / "worker.out", cli.cwd / "worker.err"
    with out_file.open("w") as out, err_file.open("w") as err:
        process = subprocess.Popen(
            [str(BIN), "worker", "--concurrency", "2"],
            cwd=cli.cwd,
            text=True,
            env=cli.env(LAUNCHGATE_REDIS_URL="redis://127.0.0.1:1/0"),
            stdout=out,
            stderr=err,
            start_new_session=True,
        )

    def said() -> str:
        return out_file.read_text() + err_file.read_text()

    # The consume loop's retry line comes after the signal handlers are in place; a fixed
    # sleep instead would SIGTERM a slow machine's worker while it is still importing.
    deadline = time.monotonic() + 60
    while (
        "job queue unreachable; retrying" not in said()
        and process.poll() is None
        and time.monotonic() < deadline
    ):
        time.sleep(0.1)
    assert process.poll() is None, said()  # it keeps retrying the queue instead of dying
    assert "job queue unreachable; retrying" in said()
    os.killpg(process.pid, signal.SIGTERM)
    process.wait(timeout=20)
    assert process.returncode == 0, said()
    assert "2 job(s) at once from redis://127.0.0.1:1/0" in out_file.read_text()
    assert "Traceback" not in said()


def test_the_start_line_names_the_redis_url_without_its_password() -> None:
    from launchgate.cli.admin import _redacted

    assert (
        _redacted("redis://:s3cret@redis.internal:6379/0") == "redis://:***@redis.internal:6379/0"
    )
    assert _redacted("rediss://app:s3cret@redis:6380") == "rediss://app:***@redis:6380"
    assert _redacted("redis://redis:6379/0") == "redis://redis:6379/0"
