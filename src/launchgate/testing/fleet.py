"""A scaled-out LaunchGate on one machine, for tests and benchmarks: API and worker
processes started as an operator starts them (`launchgate serve`, `launchgate worker`),
on one PostgreSQL database and one Redis, plus the helpers to set up a judged suite.

    fleet = Fleet(tmp_dir, database_url, redis_url, settings={...})
    fleet.migrate(); key = fleet.create_org("acme")
    api = fleet.start_api("api-1"); fleet.start_worker("w-1", concurrency=20)
    ...
    fleet.stop()

Every process writes its log to ``<dir>/<name>.log`` (quoted by ``log_tail`` when a test
fails); ``stop`` terminates them all, and kills what does not stop in time.
"""

from __future__ import annotations

import json
import os
import secrets
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from launchgate.testing.fake_provider.runner import free_port

BIN = Path(sys.executable).parent / "launchgate"
QUIET_LIMITS = {
    "LAUNCHGATE_RATE_LIMIT": "off",
    "LAUNCHGATE_AUTH_RATE_LIMIT": "off",
    "LAUNCHGATE_LOCKOUT_LIMIT": "off",
}


@dataclass
class Fleet:
    directory: Path
    database_url: str
    redis_url: str
    settings: dict[str, str] = field(default_factory=dict)
    processes: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)
    urls: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.directory.mkdir(parents=True, exist_ok=True)
        self.byok_key = self.settings.get("BYOK_ENCRYPTION_KEY") or secrets.token_hex(32)
        # Random, like a real deployment's: a fixed low-entropy one is refused at start.
        self.secret_key = self.settings.get("LAUNCHGATE_SECRET_KEY") or secrets.token_urlsafe(48)

    def env(self, **extra: str) -> dict[str, str]:
        env = {
            k: v
            for k, v in os.environ.items()
            if not k.startswith(("LAUNCHGATE_", "BYOK_ENCRYPTION_KEY"))
        }
        env.update(
            LAUNCHGATE_DATA_DIR=str(self.directory / "data"),
            LAUNCHGATE_DATABASE_URL=self.database_url,
            LAUNCHGATE_REDIS_URL=self.redis_url,
            LAUNCHGATE_SECRET_KEY=self.secret_key,
            BYOK_ENCRYPTION_KEY=self.byok_key,
            PYTHONDONTWRITEBYTECODE="1",
        )
        env.update(self.settings)
        env.update(extra)
        return env

    def cli(self, *args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [str(BIN), *args],
            env=self.env(),
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )

    def migrate(self) -> None:
        done = self.cli("db", "upgrade")
        if done.returncode != 0:
            raise RuntimeError(f"db upgrade failed: {done.stderr}")

    def create_org(self, name: str, plan: str = "enterprise") -> str:
        done = self.cli("orgs", "create", name, "--plan", plan, "--json")
        if done.returncode != 0:
            raise RuntimeError(f"orgs create failed: {done.stderr}")
        key: str = json.loads(done.stdout)["api_key"]
        return key

    def _spawn(self, name: str, args: list[str], **extra: str) -> subprocess.Popen[bytes]:
        log = (self.directory / f"{name}.log").open("ab")
        process = subprocess.Popen(
            [str(BIN), *args],
            env=self.env(**extra),
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        log.close()
        self.processes[name] = process
        return process

    def start_api(self, name: str = "api", timeout_s: float = 60, **extra: str) -> str:
        port = free_port()
        process = self._spawn(name, ["serve", "--port", str(port)], **extra)
        url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if process.poll() is not None:
                raise RuntimeError(f"{name} exited:\n{self.log_tail(name)}")
            try:
                if httpx.get(url + "/health", timeout=1).status_code == 200:
                    self.urls[name] = url
                    return url
            except httpx.HTTPError:
                pass
            time.sleep(0.1)
        raise RuntimeError(
            f"{name} did not answer /health in {timeout_s} s:\n{self.log_tail(name)}"
        )

    def start_worker(
        self, name: str = "worker", concurrency: int = 10, timeout_s: float = 60, **extra: str
    ) -> None:
        """Returns once the worker says it started (its runtime is up, it consumes)."""
        process = self._spawn(name, ["worker", "--concurrency", str(concurrency)], **extra)
        deadline = time.monotonic() + timeout_s
        while "worker started" not in self.log_tail(name, 100_000):
            if process.poll() is not None:
                raise RuntimeError(f"{name} exited:\n{self.log_tail(name)}")
            if time.monotonic() > deadline:
                raise RuntimeError(f"{name} did not start in {timeout_s} s:\n{self.log_tail(name)}")
            time.sleep(0.05)

    def kill(self, name: str, sig: int = signal.SIGKILL) -> None:
        """Signal a process's group and wait for it to exit; forgotten only once it has."""
        process = self.processes[name]
        os.killpg(process.pid, sig)
        process.wait(timeout=30)
        del self.processes[name]

    def pause(self, name: str) -> None:
        """SIGSTOP: the process holds what it has and does nothing (a stalled machine)."""
        os.killpg(self.processes[name].pid, signal.SIGSTOP)

    def resume(self, name: str) -> None:
        os.killpg(self.processes[name].pid, signal.SIGCONT)

    def log_tail(self, name: str, chars: int = 4000) -> str:
        path = self.directory / f"{name}.log"
        return path.read_text(errors="replace")[-chars:] if path.exists() else "(no log)"

    def logs(self) -> str:
        return "\n".join(f"--- {name} ---\n{self.log_tail(name)}" for name in self.processes)

    def stop(self) -> None:
        for process in self.processes.values():
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGCONT)  # a paused process ignores SIGTERM
                os.killpg(process.pid, signal.SIGTERM)
        deadline = time.monotonic() + 20
        for process in self.processes.values():
            try:
                process.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()
        self.processes.clear()


def setup_judged_suite(
    url: str,
    api_key: str,
    *,
    provider_key: str,
    slug: str = "judged",
    judge_cases: int = 3,
    exact_cases: int = 1,
    rubric: str = "Score 1 when the answer is correct.",
) -> dict[str, Any]:
    """A project ``fleet`` with an OpenAI BYOK key (the org's default), one ``llm_judge``
    scorer, one ``contains`` scorer and a suite ``slug`` of both kinds of cases."""
    with httpx.Client(
        base_url=url + "/v1", timeout=30, headers={"Authorization": f"Bearer {api_key}"}
    ) as client:

        def post(path: str, body: dict[str, Any]) -> dict[str, Any]:
            answer = client.post(path, json=body)
            if answer.status_code != 201:
                raise RuntimeError(f"POST {path}: {answer.status_code} {answer.text}")
            data: dict[str, Any] = answer.json()["data"]
            return data

        if client.get("/projects/fleet").status_code == 404:
            post(
                "/byok-keys",
                {"provider": "openai", "name": "fleet", "key": provider_key, "is_default": True},
            )
            post("/projects", {"name": "Fleet", "slug": "fleet"})
        judge = post(
            "/projects/fleet/scorers",
            {
                "name": f"{slug} judge",
                "type": "llm_judge",
                "config": {"rubric": rubric, "_provider": "openai"},
            },
        )
        contains = post(
            "/projects/fleet/scorers",
            {"name": f"{slug} contains", "type": "contains", "config": {"values": ["Paris"]}},
        )
        suite = post("/projects/fleet/suites", {"name": slug, "slug": slug, "pass_threshold": 1.0})
        for i in range(judge_cases):
            post(
                f"/suites/{suite['id']}/cases",
                {"name": f"judged {i}", "scorer_id": judge["id"], "threshold": 0.7},
            )
        for i in range(exact_cases):
            post(
                f"/suites/{suite['id']}/cases",
                {"name": f"contains {i}", "scorer_id": contains["id"]},
            )
        return suite
