"""STYLE.md import rule 2, checked on the source: providers do HTTP and nothing else, and
exactly one module imports the HTTP library."""

from __future__ import annotations

import ast
from pathlib import Path

import launchgate.providers

PACKAGE = Path(launchgate.providers.__file__).parent
FORBIDDEN = (
    "launchgate.byok",
    "launchgate.models",
    "launchgate.db",
    "launchgate.deps",
    "launchgate.config",
    "launchgate.runs",
    "launchgate.scorers",
    "fastapi",
    "starlette",
    "sqlalchemy",
    "pydantic",
    "cryptography",
)


def runtime_imports(path: Path) -> set[str]:
    """Modules imported at run time (``if TYPE_CHECKING:`` blocks do not count)."""
    tree = ast.parse(path.read_text())
    skipped = {
        id(node)
        for stmt in ast.walk(tree)
        if isinstance(stmt, ast.If)
        and isinstance(stmt.test, ast.Name)
        and stmt.test.id == "TYPE_CHECKING"
        for child in stmt.body
        for node in ast.walk(child)
    }
    names: set[str] = set()
    for node in ast.walk(tree):
        if id(node) in skipped:
            continue
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
    return names


def test_exactly_one_module_imports_httpx() -> None:
    importers = sorted(
        path.name
        for path in PACKAGE.glob("*.py")
        if any(name.split(".")[0] == "httpx" for name in runtime_imports(path))
    )
    assert importers == ["http.py"]


def test_providers_import_no_vault_database_web_or_settings() -> None:
    for path in PACKAGE.glob("*.py"):
        for name in runtime_imports(path):
            assert not name.startswith(FORBIDDEN), f"{path.name} imports {name}"
