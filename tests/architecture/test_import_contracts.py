"""The import directions of STYLE.md hold (import-linter contracts in pyproject.toml)."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_import_contracts_are_kept() -> None:
    lint = shutil.which("lint-imports") or str(Path(sys.executable).parent / "lint-imports")
    result = subprocess.run([lint], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "BROKEN" not in result.stdout


def test_the_contracts_that_guard_keys_forbid_indirect_imports() -> None:
    """STYLE.md: a rule that guards a secret holds only if no chain of imports gets round
    it. Pinned here, so the flag cannot be relaxed to make a new import pass."""
    import tomllib

    config = tomllib.loads((ROOT / "pyproject.toml").read_text())
    contracts = {c["name"]: c for c in config["tool"]["importlinter"]["contracts"]}
    for name in (
        "Keys are opened only on the worker's code path",
        "The worker side never re-enters the request side",
    ):
        assert contracts[name].get("allow_indirect_imports") is False, name
    request_side = contracts["Keys are opened only on the worker's code path"]["source_modules"]
    for module in (
        "launchgate.api",
        "launchgate.app",
        "launchgate.deps",
        "launchgate.dashboard",
        "launchgate.*.endpoints",
        "launchgate.*.service",
        "launchgate.runs.service",
    ):
        assert module in request_side, module
