"""The dashboard's templates and static files ship in the wheel: a `pip install` of the
server gets working pages, with htmx and its licence, and nothing to fetch from a CDN."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

from tests.dashboard.live import ROOT

PACKAGE = ROOT / "src" / "launchgate" / "dashboard"


def test_the_wheel_carries_the_templates_and_static_files(tmp_path: Path) -> None:
    built = subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            str(ROOT),
            "--no-deps",
            "--quiet",
            "--disable-pip-version-check",
            "-w",
            str(tmp_path),
        ],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert built.returncode == 0, built.stderr
    wheel = next(tmp_path.glob("launchgate_eval-*.whl"))
    names = set(zipfile.ZipFile(wheel).namelist())
    shipped = {
        str(p.relative_to(ROOT / "src"))
        for p in PACKAGE.rglob("*")
        if p.is_file() and "__pycache__" not in p.parts
    }
    assert shipped - names == set()
    assert "launchgate/dashboard/static/vendor/htmx-2.0.11/LICENSE" in names
    assert "launchgate/dashboard/templates/base.html" in names
    # The API reference's Swagger UI (/docs), with its licence: nothing from a CDN there either.
    for name in ("swagger-ui-bundle.js", "swagger-ui.css", "LICENSE", "NOTICE"):
        assert f"launchgate/api_reference/swagger-ui-5.35.0/{name}" in names


def test_pages_load_nothing_from_elsewhere() -> None:
    """Every script and stylesheet a template names is one of ours, under /static."""
    text = "\n".join(p.read_text() for p in (PACKAGE / "templates").rglob("*.html"))
    assert "http://" not in text.replace("http://www.w3.org", "")
    assert "https://" not in text.replace("https://my-resource.openai.azure.com", "")
    for tag in ("<script", "<link"):
        for line in text.splitlines():
            if tag in line:
                assert 'src="/static/' in line or 'href="/static/' in line, line
