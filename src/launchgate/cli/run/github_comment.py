"""The pull-request comment of the GitHub Action: its Markdown body (pure) and the GitHub
REST calls that post it once per suite and edit it on every later run.

A hidden marker naming the suite (and the project, when given) is the comment's first
line; the next run of the same suite finds the comment by it and edits it in place, so a
pull request carries one LaunchGate comment per suite however often it is pushed.

An inconclusive run (issue 13) is headed 🟡 and lists the cases the judge could not decide,
with their mean and interval; when the suite's ``on_inconclusive`` turned it into cleared
or aborted, the heading is that verdict's and a note gives the raw outcome.

The judge's cost (issue 16) is a fact under the heading, as in the terminal, and a run with
judged cases gets a Cost column: each judged case's cost, blank for deterministic ones.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import httpx

from launchgate.cli.run.report import (
    cost_text,
    duration,
    number,
    one_line,
    pass_rate_range,
    pass_rate_text,
    sampling_note,
    undecided,
    undecided_count,
    undecided_note,
    undecided_text,
    usd,
)
from launchgate.sdk import BatchResult, CaseResult, RunResult

HEADINGS = {
    "cleared": "## 🟢 LaunchGate: Cleared for launch",
    "aborted": "## 🔴 LaunchGate: Launch aborted",
    "error": "## 🔴 LaunchGate: Run ended in error",
    "skipped": "## 🟡 LaunchGate: Eval skipped (API unreachable)",
    "inconclusive": "## 🟡 LaunchGate: Inconclusive",
}
STATUS_CELLS = {
    "passed": "✅ Passed",
    "failed": "❌ Failed",
    "error": "⚠️ Error",
    "inconclusive": "🟡 Inconclusive",
}


def marker(suite: str, project: str | None = None) -> str:
    """The hidden first line that finds the comment again; ``-->`` ends it, so suite
    ``a`` never matches the comment of suite ``ab``."""
    key = f"{project}/{suite}" if project else suite
    return f"<!-- launchgate:suite={_cell(key).replace('--', '-')} -->"


def comment_body(
    result: RunResult, suite: str, project: str | None = None, footer: str | None = None
) -> str:
    """The whole comment (also the job summary): heading, facts, then the case table."""
    parts = [
        marker(suite, project),
        HEADINGS.get(result.status, f"## LaunchGate: {result.status}"),
        "",
    ]
    shown = f"{project}/{suite}" if project else suite
    parts.append(f"- **Suite:** `{_cell(shown)}`")
    if result.skipped:
        parts += [
            "",
            "The LaunchGate API could not be reached, so this output was not "
            "scored and the check passes.",
        ]
        if result.message:
            parts += ["", f"> {_cell(one_line(result.message))}"]
    else:
        cost = cost_text(result)
        parts += [
            f"- **Pass rate:** {pass_rate_text(result)}{pass_rate_range(result)}",
            f"- **Duration:** {duration(result.duration_ms)}",
            *([f"- **Cost:** {_cell(cost)}"] if cost is not None else []),
            f"- **Run ID:** `{result.id}`",
            "",
            *_undecided(result),
            *_table(result),
        ]
    if footer:
        parts += ["", f"<sub>{footer}</sub>"]
    return "\n".join(parts) + "\n"


def _undecided(result: RunResult) -> list[str]:
    """The cases the judge could not decide, under a line that says what that did to the
    verdict; nothing when every case was decided."""
    cases = undecided(result)
    if not cases:
        return []
    if result.status == "inconclusive":
        lead = (
            f"**The judge could not decide {undecided_count(result)} case(s)**, so the pass "
            "rate may land on either side of the suite's threshold:"
        )
    else:
        lead = f"> ◐ {undecided_note(result) or 'The judge could not decide some cases'}"
    items = [f"- {_cell(case.case)}: {undecided_text(case)}" for case in cases]
    return [lead, "", *items, ""]


def _table(result: RunResult) -> list[str]:
    with_reason = any(case.status != "passed" for case in result.scores)
    with_cost = cost_text(result) is not None
    head = ["Case", "Score", "Threshold", "Status"] + (["Cost"] if with_cost else [])
    head += ["Reason"] if with_reason else []
    rows = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for case in result.scores:
        cells = [
            _cell(case.case),
            number(case.score) + sampling_note(case),
            number(case.threshold),
            STATUS_CELLS.get(case.status, case.status),
        ]
        if with_cost:
            cells.append(_case_cost(case))
        if with_reason:
            cells.append("" if case.status == "passed" else _cell(one_line(case.reason)))
        rows.append("| " + " | ".join(cells) + " |")
    return rows


def _case_cost(case: CaseResult) -> str:
    """A judged case's cost, ``unknown`` without a price; blank for a deterministic case."""
    if not case.judged:
        return ""
    if case.cost_usd is None:
        return "unknown" if case.unpriced else ""
    return usd(case.cost_usd)


def _cell(text: str) -> str:
    """Safe inside a table cell: one line, pipes escaped, no HTML comment to close ours."""
    return one_line(text).replace("|", "\\|").replace("<!--", "&lt;!--").replace("-->", "--&gt;")


BATCH_HEADINGS = {**HEADINGS, "error": "## 🔴 LaunchGate: Batch ended in error"}
ORDER = {"regressed": 0, "improved": 1}


@dataclass(frozen=True)
class Branches:
    """The pull request's base branch, and the branch of the baseline batch found (the
    suite's ``baseline_branch``): the comment says when they differ."""

    base: str | None = None
    baseline: str | None = None


def batch_comment_body(
    batch: BatchResult,
    suite: str,
    project: str | None = None,
    branches: Branches | None = None,
    footer: str | None = None,
) -> str:
    """The comment for a batch (issue 14): verdict, items cleared, the baseline, then the
    regression table — regressed cases first, then improved, then the rest in suite order."""
    from launchgate.cli.run.batch_report import baseline_text, cost_text, items_text, rows

    branches = branches or Branches()
    heading = BATCH_HEADINGS.get(batch.status, f"## LaunchGate: {batch.status}")
    detail = batch.verdict_detail
    if batch.status == "aborted" and detail is not None and detail.aborted_by_regression:
        heading += " — a case regressed"
    parts = [marker(suite, project), heading, ""]
    shown = f"{project}/{suite}" if project else suite
    parts.append(f"- **Suite:** `{_cell(shown)}`")
    if batch.skipped:
        parts += [
            "",
            "The LaunchGate API could not be reached, so these outputs were not "
            "scored and the check passes.",
        ]
        if batch.message:
            parts += ["", f"> {_cell(one_line(batch.message))}"]
    else:
        parts += [
            f"- **Items cleared:** {items_text(batch)}",
            *([f"- **Cost:** {_cell(cost)}"] if (cost := cost_text(batch)) else []),
            *_baseline_lines(batch, branches, baseline_text(batch)),
            f"- **Batch ID:** `{batch.id}`",
            "",
            *_batch_table(batch, branches, rows(batch)),
        ]
    if footer:
        parts += ["", f"<sub>{footer}</sub>"]
    return "\n".join(parts) + "\n"


def _baseline_lines(batch: BatchResult, branches: Branches, text: str | None) -> list[str]:
    if batch.baseline is None:
        return []
    if batch.baseline_id is None:
        where = f" on `{_cell(branches.base)}`" if branches.base else ""
        return [
            f"- **Baseline:** none yet — no completed batch of this suite on its baseline "
            f"branch; this action run on a push to the base branch{where} stores one"
        ]
    comparison = batch.comparison
    on = f" on `{_cell(branches.baseline)}`" if branches.baseline else ""
    line = f"- **Baseline:** `{batch.baseline_id}`, the latest batch{on}"
    if comparison is not None:
        regressed = f"{comparison.regressed_cases} case(s) regressed"
        if comparison.regressed_cases:
            regressed = f"**{regressed}**"
        line += (
            f" — {regressed}, {comparison.improved_cases} improved (Benjamini-Hochberg, "
            f"false-discovery rate {comparison.false_discovery_rate:g})"
        )
    out = [line]
    if branches.base and branches.baseline and branches.base != branches.baseline:
        out.append(
            f"- ⚠️ This pull request targets `{_cell(branches.base)}`, but the suite compares "
            f"with its baseline branch `{_cell(branches.baseline)}` (the suite's "
            "`baseline_branch` setting)"
        )
    return out


def _batch_table(batch: BatchResult, branches: Branches, found: list[Any]) -> list[str]:
    if not found:
        return []
    compared = batch.comparison is not None
    head = ["", "Case", "Pass rate", "95% interval"]
    if compared:
        base = f"`{_cell(branches.baseline)}`" if branches.baseline else "Baseline"
        head += [base, "Δ", "p-value"]
    out = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    ordered = sorted(found, key=lambda row: ORDER.get(row.classification or "", 2))
    for row in ordered:
        cells = [_cell(cell) for cell in row.cells(compared)]
        out.append("| " + " | ".join(cells) + " |")
    return out


@dataclass
class GitHubComments:
    """Issue comments of one repository through the REST API (``GITHUB_API_URL``)."""

    api_url: str
    token: str
    repository: str
    timeout: float = 30.0

    def upsert(self, pr_number: int, marker_line: str, body: str) -> tuple[str, int]:
        """Edit the comment that carries the marker, or create it: ``("updated", id)`` or
        ``("created", id)``. Raises ``httpx.HTTPError`` when GitHub refuses."""
        with httpx.Client(
            base_url=self.api_url.rstrip("/"), headers=self._headers(), timeout=self.timeout
        ) as client:
            existing = self._find(client, pr_number, marker_line)
            if existing is not None:
                client.patch(
                    f"/repos/{self.repository}/issues/comments/{existing}", json={"body": body}
                ).raise_for_status()
                return "updated", existing
            created = client.post(
                f"/repos/{self.repository}/issues/{pr_number}/comments", json={"body": body}
            )
            created.raise_for_status()
            return "created", int(created.json()["id"])

    def _find(self, client: httpx.Client, pr_number: int, marker_line: str) -> int | None:
        page = 1
        while True:
            response = client.get(
                f"/repos/{self.repository}/issues/{pr_number}/comments",
                params={"per_page": 100, "page": page},
            )
            response.raise_for_status()
            comments: list[dict[str, Any]] = response.json()
            for comment in comments:
                if marker_line in (comment.get("body") or ""):
                    return int(comment["id"])
            if len(comments) < 100:
                return None
            page += 1

    def _headers(self) -> dict[str, str]:
        return {
            "Authorization": f"Bearer {self.token}",
            "Accept": "application/vnd.github+json",
            "X-GitHub-Api-Version": "2022-11-28",
            "User-Agent": "launchgate-action",
        }
