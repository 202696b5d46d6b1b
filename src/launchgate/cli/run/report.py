"""How a run reads in a terminal (SPEC §11): the verdict, ``Pass rate: 40% (2/5)``,
``Duration: …ms``, ``Run ID: …``, then one line per case. Pure: lines in, exit code out.

Shared with the GitHub Action, which prints the same lines to the job log.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

from rich.text import Text

if TYPE_CHECKING:  # types only: the CLI starts without loading httpx
    from launchgate.sdk import CaseResult, RunResult

HEADERS = {
    "cleared": ("✓ Cleared for launch", "bold green"),
    "aborted": ("✗ Launch aborted", "bold red"),
    "skipped": ("⚠ Eval skipped (API unreachable)", "bold yellow"),
    "error": ("⚠ Run ended in error", "bold red"),
    "pending": ("… Run queued (async)", "bold"),
    "running": ("… Run in progress", "bold"),
}
CASE_MARKS = {"passed": ("✓", "green"), "failed": ("✗", "red"), "error": ("⚠", "yellow")}
EXIT_CODES = {"cleared": 0, "skipped": 0, "pending": 0, "running": 0, "aborted": 1, "error": 2}


def exit_code(result: RunResult) -> int:
    """0 cleared, skipped or queued; 1 aborted; 2 error (and anything unknown)."""
    return EXIT_CODES.get(result.status, 2)


def percent(pass_rate: float | None) -> str:
    """``40%``; one decimal, rounded down, when not whole — so 99.96% never reads 100%."""
    if pass_rate is None:
        return "n/a"
    value = pass_rate * 100
    if abs(value - round(value)) < 1e-9:
        return f"{round(value)}%"
    return f"{math.floor(value * 10) / 10:.1f}%"


def duration(ms: float | None) -> str:
    """``245ms``; one decimal below 10 ms, where deterministic runs live."""
    if ms is None:
        return "n/a"
    return f"{ms:.0f}ms" if ms >= 10 else f"{ms:.1f}ms"


def number(value: float) -> str:
    """A score or threshold as the API stores it (4 places): ``1.0``, ``0.75``."""
    return repr(round(float(value), 4))


def one_line(text: str) -> str:
    return " ".join(text.split())


def refusal(code: str, message: str, details: object, suite: str, project_option: str) -> str:
    """The server's refusal as one line, in the caller's words where the server's cannot
    know them: an ambiguous suite slug names the caller's ``--project`` (or the action's
    ``project`` input), not the API's body field."""
    if isinstance(details, dict) and details.get("field") == "project":
        projects = details.get("projects")
        if isinstance(projects, list) and projects:
            listed = ", ".join(str(project) for project in projects)
            message = (
                f"Suite '{suite}' exists in several projects ({listed}); "
                f"say which with {project_option}"
            )
    return f"{message} ({code})"


def workflow_command(kind: str, message: str, title: str | None = None) -> str:
    """A GitHub Actions workflow command (``::warning title=…::message``), escaped as the
    runner requires so that a newline or ``%`` in a message cannot end or forge one."""

    def data(text: str) -> str:
        return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")

    def value(text: str) -> str:
        return data(text).replace(":", "%3A").replace(",", "%2C")

    head = f"{kind} title={value(title)}" if title else kind
    return f"::{head}::{data(message)}"


def pass_rate_text(result: RunResult) -> str:
    return f"{percent(result.pass_rate)} ({result.passed_cases}/{result.total_cases})"


def header(result: RunResult) -> Text:
    label, style = HEADERS.get(result.status, (f"? Run {result.status}", "bold"))
    return Text(label, style=style)


def case_line(case: CaseResult) -> Text:
    mark, style = CASE_MARKS.get(case.status, ("?", ""))
    line = Text.assemble(
        (mark, style), f" {case.case} {number(case.score)} / {number(case.threshold)}"
    )
    if case.status != "passed" and case.reason:
        line.append(f" — {one_line(case.reason)}")
    return line


def lines(result: RunResult) -> list[Text]:
    """Every line of the report, in order."""
    out = [header(result)]
    if result.status == "skipped":
        return out
    if result.status in ("pending", "running"):
        return [*out, Text(f"Run ID: {result.id}")]
    out += [
        Text(f"Pass rate: {pass_rate_text(result)}"),
        Text(f"Duration: {duration(result.duration_ms)}"),
        Text(f"Run ID: {result.id}"),
    ]
    return out + [case_line(case) for case in result.scores]
