"""A real ``launchgate serve`` process on a free port, with one organisation and a small
suite so generated requests reach real rows as well as missing ones."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import httpx

from launchgate.testing.fake_provider import free_port

BIN = Path(sys.executable).parent / "launchgate"


@dataclass
class LiveServer:
    url: str
    api_key: str
    process: subprocess.Popen[bytes]
    log_path: Path

    def log_tail(self, chars: int = 6000) -> str:
        return self.log_path.read_text(errors="replace")[-chars:] if self.log_path.exists() else ""

    @property
    def auth_headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.api_key}"}


def server_env(data_dir: Path, database_url: str | None = None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("LAUNCHGATE_")}
    env.update(
        LAUNCHGATE_DATA_DIR=str(data_dir),
        LAUNCHGATE_RATE_LIMIT="off",
        LAUNCHGATE_AUTH_RATE_LIMIT="off",
        LAUNCHGATE_LOCKOUT_LIMIT="off",
        LAUNCHGATE_REGEX_TIMEOUT_MS="200",
    )
    if database_url:
        env["LAUNCHGATE_DATABASE_URL"] = database_url
    return env


def start(
    data_dir: Path,
    database_url: str | None = None,
    extra_env: dict[str, str] | None = None,
) -> LiveServer:
    """``launchgate serve`` on a free port with an organisation, seeded; ``extra_env``
    adds settings (the client tests point the providers at the fake with it)."""
    env = server_env(data_dir, database_url) | (extra_env or {})
    created = subprocess.run(
        [str(BIN), "orgs", "create", "contract", "--json"],
        env=env,
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )
    key = json.loads(created.stdout)["api_key"]
    port = free_port()
    # A file, not a pipe: nobody reads a pipe while the server runs, and a full one blocks it.
    log_path = data_dir / "server.log"
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            [str(BIN), "serve", "--port", str(port)], env=env, stdout=log, stderr=log
        )
    server = LiveServer(f"http://127.0.0.1:{port}", key, process, log_path)
    wait_healthy(server.url, process, server.log_tail)
    seed(server)
    return server


def wait_healthy(
    url: str, process: subprocess.Popen[bytes], log: Callable[[], str], seconds: float = 60
) -> None:
    """Until ``/health`` answers 200; a server that exits or stays silent is stopped and
    reported with its log."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"launchgate serve exited:\n{log()}")
        try:
            if httpx.get(f"{url}/health", timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    stop_process(process)
    raise RuntimeError(f"launchgate serve did not answer /health in {seconds:g} s:\n{log()}")


def seed(server: LiveServer) -> None:
    with httpx.Client(base_url=server.url, headers=server.auth_headers, timeout=10) as client:
        client.post("/v1/projects", json={"name": "Demo", "slug": "demo"}).raise_for_status()
        client.post(
            "/v1/projects/demo/suites/from-template", json={"template_slug": "classification"}
        ).raise_for_status()


def stop(server: LiveServer) -> None:
    stop_process(server.process)


def stop_process(process: subprocess.Popen[bytes], seconds: float = 20) -> None:
    """SIGTERM (uvicorn's graceful stop), then SIGKILL if it lingers."""
    process.terminate()
    try:
        process.wait(timeout=seconds)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
