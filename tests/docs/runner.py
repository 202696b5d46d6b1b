"""Runs a page's runnable blocks the way a reader pastes them into one terminal: in page
order, in one bash session (so a variable set by one block is there for the next), Python
blocks through ``python -`` in that same session.

The reader's placeholders are replaced with the live server's values: the address
``http://127.0.0.1:4001`` with the test server's, and a placeholder key (``lg_live_…`` or
``lg_live_xxxx…``) with a real one. ``curl`` runs with ``--fail-with-body``, so an HTTP
error fails the block and shows the error envelope.
"""

from __future__ import annotations

import re
import shlex
import subprocess
from dataclasses import dataclass
from pathlib import Path

from tests.docs.blocks import PYTHON, Block

DOCS_URL = "http://127.0.0.1:4001"
PLACEHOLDER_KEY = re.compile(r"lg_live_(?:…|x{8,})")
PYTHON_END = "__LAUNCHGATE_DOCS_PYTHON__"

PRELUDE = """\
curl() { command curl --fail-with-body "$@"; }
set -euo pipefail
__lg_where="the prelude"
trap '__lg_rc=$?; [ "$__lg_rc" = 0 ] || printf "\\n>>> exit %s in the block at %s\\n" \
  "$__lg_rc" "$__lg_where" >&2' EXIT
"""


@dataclass(frozen=True)
class Reader:
    """What a reader's shell has after the quickstart: its server, its key."""

    url: str
    key: str

    def fill(self, code: str) -> str:
        return PLACEHOLDER_KEY.sub(self.key, code.replace(DOCS_URL, self.url))


def script(blocks: list[Block], reader: Reader) -> str:
    """One bash script for a page's runnable blocks, each announced on stdout and stderr
    (so the output shows which block printed what)."""
    parts = [PRELUDE]
    for block in blocks:
        where = shlex.quote(block.where)
        body = reader.fill(block.code)
        if block.lang in PYTHON:
            assert PYTHON_END not in body
            body = f"python - <<'{PYTHON_END}'\n{body}{PYTHON_END}\n"
        announce = "printf '>>> %s\\n' \"$__lg_where\""
        parts.append(f"__lg_where={where}\n{announce}\n{announce} >&2\n")
        if block.expected_exit == 0:
            parts.append(body)
        else:
            # A subshell with errexit of its own: the block stops at its first failure, and
            # its status is compared here. (Variables it sets stay inside it.)
            parts.append(
                f"set +e\n(\nset -e\n{body})\n__lg_got=$?\nset -e\n"
                f'if [ "$__lg_got" != {block.expected_exit} ]; then\n'
                f'  echo ">>> exit $__lg_got, expected {block.expected_exit}" >&2; exit 1\nfi\n'
            )
    parts.append('__lg_where="the end"\n')
    return "\n".join(parts)


def run_page(
    blocks: list[Block], reader: Reader, cwd: Path, env: dict[str, str]
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["bash", "-c", script(blocks, reader)],
        cwd=cwd,
        env=env,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=120,
    )
