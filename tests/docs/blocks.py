"""The fenced code blocks of README.md and docs/*.md, and the marker that says whether the
docs test runs them (the convention is described in docs/testing.md).

The line right before a shell or Python fence is one of::

    <!-- runnable -->                   run it; it must exit 0
    <!-- runnable: exit 1 -->           run it; it must exit 1 (an aborted gate, say)
    <!-- not runnable: REASON -->       never run; REASON says why (needs Docker, …)

An HTML comment, so a reader on GitHub sees the plain example. A shell or Python block
without a marker, a marker on any other block, or a marker with no block after it is an
error: every example either runs in the docs test or says why it cannot.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PAGES = (ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md")))
SHELL = frozenset({"bash", "sh", "shell", "console"})
PYTHON = frozenset({"python", "py"})

_FENCE = re.compile(r"^(?P<indent>\s*)```(?P<lang>[\w+-]*)\s*$")
_MARKER = re.compile(
    r"^\s*<!--\s*(?:(?P<run>runnable)(?::\s*exit\s+(?P<exit>\d+))?"
    r"|not runnable:\s*(?P<reason>\S.*?))\s*-->\s*$"
)
_ANY_MARKER = re.compile(r"^\s*<!--\s*(?:not )?runnable\b")


@dataclass(frozen=True)
class Block:
    """One fenced block: where it is, its language and text, and its marker."""

    page: Path
    line: int  # the opening fence, 1-based
    lang: str
    code: str
    runnable: bool
    expected_exit: int
    reason: str | None  # why a marked block is not runnable

    @property
    def where(self) -> str:
        return f"{self.page.relative_to(ROOT)} line {self.line}"

    @property
    def is_example(self) -> bool:
        """A shell or Python block: one that must carry a marker."""
        return self.lang in SHELL or self.lang in PYTHON


class MarkerError(ValueError):
    """A marker that is malformed, stray, or on a block that cannot run."""


def blocks(page: Path) -> list[Block]:
    """The page's fenced blocks in order; raises MarkerError for a misplaced marker."""
    lines = page.read_text().splitlines()
    found: list[Block] = []
    pending: tuple[int, re.Match[str]] | None = None
    i = 0
    while i < len(lines):
        line = lines[i]
        if _ANY_MARKER.match(line):
            marker = _MARKER.match(line)
            if marker is None:
                raise MarkerError(f"{page.name} line {i + 1}: malformed marker {line.strip()!r}")
            pending = (i + 1, marker)
            i += 1
            continue
        fence = _FENCE.match(line)
        if fence is None:
            if pending is not None and line.strip():
                raise MarkerError(f"{page.name} line {pending[0]}: a marker must precede a fence")
            i += 1
            continue
        end = i + 1
        while end < len(lines) and lines[end].strip() != "```":
            end += 1
        indent = len(fence["indent"])
        code = "\n".join(text[indent:] for text in lines[i + 1 : end]) + "\n"
        found.append(_block(page, i + 1, fence["lang"], code, pending))
        pending = None
        i = end + 1
    if pending is not None:
        raise MarkerError(f"{page.name} line {pending[0]}: a marker with no block after it")
    return found


def _block(
    page: Path, line: int, lang: str, code: str, marker: tuple[int, re.Match[str]] | None
) -> Block:
    runnable = marker is not None and marker[1]["run"] is not None
    if marker is not None and lang not in SHELL | PYTHON:
        raise MarkerError(f"{page.name} line {line}: only shell and Python blocks take a marker")
    return Block(
        page=page,
        line=line,
        lang=lang,
        code=code,
        runnable=runnable,
        expected_exit=int(marker[1]["exit"] or 0) if runnable and marker else 0,
        reason=marker[1]["reason"] if marker is not None else None,
    )
