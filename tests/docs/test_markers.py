"""Every shell and Python example of README.md and docs/ either runs in the docs test or
says why it cannot; no page tells anyone to install a distribution we do not own."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import pytest

from launchgate.sdk._http import DISTRIBUTION
from tests.docs.blocks import PAGES, PYTHON, ROOT, MarkerError, blocks

IDS = [str(page.relative_to(ROOT)) for page in PAGES]


@pytest.mark.parametrize("page", PAGES, ids=IDS)
def test_every_example_is_marked(page: Path) -> None:
    unmarked = [
        block.where
        for block in blocks(page)
        if block.is_example and not block.runnable and block.reason is None
    ]
    assert unmarked == [], (
        "mark each with <!-- runnable --> or <!-- not runnable: why --> (docs/testing.md)"
    )


def test_the_readme_sdk_and_cli_examples_run() -> None:
    """The pages a new user follows first keep runnable examples: a marker removed in
    passing would quietly stop testing them."""
    runnable = {page.name: [b for b in blocks(page) if b.runnable] for page in PAGES}
    assert len(runnable["README.md"]) >= 5
    assert any(block.lang in PYTHON for block in runnable["sdk.md"])
    assert any("launchgate run" in block.code for block in runnable["cli.md"])


@pytest.mark.parametrize(
    ("text", "error"),
    [
        ("<!-- runnable -->\n```json\n{}\n```\n", "only shell and Python blocks"),
        ("<!-- runnable -->\nSome prose.\n\n```bash\ntrue\n```\n", "must precede a fence"),
        ("Text.\n<!-- runnable -->\n", "no block after it"),
        ("<!-- not runnable -->\n```bash\ntrue\n```\n", "malformed marker"),
        ("<!-- runnable: exit one -->\n```bash\ntrue\n```\n", "malformed marker"),
    ],
)
def test_a_misplaced_marker_is_an_error(tmp_path: Path, text: str, error: str) -> None:
    page = tmp_path / "page.md"
    page.write_text(text)
    with pytest.raises(MarkerError, match=error):
        blocks(page)


def test_markers_are_read(tmp_path: Path) -> None:
    page = tmp_path / "page.md"
    page.write_text(
        "<!-- runnable: exit 1 -->\n```bash\nfalse\n```\n\n"
        "<!-- not runnable: needs Docker -->\n```sh\ndocker compose up\n```\n\n"
        "- a list item:\n\n  <!-- runnable -->\n  ```python\n  print(1)\n  ```\n\n"
        "```bash\necho unmarked\n```\n"
    )
    found = blocks(page)
    assert [(b.lang, b.runnable, b.expected_exit, b.reason) for b in found] == [
        ("bash", True, 1, None),
        ("sh", False, 0, "needs Docker"),
        ("python", True, 0, None),
        ("bash", False, 0, None),
    ]
    assert found[2].code == "print(1)\n"


# `pip install` and its arguments, up to the end of a code span, a comment or the command.
PIP_INSTALL = re.compile(r"pip install([^`#;&|\n]*)")


def _names(args: str) -> list[str]:
    return [a.strip("\"'`") for a in args.split() if not a.startswith("-")]


@pytest.mark.parametrize("page", PAGES, ids=IDS)
def test_no_page_says_to_install_a_name_we_do_not_own(page: Path) -> None:
    """`launchgate` on the Python package index is an unrelated project: an install is from
    a path (a clone) or names our distribution; a page may warn against the name."""
    wrong = []
    for line in page.read_text().splitlines():
        for match in PIP_INSTALL.finditer(line):
            before = line[: match.start()].lower()
            if "never" in before or "uninstall" in before:
                continue
            for name in _names(match.group(1)):
                base = re.split(r"[\[<>=!~ @]", name, maxsplit=1)[0]
                if base.lower() == "launchgate":
                    wrong.append(line.strip())
    assert wrong == []


def test_the_distribution_name_is_ours_everywhere() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    assert project["name"] == DISTRIBUTION  # what the SDK reads its version from
    assert project["name"] != "launchgate", "launchgate on PyPI is an unrelated project"
    dev = project["optional-dependencies"]["dev"]
    assert f"{DISTRIBUTION}[server,postgres]" in dev
    assert not any(re.match(r"launchgate\[", requirement) for requirement in dev)
