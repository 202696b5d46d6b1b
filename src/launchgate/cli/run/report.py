"""How a run reads in a terminal (SPEC §11): the verdict, ``Pass rate: 40% (2/5)``,
``Duration: …ms``, ``Run ID: …``, then one line per case. Pure: lines in, exit code out.

A run with cases the judge could not decide (issue 13) says so under the verdict and lists
each undecided case with its mean and interval, since those numbers are what a reader needs
to judge how close the call was; a sampled case's line carries its interval too.

A run with a judged case (issue 16) says what its judge calls cost, ``Cost: $0.0123``, or
``Cost: unknown (no price for openai/gpt-x)`` when the server has no price for a model it
called; a run of deterministic cases only costs nothing and gets no line.

Shared with the GitHub Action, which prints the same lines to the job log.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from rich.text import Text

from launchgate.sdk.figures import number, percent
from launchgate.sdk.money import usd

if TYPE_CHECKING:  # types only: the CLI starts without loading httpx
    from launchgate.sdk import CaseResult, RunResult

HEADERS = {
    "cleared": ("✓ Cleared for launch", "bold green"),
    "aborted": ("✗ Launch aborted", "bold red"),
    "skipped": ("⚠ Eval skipped (API unreachable)", "bold yellow"),
    "error": ("⚠ Run ended in error", "bold red"),
    "inconclusive": ("◐ Inconclusive", "bold yellow"),
    "pending": ("… Run queued (async)", "bold"),
    "running": ("… Run in progress", "bold"),
}
CASE_MARKS = {
    "passed": ("✓", "green"),
    "failed": ("✗", "red"),
    "error": ("⚠", "yellow"),
    "inconclusive": ("◐", "yellow"),
}
EXIT_CODES = {
    "cleared": 0,
    "skipped": 0,
    "pending": 0,
    "running": 0,
    "aborted": 1,
    "error": 2,
    "inconclusive": 3,
}


def exit_code(result: RunResult) -> int:
    """0 cleared, skipped or queued; 1 aborted; 2 error (and anything unknown); 3
    inconclusive — its own code, so a pipeline can tell "the judge could not decide" from
    a failed launch and, say, re-run or ask a human instead of blocking outright."""
    return EXIT_CODES.get(result.status, 2)


def duration(ms: float | None) -> str:
    """``245ms``; one decimal below 10 ms, where deterministic runs live."""
    if ms is None:
        return "n/a"
    return f"{ms:.0f}ms" if ms >= 10 else f"{ms:.1f}ms"


def cost_text(result: RunResult) -> str | None:
    """``$0.0123`` or ``unknown (no price for openai/gpt-x)`` for a run with a judged
    case; None for one without (it cost nothing), and for a server that reports no cost."""
    if not result.judged or "cost_usd" not in result.raw:
        return None
    if result.cost_usd is not None:
        return usd(result.cost_usd)
    models = result.unpriced_models
    return f"unknown (no price for {', '.join(models)})" if models else "unknown"


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
    if result.status == "inconclusive":
        label += f" — the judge could not decide {undecided_count(result)} case(s)"
    return Text(label, style=style)


def undecided(result: RunResult) -> list[CaseResult]:
    """The cases whose judgements could not decide, in suite order."""
    return [case for case in result.scores if case.status == "inconclusive"]


def undecided_count(result: RunResult) -> int:
    """The server's count; the listed cases only when an older server sent none."""
    return result.inconclusive_cases or len(undecided(result))


def two(value: float) -> str:
    """A mean, bound or threshold next to an interval: always two decimals (``0.70``)."""
    return f"{value:.2f}"


def undecided_text(case: CaseResult) -> str:
    """``mean 0.71, 95% interval [0.62, 0.80], threshold 0.70, 10 judgements``."""
    sampling = case.sampling
    if sampling is None:  # an older server: the score is all there is
        return f"score {two(case.score)}, threshold {two(case.threshold)}"
    return (
        f"mean {two(sampling.mean)}, {interval_text(case)}, threshold {two(case.threshold)}, "
        f"{len(sampling.samples)} judgements"
    )


def interval_text(case: CaseResult) -> str:
    """``95% interval [0.62, 0.80]`` (empty without sampling)."""
    sampling = case.sampling
    if sampling is None:
        return ""
    low, high = sampling.interval
    return f"{sampling.confidence * 100:g}% interval [{two(low)}, {two(high)}]"


def sampling_note(case: CaseResult) -> str:
    """`` (10 judgements, 95% interval [0.62, 0.80])`` for a case judged more than once;
    nothing for one judgement, whose interval is all of [0, 1] and says nothing."""
    if case.sampling is None or len(case.sampling.samples) < 2:
        return ""
    return f" ({len(case.sampling.samples)} judgements, {interval_text(case)})"


def undecided_note(result: RunResult) -> str | None:
    """What the verdict line leaves unsaid when a case was inconclusive, or None: that the
    suite's ``on_inconclusive`` made the verdict, or that it holds either way."""
    detail = result.verdict_detail
    if detail is None or result.status == "inconclusive":
        return None
    count = f"The judge could not decide {detail.inconclusive_cases} case(s)"
    if detail.mapped:
        return (
            f"{count}: the run was inconclusive, {result.status} by the suite's "
            f"on_inconclusive: {detail.on_inconclusive}"
        )
    if detail.status == "error":
        return f"{count}; a case that could not be scored decides the run"
    return f"{count}; the verdict is {detail.status} either way"


def pass_rate_range(result: RunResult) -> str:
    """``, 100% with the undecided case(s) passed`` when a case was inconclusive: the pass
    rate counts them as failed, and the other bound shows how far they could move it."""
    detail = result.verdict_detail
    if detail is None:
        return ""
    return f", {percent(detail.pass_rate_high)} with the undecided case(s) passed"


def case_line(case: CaseResult) -> Text:
    mark, style = CASE_MARKS.get(case.status, ("?", ""))
    line = Text.assemble(
        (mark, style),
        f" {case.case} {number(case.score)} / {number(case.threshold)}{sampling_note(case)}",
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
    note = undecided_note(result)
    if note:
        out.append(Text(f"◐ {note}", style="yellow"))
    out += [Text(f"  {case.case}: {undecided_text(case)}") for case in undecided(result)]
    out += [
        Text(f"Pass rate: {pass_rate_text(result)}{pass_rate_range(result)}"),
        Text(f"Duration: {duration(result.duration_ms)}"),
    ]
    cost = cost_text(result)
    if cost is not None:
        out.append(Text(f"Cost: {cost}"))
    out.append(Text(f"Run ID: {result.id}"))
    return out + [case_line(case) for case in result.scores]
