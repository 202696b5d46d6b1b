"""Reading the output and the run input from flags, files or stdin, for ``launchgate run``
and the GitHub Action alike; a mistake is one ``UsageError`` line, never a traceback."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any


class UsageError(Exception):
    """Bad flags or files: the command prints the message and exits 2."""


def read_output(text: str | None, file: str | None) -> str:
    """Exactly one of the two; ``-`` as the file reads stdin. An explicit empty
    ``--output ""`` is a real output (a model that answered nothing) and is scored."""
    if text is not None and file:
        raise UsageError("Give the output with --output or --output-file, not both")
    if file:
        return _read_text(file, "output")
    if text is None:
        raise UsageError("Give the output to score with --output TEXT or --output-file PATH")
    return text


def read_input(text: str | None, file: str | None) -> dict[str, Any]:
    """The run's input: a JSON object from the flag or the file; ``{}`` when neither."""
    if text is not None and file:
        raise UsageError("Give the input with --input or --input-file, not both")
    source = "--input"
    if file:
        text, source = _read_text(file, "input"), file
    if not text or not text.strip():
        return {}
    try:
        value = json.loads(text)
    except json.JSONDecodeError as exc:
        raise UsageError(
            f"The input ({source}) is not valid JSON: {exc.msg} at line {exc.lineno}"
        ) from None
    if not isinstance(value, dict):
        raise UsageError(f'The input ({source}) must be a JSON object, like {{"question": …}}')
    return value


def _read_text(file: str, what: str) -> str:
    if file == "-":
        return sys.stdin.read()
    try:
        return Path(file).read_text(encoding="utf-8")
    except FileNotFoundError:
        raise UsageError(f"The {what} file does not exist: {file}") from None
    except UnicodeDecodeError:
        raise UsageError(f"The {what} file is not UTF-8 text: {file}") from None
    except OSError as exc:
        raise UsageError(f"The {what} file cannot be read: {file} ({exc.strerror})") from None
