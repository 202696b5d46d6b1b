"""Reading the output and the run input from flags, files or stdin, for ``launchgate run``
and the GitHub Action alike; a mistake is one ``UsageError`` line, never a traceback."""

from __future__ import annotations

import json
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any


class UsageError(Exception):
    """Bad flags or files: the command prints the message and exits 2."""


@dataclass(frozen=True)
class OutputNames:
    """How the caller names the output's sources, so a message says what to change."""

    text: str = "--output"
    file: str = "--output-file"
    allow_empty: str = "pass --allow-empty-output"


CLI_OUTPUT = OutputNames()


def read_output(
    text: str | None,
    file: str | None,
    *,
    allow_empty: bool = False,
    names: OutputNames = CLI_OUTPUT,
) -> str:
    """Exactly one of the two; ``-`` as the file reads stdin.

    An output that is empty or only whitespace (``--output ""``, an empty file, nothing on
    stdin) is a ``UsageError`` unless ``allow_empty``: it almost always means the step that
    produced it broke, and scoring it would gate on nothing.
    """
    if text is not None and file:
        raise UsageError(f"Give the output with {names.text} or {names.file}, not both")
    if file:
        output = _read_text(file, "output")
    elif text is None:
        raise UsageError(f"Give the output to score with {names.text} TEXT or {names.file} PATH")
    else:
        output = text
    if not output.strip() and not allow_empty:
        what = "empty" if not output else "only whitespace"
        if file:
            where = "read from stdin" if file == "-" else f"the output file {file}"
        else:
            where = f"{names.text} {output!r}"
        raise UsageError(
            f"The output is {what} ({where}): an empty output almost always means the "
            f"pipeline that produced it broke; {names.allow_empty} to score it anyway"
        )
    return output


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


def read_items(
    file: str, *, allow_empty: bool = False, names: OutputNames = CLI_OUTPUT
) -> list[dict[str, Any]]:
    """A batch's items from a JSON Lines file: one object per line with ``output`` (a
    string), optional ``input`` (an object) and ``key`` (a string). Blank lines are
    skipped. Any other line is a ``UsageError`` naming its number, before anything is
    sent: a batch half-read from a broken file would gate on the wrong dataset."""
    text = _read_text(file, "outputs")
    items: list[dict[str, Any]] = []
    for number, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        items.append(_item(line, f"Line {number} of {file}", allow_empty, names))
    if not items:
        raise UsageError(f"The outputs file {file} holds no items (one JSON object per line)")
    return items


def _item(line: str, where: str, allow_empty: bool, names: OutputNames) -> dict[str, Any]:
    try:
        value = json.loads(line)
    except json.JSONDecodeError as exc:
        raise UsageError(f"{where} is not valid JSON: {exc.msg} (column {exc.colno})") from None
    if not isinstance(value, dict):
        raise UsageError(f'{where} must be a JSON object like {{"output": "…", "key": "…"}}')
    unknown = sorted(set(value) - {"output", "input", "key"})
    if unknown:
        listed = ", ".join(unknown)
        raise UsageError(f"{where} has unknown field(s) {listed}: use output, input, key")
    output = value.get("output")
    if not isinstance(output, str):
        raise UsageError(f'{where} needs "output", a string')
    if not output.strip() and not allow_empty:
        raise UsageError(
            f"{where} has an empty output: an empty output almost always means the pipeline "
            f"that produced it broke; {names.allow_empty} to score it anyway"
        )
    if "input" in value and not isinstance(value["input"], dict):
        raise UsageError(f'{where}: "input" must be a JSON object')
    if "key" in value and not isinstance(value["key"], str):
        raise UsageError(f'{where}: "key" must be a string')
    return value
