"""The pull-request comment of the GitHub Action: its Markdown body (pure) and the GitHub
REST calls that post it once per suite and edit it on every later run.

A hidden marker naming the suite (and the project, when given) is the comment's first
line; the next run of the same suite finds the comment by it and edits it in place, so a
pull request carries one LaunchGate comment per suite however often it is pushed.

An inconclusive run (issue 13) is headed 🟡 and lists the cases the judge could not decide,
with their mean and interval; when the suite's ``on_inconclusive`` turned it into cleared
or aborted, the heading is that verdict's and a note gives the raw outcome.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import httpx

from launchgate.cli.run.report import (
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
)
from launchgate.sdk import RunResult

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
        parts += [
            f"- **Pass rate:** {pass_rate_text(result)}{pass_rate_range(result)}",
            f"- **Duration:** {duration(result.duration_ms)}",
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
    head = ["Case", "Score", "Threshold", "Status"] + (["Reason"] if with_reason else [])
    rows = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for case in result.scores:
        cells = [
            _cell(case.case),
            number(case.score) + sampling_note(case),
            number(case.threshold),
            STATUS_CELLS.get(case.status, case.status),
        ]
        if with_reason:
            cells.append("" if case.status == "passed" else _cell(one_line(case.reason)))
        rows.append("| " + " | ".join(cells) + " |")
    return rows


def _cell(text: str) -> str:
    """Safe inside a table cell: one line, pipes escaped, no HTML comment to close ours."""
    return one_line(text).replace("|", "\\|").replace("<!--", "&lt;!--").replace("-->", "--&gt;")


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
