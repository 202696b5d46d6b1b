"""Every runnable example of README.md and docs/ runs, as written, against a live server
(docs/testing.md, "The docs test"): the README's API walk-through first — the other pages
build on its project and suite, as their reader does — then each page with runnable
blocks, in page order."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from tests.docs.blocks import PAGES, ROOT, Block, MarkerError, blocks
from tests.docs.conftest import DocsServer
from tests.docs.runner import run_page

pytestmark = pytest.mark.slow

README = ROOT / "README.md"


def runnable(page: Path) -> list[Block]:
    return [block for block in blocks(page) if block.runnable]


def _pages_with_examples() -> list[Path]:
    """Collected even when a marker is wrong: test_markers reports that, by page."""
    pages = []
    for page in PAGES:
        try:
            if page != README and runnable(page):
                pages.append(page)
        except MarkerError:
            pages.append(page)
    return pages


OTHER_PAGES = _pages_with_examples()


def _report(page: Path, done: subprocess.CompletedProcess[str], server: DocsServer) -> str:
    return (
        f"{page.relative_to(ROOT)}: exit {done.returncode}\n--- stdout\n{done.stdout}"
        f"\n--- stderr\n{done.stderr}\n--- server log (tail)\n{server.log_tail()}"
    )


@pytest.fixture(scope="module")
def walked(
    docs_server: DocsServer, tmp_path_factory: pytest.TempPathFactory
) -> subprocess.CompletedProcess[str]:
    """The README's runnable blocks, run once for the module."""
    # scripts/test installs them; a missing tool is a failure here, never a skip.
    assert shutil.which("curl") and shutil.which("jq"), "the docs examples need curl and jq"
    cwd = tmp_path_factory.mktemp("README")
    return run_page(runnable(README), docs_server.reader, cwd, docs_server.reader_env())


def test_the_readme_walkthrough_runs_as_written(
    walked: subprocess.CompletedProcess[str], docs_server: DocsServer
) -> None:
    assert walked.returncode == 0, _report(README, walked, docs_server)
    out = walked.stdout
    assert '"database":"connected"' in out  # GET /health
    assert '"status":"cleared","passed":true,"pass_rate":1' in out
    assert (
        '{"status":"aborted","pass_rate":0.5,"failures":[{"case":"Keeps addresses private"' in out
    )
    assert '"plan":"enterprise"' in out


@pytest.mark.parametrize("page", OTHER_PAGES, ids=[page.name for page in OTHER_PAGES])
def test_the_runnable_examples_run(
    page: Path,
    walked: subprocess.CompletedProcess[str],
    docs_server: DocsServer,
    tmp_path: Path,
) -> None:
    assert walked.returncode == 0, "the README walk-through, which the other pages build on, failed"
    done = run_page(runnable(page), docs_server.reader, tmp_path, docs_server.reader_env())
    assert done.returncode == 0, _report(page, done, docs_server)
