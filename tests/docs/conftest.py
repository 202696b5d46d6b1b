"""One live embedded server for the docs test — ``launchgate serve`` on a free port, as the
quickstart leaves it — with one organisation, and the fake provider standing in for the
LLM providers (so a BYOK example never reaches the internet)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from launchgate.testing.fake_provider import FakeProviderServer, free_port
from tests.cli.conftest import BIN, QUIET_LIMITS, clean_env
from tests.contract.server import stop_process, wait_healthy
from tests.docs.runner import Reader


@dataclass(frozen=True)
class DocsServer:
    """The server, the key a reader holds, and the reader's shell environment."""

    reader: Reader
    data_dir: Path
    home: Path
    log_path: Path

    def log_tail(self, chars: int = 4000) -> str:
        return self.log_path.read_text(errors="replace")[-chars:]

    def reader_env(self) -> dict[str, str]:
        """A reader after the quickstart: the two exports it prints, the README's ``LG``
        and ``KEY``, the venv's commands first on PATH, the server's data dir for the
        operator commands, and no rc file in HOME."""
        path = f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}"
        return clean_env(
            self.home,
            PATH=path,
            LAUNCHGATE_DATA_DIR=str(self.data_dir),
            LAUNCHGATE_API_URL=self.reader.url,
            LAUNCHGATE_API_KEY=self.reader.key,
            LG=self.reader.url,
            KEY=self.reader.key,
        )


@pytest.fixture(scope="module")
def docs_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DocsServer]:
    root = tmp_path_factory.mktemp("docs-server")
    home, data_dir = root / "home", root / "data"
    home.mkdir()
    with FakeProviderServer() as fake:
        env = clean_env(
            home,
            LAUNCHGATE_DATA_DIR=str(data_dir),
            LAUNCHGATE_OPENAI_BASE_URL=fake.openai_base_url,
            LAUNCHGATE_ANTHROPIC_BASE_URL=fake.anthropic_base_url,
            LAUNCHGATE_GOOGLE_BASE_URL=fake.google_base_url,
            LAUNCHGATE_ALLOW_PRIVATE_PROVIDER_URLS="true",
            **QUIET_LIMITS,
        )
        created = subprocess.run(
            [str(BIN), "orgs", "create", "Docs", "--json"],
            env=env,
            cwd=root,
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert created.returncode == 0, created.stderr
        key = json.loads(created.stdout)["api_key"]
        port = free_port()
        log_path = root / "server.log"
        # A file, not a pipe: nobody reads a pipe while the server runs, and a full one blocks it.
        with log_path.open("wb") as log:
            process = subprocess.Popen(
                [str(BIN), "serve", "--port", str(port)],
                env=env,
                cwd=root,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=log,
            )
        server = DocsServer(Reader(f"http://127.0.0.1:{port}", key), data_dir, home, log_path)
        try:
            wait_healthy(server.reader.url, process, server.log_tail)
            yield server
        finally:
            stop_process(process)
