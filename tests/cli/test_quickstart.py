"""The README's quickstart: ``launchgate quickstart`` in an empty directory."""

from __future__ import annotations

import json
import re
import tomllib
from pathlib import Path

import pytest

from tests.cli.conftest import Cli, start_server, stop_server

ROOT = Path(__file__).resolve().parents[2]
# The README's first command, verbatim; the test below keeps the two in step.
QUICKSTART_COMMAND = 'pip install ".[server]" && launchgate quickstart'


def test_the_readme_shows_the_quickstart_commands_verbatim() -> None:
    readme = (ROOT / "README.md").read_text()
    quickstart = readme.split("## Quickstart", 1)[1].split("\n## ", 1)[0]
    commands = re.findall(r"```bash\n(.*?)\n```", quickstart, re.S)
    assert commands == [QUICKSTART_COMMAND, "scripts/test"]
    # What the command relies on exists: the extra, the console script, the test script.
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    assert "server" in project["optional-dependencies"]
    assert project["scripts"]["launchgate"] == "launchgate.cli.main:main"
    assert (ROOT / "scripts" / "test").stat().st_mode & 0o111


def test_the_readme_links_only_to_pages_that_exist() -> None:
    readme = (ROOT / "README.md").read_text()
    links = re.findall(r"\]\((docs/[^)#]+)", readme)
    assert links, "the README links to the docs"
    missing = [link for link in links if not (ROOT / link).is_file()]
    assert missing == []


@pytest.mark.slow
def test_quickstart_in_an_empty_directory(cli: Cli, tmp_path: Path) -> None:
    workdir = tmp_path / "fresh"
    workdir.mkdir()
    cli.cwd = workdir
    cli.settings.pop("LAUNCHGATE_DATA_DIR")  # the default: ./.launchgate
    command = QUICKSTART_COMMAND.split("&&")[1].split()
    assert command[0] == "launchgate"

    first = cli.run(*command[1:], "--no-serve")
    assert first.returncode == 0, first.stderr
    out = first.stdout
    assert "Cleared for launch" in out and "Launch aborted" in out
    keys = set(re.findall(r"lg_live_[0-9A-Za-z]{32}", out))
    assert len(keys) == 1
    assert "pass rate 100%" in out and "pass rate 25%" in out
    assert "owner@launchgate.local" in out
    data_dir = workdir / ".launchgate"
    assert (data_dir / "launchgate.db").is_file()
    assert f"Data directory: {data_dir.resolve()} (new: created just now)\n" in out
    marker = json.loads((data_dir / "quickstart.json").read_text())
    assert marker["org_id"] in out

    second = cli.run(*command[1:], "--no-serve")
    assert second.returncode == 0, second.stderr
    assert "set up before" in second.stdout and marker["org_id"] in second.stdout
    assert f"Data directory: {data_dir.resolve()}\n" in second.stdout
    assert "lg_live_" not in second.stdout
    assert "Starting the server" not in second.stdout
    assert "  export LAUNCHGATE_API_URL=http://127.0.0.1:4001\n" in second.stdout


@pytest.mark.slow
def test_the_quickstarts_export_lines_are_what_launchgate_run_needs(
    cli: Cli, tmp_path: Path
) -> None:
    """Issue 12: without them, `launchgate run` goes to the hosted default and a new user's
    first gate fails (or, before, silently passed)."""
    done = cli.run("quickstart", "--no-serve")
    assert done.returncode == 0, done.stderr
    [key] = set(re.findall(r"lg_live_[0-9A-Za-z]{32}", done.stdout))
    exports = dict(re.findall(r"^  export (LAUNCHGATE_API_\w+)=(\S+)$", done.stdout, re.M))
    assert exports == {"LAUNCHGATE_API_URL": "http://127.0.0.1:4001", "LAUNCHGATE_API_KEY": key}
    assert "  launchgate run structured-output --project demo --output-file answer.json" in (
        done.stdout
    )
    # The passing demo output, as the printed curl line sends it.
    payload = json.loads(re.findall(r"-d '(\{.*\})'", done.stdout)[0])
    (tmp_path / "answer.json").write_text(payload["output"])
    server = start_server(cli)  # on a free port: only the URL's port differs from 4001
    try:
        gated = cli.run(
            "run",
            "structured-output",
            "--project",
            "demo",
            "--output-file",
            "answer.json",
            **{**exports, "LAUNCHGATE_API_URL": server.url},
        )
    finally:
        stop_server(server)
    assert gated.returncode == 0, gated.stdout + gated.stderr
    assert gated.stdout.startswith("✓ Cleared for launch\n")
