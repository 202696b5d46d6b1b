"""The dashboard tests photograph their pages on every run, but the tracked
``docs/screenshots/*.png`` change only when a person asks for it (scripts/screenshots):
an ordinary run writes to a scratch folder outside the repository (issue 12)."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import Page

from tests.dashboard.live import (
    ROOT,
    SCREENSHOTS_ENV,
    LiveServer,
    screenshot,
    screenshots_dir,
)

DOCS_SCREENSHOTS = ROOT / "docs" / "screenshots"


def test_a_test_run_never_writes_into_the_repository(
    page: Page, server: LiveServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(SCREENSHOTS_ENV, raising=False)
    page.goto(server.url + "/sign-in")
    path = screenshot(page, "sign-in-probe")
    assert path.is_file() and path.stat().st_size > 0
    assert not path.resolve().is_relative_to(ROOT)
    assert not (DOCS_SCREENSHOTS / "sign-in-probe.png").exists()


def test_the_docs_folder_is_written_only_when_asked(
    page: Page, server: LiveServer, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    # An absolute folder is used as it is; scripts/screenshots passes docs/screenshots,
    # which is taken from the repository root.
    monkeypatch.setenv(SCREENSHOTS_ENV, str(tmp_path / "docs-shots"))
    page.goto(server.url + "/sign-in")
    assert screenshot(page, "sign-in") == tmp_path / "docs-shots" / "sign-in.png"
    assert (tmp_path / "docs-shots" / "sign-in.png").stat().st_size > 0
    monkeypatch.setenv(SCREENSHOTS_ENV, "docs/screenshots")
    assert screenshots_dir() == DOCS_SCREENSHOTS
