"""The GitHub Action with ``outputs-file`` (issue 14), against a real server and the fake
GitHub API: a push to the base branch stores the batch later pull requests compare with;
a pull request's batch is compared with it (``auto``), and the comment shows the
regression table against the base branch, regressions first; the outputs, the
annotations, the exit codes; a pull request before any base-branch batch; a base branch
other than the suite's baseline branch; a bad line of the file."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.clients.batches import BASE, WORSE, keyed, new_suite, write_jsonl
from tests.clients.cli import make_terminal
from tests.clients.fake_github import fake_github
from tests.clients.live import Gate
from tests.clients.test_github_action import FOOTER, Action

PULL = {"GITHUB_BASE_REF": "main", "GITHUB_HEAD_REF": "feature/tone"}


@pytest.fixture
def action(tmp_path: Path, gate: Gate) -> Any:
    with fake_github() as (url, state):
        yield Action(make_terminal(tmp_path), gate, url, state)


def _gate(
    action: Action, slug: str, passing: dict[str, int], event: str = "pull_request", **env: str
) -> tuple[int, str]:
    write_jsonl(action.term.cwd / "outputs.jsonl", keyed(passing))
    return action.run(
        slug, "", event=event, overrides={**env}, outputs_file="outputs.jsonl"
    )  # relative: the workspace's


def _stored(gate: Gate, batch_id: str) -> dict[str, Any]:
    with gate.api() as client:
        data: dict[str, Any] = client.get(f"/v1/batches/{batch_id}").json()["data"]
    return data


def test_a_push_stores_the_base_batch_and_a_pull_request_is_compared_with_it(
    action: Action,
) -> None:
    suite = new_suite(action.gate, batch_threshold=0.5)
    slug = suite["slug"]
    code, log = _gate(action, slug, BASE, event="push")
    assert code == 0, log
    base = _stored(action.gate, action.outputs()["batch-id"])
    assert base["trigger"] == "github_action" and base["trigger_meta"]["branch"] == "main"
    assert base["baseline"] is None and "Not a pull request: no comment posted." in log

    code, log = _gate(action, slug, WORSE, **PULL)
    assert code == 0, log  # 60% of the items cleared, the suite needs 50%: cleared
    outputs = action.outputs()
    assert (outputs["status"], outputs["pass-rate"], outputs["regressed-cases"]) == (
        "cleared",
        "0.6",
        "1",
    )
    batch = _stored(action.gate, outputs["batch-id"])
    assert batch["baseline_id"] == base["id"]
    assert batch["trigger_meta"]["branch"] == "feature/tone"
    assert batch["trigger_meta"]["base_branch"] == "main" and batch["trigger_meta"]["pr_number"]
    assert "::warning::LaunchGate: cleared, but regressed against the baseline: Says alpha" in log
    alpha, beta = batch["comparison"]["cases"]
    lo, hi = (f"{bound * 100:.1f}%" for bound in batch["cases"][0]["interval"])
    blo, bhi = (f"{bound * 100:.1f}%" for bound in batch["cases"][1]["interval"])
    [comment] = action.comments()
    assert comment["body"] == (
        f"<!-- launchgate:suite={slug} -->\n"
        "## 🟢 LaunchGate: Cleared for launch\n"
        "\n"
        f"- **Suite:** `{slug}`\n"
        "- **Items cleared:** 60% (30/50), needs 50%\n"
        f"- **Baseline:** `{base['id']}`, the latest batch on `main` — **1 case(s) regressed**, "
        "0 improved (Benjamini-Hochberg, false-discovery rate 0.05)\n"
        f"- **Batch ID:** `{batch['id']}`\n"
        "\n"
        "|  | Case | Pass rate | 95% interval | `main` | Δ | p-value |\n"
        "|---|---|---|---|---|---|---|\n"
        f"| ▼ | Says alpha | 60% (30/50) | [{lo}, {hi}] | 96% (48/50) | -36.0 pp | <0.001 |\n"
        f"|  | Says beta | 92% (46/50) | [{blo}, {bhi}] | 96% (48/50) | -4.0 pp | "
        f"{beta['p_value']:.3f} |\n"
        "\n"
        f"{FOOTER}\n"
    )
    assert alpha["classification"] == "regressed" and action.summary() == comment["body"] + "\n"


def test_regressions_come_first_and_fail_on_regression_fails_the_job(action: Action) -> None:
    suite = new_suite(
        action.gate, words=("beta", "alpha"), batch_threshold=0.5, fail_on_regression=True
    )
    _gate(action, suite["slug"], BASE, event="push")
    code, log = _gate(action, suite["slug"], WORSE, **PULL)
    assert code == 1, log
    assert (
        "::error::LaunchGate: launch aborted, items cleared 60%25 (30/50), needs 50%25 (batch"
        in log
    )
    assert log.count("regressed against the baseline: Says alpha") == 1
    [comment] = action.comments()
    body = comment["body"]
    assert "## 🔴 LaunchGate: Launch aborted — a case regressed\n" in body
    rows = [line for line in body.splitlines() if line.startswith("| ")][1:]
    assert [row.split(" | ")[1] for row in rows] == ["Says alpha", "Says beta"]  # suite: beta 1st
    # The next push of the pull request edits the same comment.
    code, _ = _gate(action, suite["slug"], BASE, **PULL)
    [edited] = action.comments()
    assert code == 0 and edited["id"] == comment["id"] and edited["edits"] == 1
    assert (
        "**0 case(s) regressed**" not in edited["body"]
        and "0 case(s) regressed" in (edited["body"])
    )


def test_a_pull_request_before_any_base_batch_says_so(action: Action) -> None:
    suite = new_suite(action.gate, batch_threshold=0.5)
    code, log = _gate(action, suite["slug"], BASE, **PULL)
    assert code == 0, log
    [comment] = action.comments()
    assert (
        "- **Baseline:** none yet — no completed batch of this suite on its baseline branch; "
        "this action run on a push to the base branch on `main` stores one\n"
    ) in comment["body"]
    assert "|  | Case | Pass rate | 95% interval |\n" in comment["body"]
    assert action.outputs()["regressed-cases"] == ""


def test_a_base_branch_other_than_the_suites_baseline_branch_is_pointed_out(
    action: Action,
) -> None:
    suite = new_suite(action.gate, batch_threshold=0.5)
    _gate(action, suite["slug"], BASE, event="push")
    code, _ = _gate(action, suite["slug"], WORSE, GITHUB_BASE_REF="release", GITHUB_HEAD_REF="fix")
    assert code == 0
    [comment] = action.comments()
    assert (
        "- ⚠️ This pull request targets `release`, but the suite compares with its baseline "
        "branch `main` (the suite's `baseline_branch` setting)\n"
    ) in comment["body"]


def test_a_bad_line_fails_the_job_naming_it(action: Action) -> None:
    workspace = action.term.cwd
    (workspace / "outputs.jsonl").write_text(json.dumps({"output": "alpha"}) + "\n{oops\n")
    code, log = action.run("refund-replies", "", outputs_file="outputs.jsonl", **{})
    assert code == 2
    assert f"::error::Line 2 of {workspace / 'outputs.jsonl'} is not valid JSON" in log
    assert action.comments() == []
    code, log = action.run("refund-replies", "x", outputs_file="outputs.jsonl")
    assert code == 2 and "not both" in log
