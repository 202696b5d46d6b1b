"""How a batch reads in a terminal (issue 14): the verdict, ``Items cleared: 60% (30/50),
needs 50%``, the baseline, ``Batch ID: …``, then one row per suite case — pass rate with
its 95% interval, the baseline's rate, the difference in percentage points, the p-value,
and ``▼`` on a regressed case (``▲`` improved). Pure: a batch in, lines and rows out.

Shared with the GitHub Action, whose comment shows the same rows as a Markdown table.

``Cost: $0.0123`` (issue 16) is what the items' judge calls cost, ``unknown`` when a judged
model has no price; a batch that spent nothing (deterministic cases, cached verdicts) gets
no line, since a batch does not say which of its cases were judged.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from rich.text import Text

from launchgate.cli.run.report import EXIT_CODES, percent, usd

if TYPE_CHECKING:  # types only: the CLI starts without loading httpx
    from launchgate.sdk import BatchResult, CaseComparison, Side

HEADERS = {
    "cleared": ("✓ Cleared for launch", "bold green"),
    "aborted": ("✗ Launch aborted", "bold red"),
    "skipped": ("⚠ Eval skipped (API unreachable)", "bold yellow"),
    "error": ("⚠ Batch ended in error", "bold red"),
    "inconclusive": ("◐ Inconclusive", "bold yellow"),
    "running": ("… Batch queued (async)", "bold"),
}
MARKS = {"regressed": ("▼", "bold red"), "improved": ("▲", "green")}
DASH = "—"
COLUMNS = ("", "Case", "Pass rate", "95% interval", "Baseline", "Delta", "p-value")


@dataclass(frozen=True)
class Row:
    """One suite case of the table, every cell already text."""

    mark: str
    case: str
    pass_rate: str
    interval: str
    baseline: str
    delta: str
    p_value: str
    classification: str | None

    def cells(self, compared: bool) -> list[str]:
        cells = [self.mark, self.case, self.pass_rate, self.interval]
        return cells + ([self.baseline, self.delta, self.p_value] if compared else [])


def exit_code(batch: BatchResult) -> int:
    """As for a run: 0 cleared, skipped or queued; 1 aborted; 2 error; 3 inconclusive."""
    return EXIT_CODES.get(batch.status, 2)


def header(batch: BatchResult) -> Text:
    label, style = HEADERS.get(batch.status, (f"? Batch {batch.status}", "bold"))
    detail = batch.verdict_detail
    if batch.status == "aborted" and detail is not None and detail.aborted_by_regression:
        label += f" — {len(batch.regressions)} case(s) regressed against the baseline"
    elif batch.status == "inconclusive" and detail is not None:
        label += f" — the judge could not decide {detail.inconclusive_items} item(s)"
    return Text(label, style=style)


def items_text(batch: BatchResult) -> str:
    """``60% (30/50), needs 50%``: the share of items cleared against ``min_cleared``."""
    counts = batch.items
    text = f"{percent(batch.pass_rate)} ({counts.cleared}/{counts.total})"
    if batch.min_cleared is not None:
        text += f", needs {percent(batch.min_cleared)}"
    return text


def cost_text(batch: BatchResult) -> str | None:
    """``$0.0123``, or ``unknown (a judged model has no price)``; None when the batch spent
    nothing or the server reports no cost."""
    if "cost_usd" not in batch.raw:
        return None
    if batch.cost_usd is None:
        return "unknown (a judged model has no price)"
    return usd(batch.cost_usd) if batch.cost_usd > 0 else None


def baseline_text(batch: BatchResult) -> str | None:
    """What the batch was compared with, or why not; None when no baseline was asked."""
    if batch.baseline is None:
        return None
    if batch.baseline_id is None:
        return (
            f"none found ({batch.baseline}: no completed batch of the suite on its baseline "
            "branch yet)"
        )
    asked = " (auto)" if batch.baseline == "auto" else ""
    comparison = batch.comparison
    if comparison is None:
        return f"{batch.baseline_id}{asked}"
    return (
        f"{batch.baseline_id}{asked} — {comparison.regressed_cases} case(s) regressed, "
        f"{comparison.improved_cases} improved (false-discovery rate "
        f"{comparison.false_discovery_rate:g})"
    )


def lines(batch: BatchResult) -> list[Text]:
    """Every line of the report, in order, the table last."""
    out = [header(batch)]
    if batch.status == "skipped":
        return out + ([Text(f"Batch ID: {batch.id}")] if batch.id else [])
    if batch.status == "running":
        return [*out, Text(f"Items: {batch.items.total}"), Text(f"Batch ID: {batch.id}")]
    out.append(Text(f"Items cleared: {items_text(batch)}"))
    cost = cost_text(batch)
    if cost is not None:
        out.append(Text(f"Cost: {cost}"))
    baseline = baseline_text(batch)
    if baseline:
        out.append(Text(f"Baseline: {baseline}"))
    out.append(Text(f"Batch ID: {batch.id}"))
    return out + table(batch)


def rows(batch: BatchResult) -> list[Row]:
    """One row per case in suite order (a case the baseline had and this batch has not,
    ``removed``, last); baseline cells only when there is a comparison."""
    figures = {case.case_id: case for case in batch.cases or ()}
    compared: dict[str, CaseComparison] = {}
    if batch.comparison is not None:
        compared = {case.case_id: case for case in batch.comparison.cases}
    out = []
    for case in batch.cases or ():
        versus = compared.get(case.case_id)
        out.append(
            _row(
                case.case,
                f"{percent(case.pass_rate)} ({case.passed}/{case.items})",
                f"[{_pct(case.interval[0])}, {_pct(case.interval[1])}]",
                versus,
            )
        )
    for case_id, versus in compared.items():
        if case_id not in figures:
            out.append(_row(versus.case, DASH, DASH, versus))
    return out


def table(batch: BatchResult) -> list[Text]:
    """The rows as aligned text (plain, with the marks coloured on a terminal)."""
    found = rows(batch)
    if not found:
        return []
    compared = batch.comparison is not None
    head = list(COLUMNS if compared else COLUMNS[:4])
    grid = [head] + [row.cells(compared) for row in found]
    widths = [max(len(cells[i]) for cells in grid) for i in range(len(head))]
    out = [Text("  ".join(c.ljust(w) for c, w in zip(head, widths, strict=True)).rstrip())]
    for row, cells in zip(found, grid[1:], strict=True):
        line = Text()
        _, style = MARKS.get(row.classification or "", ("", ""))
        line.append(cells[0].ljust(widths[0]), style=style)
        rest = "  ".join(c.ljust(w) for c, w in zip(cells[1:], widths[1:], strict=True))
        line.append(("  " + rest).rstrip())
        out.append(line)
    return out


def side_text(side: Side | None) -> str:
    if side is None:
        return DASH
    return f"{percent(side.pass_rate)} ({side.passed}/{side.items})"


def delta_text(difference: float | None) -> str:
    """The difference in percentage points, signed: ``-36.0 pp``."""
    return DASH if difference is None else f"{difference * 100:+.1f} pp"


def p_text(p_value: float | None) -> str:
    """``<0.001`` below a thousandth (the exact figure is in ``--json``), else 3 places."""
    if p_value is None:
        return DASH
    return "<0.001" if p_value < 0.001 else f"{p_value:.3f}"


def _row(case: str, rate: str, interval: str, versus: CaseComparison | None) -> Row:
    if versus is None:
        return Row(" ", case, rate, interval, DASH, DASH, DASH, None)
    mark, _ = MARKS.get(versus.classification, (" ", ""))
    baseline = side_text(versus.baseline)
    if versus.classification in ("new", "removed"):
        baseline = f"{baseline} ({versus.classification})"
    return Row(
        mark,
        case,
        rate,
        interval,
        baseline,
        delta_text(versus.difference),
        p_text(versus.p_value),
        versus.classification,
    )


def _pct(value: float) -> str:
    return f"{value * 100:.1f}%"
