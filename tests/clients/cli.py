"""``launchgate`` as a subprocess for the client tests: a clean environment (no
``LAUNCHGATE_*`` from the caller, a private HOME, via ``tests.cli.conftest``) and a working
directory of the test's own, so no ``.launchgaterc`` leaks in."""

from __future__ import annotations

import os
import pty
import subprocess
from dataclasses import dataclass
from pathlib import Path

from tests.cli.conftest import BIN, clean_env


@dataclass
class Terminal:
    """Where ``launchgate`` runs: ``cwd`` and ``home`` may hold ``.launchgaterc`` files."""

    cwd: Path
    home: Path

    def env(self, **settings: str) -> dict[str, str]:
        return clean_env(self.home, **settings)

    def run(
        self, *args: str, stdin: str | None = None, **settings: str
    ) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [str(BIN), *args],
            cwd=self.cwd,
            env=self.env(**settings),
            input=stdin,
            capture_output=True,
            text=True,
            timeout=120,
            stdin=None if stdin is not None else subprocess.DEVNULL,
        )

    def run_in_a_terminal(self, *args: str, **settings: str) -> tuple[int, str]:
        """Stdout and stderr on a pseudo-terminal, as a developer sees them."""
        master, slave = pty.openpty()
        process = subprocess.Popen(
            [str(BIN), *args],
            cwd=self.cwd,
            env=self.env(TERM="xterm-256color", **settings),
            stdin=subprocess.DEVNULL,
            stdout=slave,
            stderr=slave,
        )
        os.close(slave)
        chunks = []
        while True:
            try:
                data = os.read(master, 65536)
            except OSError:  # EIO: the child closed the terminal
                break
            if not data:
                break
            chunks.append(data)
        os.close(master)
        return process.wait(timeout=120), b"".join(chunks).decode("utf-8", "replace")


def make_terminal(root: Path) -> Terminal:
    cwd, home = root / "work", root / "home"
    cwd.mkdir()
    home.mkdir()
    return Terminal(cwd, home)
