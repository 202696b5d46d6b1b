"""The TypeScript SDK (``clients/typescript``, issue 15): installed, built, its generated wire
types checked against the API's OpenAPI schema, and its own tests run with Node's test
runner against a real ``launchgate serve`` that they start (see
``clients/typescript/test/``).

Node and npm are required, never skipped: scripts/test installs them. ``npm ci`` runs only
when ``node_modules`` is missing or ``package-lock.json`` changed since the last install (a
stamp in ``node_modules`` holds the lockfile's hash).
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = ROOT / "clients" / "typescript"
BIN = Path(sys.executable).parent / "launchgate"
STAMP = PACKAGE / "node_modules" / ".launchgate-lock-sha256"
MISSING_NODE = (
    "{tool} is not on PATH: the TypeScript SDK's tests need Node.js >= 18 and npm "
    "(Debian: apt-get install nodejs npm; scripts/test installs them)"
)


def _env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("LAUNCHGATE_")}
    env.update(LAUNCHGATE_BIN=str(BIN), LAUNCHGATE_PYTHON=sys.executable)
    env.setdefault("npm_config_update_notifier", "false")
    return env


def _tool(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        pytest.fail(MISSING_NODE.format(tool=name), pytrace=False)
    return path


def _check(what: str, done: subprocess.CompletedProcess[str]) -> None:
    if done.returncode != 0:
        pytest.fail(f"{what} failed (exit {done.returncode}):\n{done.stdout}\n{done.stderr}")


def _run(what: str, args: list[str], timeout: float) -> None:
    done = subprocess.run(
        args, cwd=PACKAGE, env=_env(), capture_output=True, text=True, timeout=timeout
    )
    _check(what, done)


def _install(npm: str) -> None:
    """``npm ci`` unless node_modules already holds this lockfile's install."""
    want = hashlib.sha256((PACKAGE / "package-lock.json").read_bytes()).hexdigest()
    if STAMP.exists() and STAMP.read_text().strip() == want:
        return
    _run("npm ci", [npm, "ci", "--no-audit", "--no-fund"], timeout=600)
    STAMP.write_text(want + "\n")


@pytest.mark.slow
def test_typescript_sdk() -> None:
    node, npm = _tool("node"), _tool("npm")
    _install(npm)
    # The build (two tsc runs) and the schema check (one Python process) side by side.
    check = subprocess.Popen(
        [npm, "run", "--silent", "check:openapi"],
        cwd=PACKAGE,
        env=_env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        _run("npm run build", [npm, "run", "build"], timeout=300)
        out, err = check.communicate(timeout=120)
    finally:
        if check.poll() is None:
            check.kill()
            check.wait()
    _check(
        "the OpenAPI check (src/openapi.ts)",
        subprocess.CompletedProcess([], check.returncode, out, err),
    )
    tests = sorted(str(p.relative_to(PACKAGE)) for p in (PACKAGE / "test").glob("*.test.mjs"))
    assert tests, "no node tests found in clients/typescript/test"
    _run("node --test", [node, "--test", *tests], timeout=300)
