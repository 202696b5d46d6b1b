"""The plain install has no server stack: the CLI must still start, and the server
commands must say how to get the server instead of failing with a traceback."""

from __future__ import annotations

import subprocess
import sys

SERVER_ONLY = (
    "fastapi",
    "starlette",
    "sqlalchemy",
    "pydantic_settings",
    "uvicorn",
    "alembic",
    "taskiq",
    "structlog",
    "jsonschema",
    "regex",
    "limits",
    "jwt",
    "argon2",
)


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    hide = "; ".join(f"sys.modules[{name!r}] = None" for name in SERVER_ONLY)
    code = (
        f"import sys; {hide}; sys.argv = ['launchgate', *{list(args)!r}]; "
        "from launchgate.cli.main import main; main()"
    )
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)


def test_help_works_without_the_server_stack() -> None:
    done = _cli("--help")
    assert done.returncode == 0, done.stderr
    assert "serve" in done.stdout


def test_server_commands_say_how_to_install_the_server() -> None:
    done = _cli("serve")
    assert done.returncode == 2
    # From a clone: "launchgate" on PyPI is another project, never to be installed.
    assert 'pip install ".[server]" in a clone of the repository' in done.stderr
    assert "Traceback" not in done.stderr
