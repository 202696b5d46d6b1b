"""The scaled-out mode for real: `launchgate serve` and `launchgate worker` processes on a
fresh PostgreSQL database and a Redis, judging against the fake provider in its own
process.

Redis: the one ``scripts/test`` found or started (``LAUNCHGATE_TEST_REDIS_URL``), on a
database index of its own that each test empties first; a test that stops or restarts
Redis starts its own ``redis-server`` on a free port instead (``own_redis``).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import redis

from launchgate.testing.fake_provider.runner import FakeProviderProcess, free_port
from launchgate.testing.fleet import QUIET_LIMITS, Fleet
from tests.pg import empty_database

REDIS_URL = os.environ.get("LAUNCHGATE_TEST_REDIS_URL", "redis://127.0.0.1:6379")
# The shared Redis's database index for these tests: one per pytest-xdist worker (gw0 -> 13,
# gw1 -> 14, …; 13 without xdist), since each test empties its database first.
_WORKER = os.environ.get("PYTEST_XDIST_WORKER", "gw0").removeprefix("gw")
TEST_DB = 13 + int(_WORKER or 0)
PROVIDER_KEY = "sk-test-" + "f" * 40
# scripts/test sets this: there, a missing Redis is a failure, never a skip.
REQUIRE_REDIS = os.environ.get("LAUNCHGATE_TEST_REQUIRE_REDIS") == "1"


def _require(condition: bool, why: str) -> None:
    if not condition:
        if REQUIRE_REDIS:
            pytest.fail(why)
        pytest.skip(why)


@pytest.fixture
def shared_redis() -> Iterator[str]:
    url = f"{REDIS_URL.rstrip('/')}/{TEST_DB}"
    client = redis.Redis.from_url(url, socket_connect_timeout=2)
    try:
        client.flushdb()
    except redis.RedisError as exc:
        _require(False, f"Redis unreachable at {REDIS_URL}: {exc}")
    yield url
    client.flushdb()
    client.close()


class OwnRedis:
    """A redis-server of this test's own, keeping nothing on disk (like our machines'),
    so a restart loses every stream and key, the hard case."""

    def __init__(self, directory: Path) -> None:
        self.port = free_port()
        self.directory = directory
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        self.process = subprocess.Popen(
            [
                "redis-server",
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
                "--dir",
                str(self.directory),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                redis.Redis(port=self.port, socket_connect_timeout=0.5).ping()
                return
            except redis.RedisError:
                time.sleep(0.05)
        raise RuntimeError("redis-server did not start")

    def stop(self) -> None:
        if self.process is not None:
            self.process.kill()
            self.process.wait(timeout=10)
            self.process = None

    def restart(self) -> None:
        self.stop()
        self.start()


@pytest.fixture
def own_redis(tmp_path: Path) -> Iterator[OwnRedis]:
    _require(shutil.which("redis-server") is not None, "redis-server is not installed")
    server = OwnRedis(tmp_path)
    server.start()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def fake() -> Iterator[FakeProviderProcess]:
    with FakeProviderProcess(extra_args=["--log-level", "warning"]) as server:
        yield server


@pytest.fixture
def database() -> Iterator[str]:
    with empty_database("lg_scale") as url:
        yield url


def make_fleet(
    directory: Path, database: str, redis_url: str, fake: FakeProviderProcess, **settings: str
) -> Fleet:
    fake.reset()
    fleet = Fleet(
        directory,
        database,
        redis_url,
        settings={
            **QUIET_LIMITS,
            "LAUNCHGATE_OPENAI_BASE_URL": fake.openai_base_url,
            "LAUNCHGATE_ALLOW_PRIVATE_PROVIDER_URLS": "true",
            **settings,
        },
    )
    fleet.migrate()
    return fleet


def usage_count(url: str, api_key: str) -> int:
    answer = httpx.get(
        url + "/v1/billing/usage", headers={"Authorization": f"Bearer {api_key}"}, timeout=10
    )
    answer.raise_for_status()
    count: int = answer.json()["current_usage"]
    return count


def wait_final(
    url: str, api_key: str, run_ids: list[str], timeout_s: float, fleet: Fleet
) -> dict[str, dict[str, object]]:
    """Every run's final state, polling; fails quoting the fleet's logs on timeout."""
    headers = {"Authorization": f"Bearer {api_key}"}
    final: dict[str, dict[str, object]] = {}
    deadline = time.monotonic() + timeout_s
    with httpx.Client(base_url=url, headers=headers, timeout=10) as client:
        while time.monotonic() < deadline:
            for run_id in [r for r in run_ids if r not in final]:
                data = client.get(f"/v1/runs/{run_id}").json()["data"]
                if data["status"] in ("cleared", "aborted", "error"):
                    final[run_id] = data
            if len(final) == len(run_ids):
                return final
            time.sleep(0.2)
    open_ = [r for r in run_ids if r not in final]
    pytest.fail(
        f"{len(open_)} of {len(run_ids)} runs not final after {timeout_s} s; logs:\n{fleet.logs()}"
    )
