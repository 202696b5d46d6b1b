"""A real ``launchgate serve`` for the dashboard tests, the people who sign in to it, and
the few browser steps every test takes.

The server is the console script, in its own process, on a free port: the same wiring a
user gets. Its provider base URLs point at the fake provider server (over real HTTP), so
the BYOK Test button and the LLM judge reach a provider without leaving the machine.
Organisations and users are made with the very functions ``launchgate orgs create`` and
``launchgate users create`` run (one test also runs the command itself).
"""

from __future__ import annotations

import asyncio
import os
import re
import secrets
import subprocess
import sys
import tempfile
import uuid
from collections.abc import Coroutine
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import httpx
from playwright.sync_api import Page, expect

from launchgate.cli.operations import create_org, create_user
from launchgate.config import Settings
from launchgate.testing.fake_provider import FakeProviderServer, free_port
from tests.contract.server import stop_process, wait_healthy

BIN = Path(sys.executable).parent / "launchgate"
CHROMIUM = "/usr/bin/chromium"  # Debian's; never a Playwright download
ROOT = Path(__file__).resolve().parents[2]
# The docs' screenshots (docs/screenshots) are rewritten only when asked for, by
# scripts/screenshots (LAUNCHGATE_WRITE_SCREENSHOTS=docs/screenshots): an ordinary test run
# still takes every one (a page that cannot be photographed fails) but keeps them outside
# the repository, so a contributor never commits a re-rendered PNG by accident.
SCREENSHOTS_ENV = "LAUNCHGATE_WRITE_SCREENSHOTS"
SCRATCH_SCREENSHOTS = Path(tempfile.gettempdir()) / "launchgate-screenshots"
PASSWORD = "correct horse battery staple"
T = TypeVar("T")


@dataclass
class LiveServer:
    url: str
    data_dir: Path
    database_url: str
    env: dict[str, str]
    process: subprocess.Popen[bytes]
    log_path: Path
    members: list[Member] = field(default_factory=list)

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def settings(self) -> Settings:
        return Settings(data_dir=self.data_dir, database_url=self.database_url)


@dataclass
class Member:
    """A dashboard user of a fresh organisation, with the organisation's first API key."""

    org_id: str
    api_key: str
    email: str
    password: str = PASSWORD

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.api_key}"}


def server_env(
    data_dir: Path, database_url: str | None, fake: FakeProviderServer | None, **extra: str
) -> dict[str, str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("LAUNCHGATE_", "BYOK_ENCRYPTION_KEY"))
    }
    env.update(
        LAUNCHGATE_DATA_DIR=str(data_dir),
        LAUNCHGATE_RATE_LIMIT="off",
        LAUNCHGATE_AUTH_RATE_LIMIT="off",
        LAUNCHGATE_LOCKOUT_LIMIT="off",
        LAUNCHGATE_REGEX_TIMEOUT_MS="200",
        BYOK_ENCRYPTION_KEY=secrets.token_hex(32),
    )
    if database_url:  # scaled-out mode: the operator sets the JWT secret
        env["LAUNCHGATE_DATABASE_URL"] = database_url
        env["LAUNCHGATE_SECRET_KEY"] = secrets.token_urlsafe(48)
    if fake is not None:
        env.update(
            LAUNCHGATE_ALLOW_PRIVATE_PROVIDER_URLS="true",
            LAUNCHGATE_OPENAI_BASE_URL=fake.openai_base_url,
            LAUNCHGATE_ANTHROPIC_BASE_URL=fake.anthropic_base_url,
            LAUNCHGATE_GOOGLE_BASE_URL=fake.google_base_url,
            LAUNCHGATE_PROVIDER_TIMEOUT_S="5",
            LAUNCHGATE_JUDGE_BACKOFF_BASE_S="0.01",
            LAUNCHGATE_JUDGE_RETRY_AFTER_CAP_S="0.05",
        )
    env.update(extra)
    return env


def start_server(
    data_dir: Path,
    database_url: str | None = None,
    fake: FakeProviderServer | None = None,
    **extra: str,
) -> LiveServer:
    """``launchgate serve`` on a free port; returns once ``/health`` answers 200."""
    env = server_env(data_dir, database_url, fake, **extra)
    if database_url:  # an external database is migrated by the operator, as documented
        subprocess.run(
            [str(BIN), "db", "upgrade"], env=env, check=True, capture_output=True, timeout=120
        )
    port = free_port()
    log_path = data_dir / "server.log"
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            [str(BIN), "serve", "--port", str(port)],
            env=env,
            stdout=log,
            stderr=log,
            stdin=subprocess.DEVNULL,
        )
    resolved = database_url or f"sqlite+aiosqlite:///{data_dir / 'launchgate.db'}"
    server = LiveServer(f"http://127.0.0.1:{port}", data_dir, resolved, env, process, log_path)
    wait_healthy(server.url, process, server.log)
    return server


def stop_server(server: LiveServer) -> None:
    stop_process(server.process)


def _run(coroutine: Coroutine[Any, Any, T]) -> T:
    """On a thread of its own: Playwright's sync API keeps an event loop on this one."""
    with ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, coroutine).result()


def new_member(server: LiveServer, plan: str = "enterprise") -> Member:
    """A fresh organisation and an owner of it, as the operator commands make them."""
    settings = server.settings()
    org_id, api_key = _run(create_org(settings, f"org-{uuid.uuid4().hex[:8]}", plan))
    email = f"user-{uuid.uuid4().hex[:8]}@example.com"
    _run(create_user(settings, org_id, email, PASSWORD, "owner"))
    member = Member(org_id, api_key, email)
    server.members.append(member)
    return member


def cli_member(server: LiveServer) -> Member:
    """The same, through the console scripts an operator types."""
    created = subprocess.run(
        [str(BIN), "orgs", "create", "Acme", "--json"],
        env=server.env,
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )
    found = re.search(r'"org_id": "([^"]+)", "api_key": "([^"]+)"', created.stdout)
    assert found, created.stdout
    email = f"owner-{uuid.uuid4().hex[:8]}@example.com"
    subprocess.run(
        [
            str(BIN),
            "users",
            "create",
            "--org",
            found[1],
            "--email",
            email,
            "--role",
            "owner",
            "--password-stdin",
        ],
        env=server.env,
        input=PASSWORD,
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )
    return Member(found[1], found[2], email)


def sign_in(page: Page, server: LiveServer, member: Member, start: str = "/projects") -> None:
    page.goto(server.url + start)
    expect(page).to_have_url(re.compile(r"/sign-in"))
    page.get_by_label("Email").fill(member.email)
    page.get_by_label("Password").fill(member.password)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_text(member.email)).to_be_visible()


def screenshots_dir() -> Path:
    """``$LAUNCHGATE_WRITE_SCREENSHOTS`` (relative to the repository root) when set, else
    a scratch folder in the system's temporary directory."""
    chosen = os.environ.get(SCREENSHOTS_ENV, "").strip()
    return ROOT / chosen if chosen else SCRATCH_SCREENSHOTS


def screenshot(page: Page, name: str, full_page: bool = True) -> Path:
    folder = screenshots_dir()
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{name}.png"
    page.screenshot(path=str(path), full_page=full_page, animations="disabled")
    return path


def api(server: LiveServer, member: Member) -> httpx.Client:
    """The same server through its API, with the member's API key."""
    return httpx.Client(base_url=server.url, headers=member.headers, timeout=30)
