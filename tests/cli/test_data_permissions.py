"""The data dir is 0700 and every file in it 0600, made so by the operator commands
(``launchgate quickstart``, ``serve``), and a looser one found at start is tightened and
named in the log. Before this, the SQLite database (with its -wal/-shm), the quickstart
marker and the directory were made with the umask: 0644 and 0755, readable by every user
of the machine.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.cli.conftest import Cli, start_server, stop_server

pytestmark = pytest.mark.slow


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def _everything_under(root: Path) -> Iterator[Path]:
    for folder, dirs, files in os.walk(root):
        for name in dirs + files:
            yield Path(folder) / name


def assert_private(data_dir: Path) -> None:
    assert _mode(data_dir) == 0o700, oct(_mode(data_dir))
    for path in _everything_under(data_dir):
        expected = 0o700 if path.is_dir() else 0o600
        assert _mode(path) == expected, f"{path}: {oct(_mode(path))}"


@pytest.fixture
def loose_umask() -> Iterator[None]:
    """The commonest umask, 022, whatever the machine's is: files would be 0644."""
    previous = os.umask(0o022)
    yield
    os.umask(previous)


def test_quickstart_makes_private_data_files(cli: Cli, tmp_path: Path, loose_umask: None) -> None:
    done = cli.run("quickstart", "--no-serve")
    assert done.returncode == 0, done.stderr
    data_dir = tmp_path / "data"
    names = {p.name for p in data_dir.iterdir()}
    assert {"launchgate.db", "quickstart.json"} <= names
    assert_private(data_dir)
    assert "tightened" not in done.stderr  # made right, nothing to tighten


def test_serve_makes_private_data_files_wal_included(
    cli: Cli, tmp_path: Path, loose_umask: None
) -> None:
    server = start_server(cli)
    try:
        _, key = cli.create_org()
        headers = {"Authorization": f"Bearer {key}"}
        response = httpx.post(f"{server.url}/v1/projects", json={"name": "p"}, headers=headers)
        assert response.status_code == 201, response.text
        data_dir = tmp_path / "data"
        # The secrets serve generates, and the WAL written while serving.
        for name in ("secret_key", "byok.key", "launchgate.db", "launchgate.db-wal"):
            assert (data_dir / name).exists(), name
        assert_private(data_dir)
    finally:
        stop_server(server)
    assert_private(tmp_path / "data")


def test_looser_modes_are_tightened_at_start_and_logged(
    cli: Cli, tmp_path: Path, loose_umask: None
) -> None:
    assert cli.run("quickstart", "--no-serve").returncode == 0
    data_dir = tmp_path / "data"
    data_dir.chmod(0o755)
    (data_dir / "launchgate.db").chmod(0o644)
    (data_dir / "quickstart.json").chmod(0o640)
    (data_dir / "copied-in.txt").write_text("a backup note")
    (data_dir / "copied-in.txt").chmod(0o666)
    again = cli.run("quickstart", "--no-serve")
    assert again.returncode == 0, again.stderr
    assert_private(data_dir)
    for name in (str(data_dir), "launchgate.db", "quickstart.json", "copied-in.txt"):
        assert any("tightened" in line and name in line for line in again.stderr.splitlines()), (
            again.stderr
        )


def test_modes_are_only_narrowed(cli: Cli, tmp_path: Path, loose_umask: None) -> None:
    """A file the operator made stricter (0400) stays as it is."""
    assert cli.run("quickstart", "--no-serve").returncode == 0
    (tmp_path / "data" / "quickstart.json").chmod(0o400)
    assert cli.run("quickstart", "--no-serve").returncode == 0
    assert _mode(tmp_path / "data" / "quickstart.json") == 0o400
