"""The GitHub Action (SPEC §11) against a real LaunchGate server and a fake GitHub API on
127.0.0.1: one pull-request comment per suite, created then edited, found again by its
hidden marker; ``comment: "false"``; the body for cleared and aborted runs; the outputs,
the job summary, the exit codes and the run's ``trigger_meta``; action.yml itself: its run
step executed as the runner would, with its expressions filled in. Last, inconclusive runs
(issue 13): the 🟡 heading and exit 3, and the verdicts ``on_inconclusive`` makes of them."""

from __future__ import annotations

import json
import re
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml

from launchgate.sdk.money import usd
from tests.cli.conftest import BIN
from tests.clients.cli import Terminal, make_terminal
from tests.clients.fake_github import GitHubState, fake_github
from tests.clients.live import ABORTED_OUTPUT, CLEARED_OUTPUT, FIXED_OUTPUT, Gate
from tests.clients.noisy import DECIDED_OUTPUT, UNDECIDED_OUTPUT, Noisy
from tests.sdk.scripted_server import closed_port

ROOT = Path(__file__).resolve().parents[2]
REPO, PR, HEAD_SHA = "acme/support-bot", 7, "0123456789abcdef0123456789abcdef01234567"
RUN_URL = f"https://github.com/{REPO}/actions/runs/4242"
FOOTER = f"<sub>Commit 0123456 · [workflow run]({RUN_URL})</sub>"


@dataclass
class Action:
    """Runs ``launchgate github-action`` the way action.yml does, in a fake workflow."""

    term: Terminal
    gate: Gate
    github_url: str
    github: GitHubState

    def run(
        self,
        suite: str,
        output: str,
        event: str = "pull_request",
        overrides: dict[str, str] | None = None,
        **inputs: str,
    ) -> tuple[int, str]:
        workspace = self.term.cwd
        outputs, summary = workspace / "outputs.txt", workspace / "summary.md"
        for path in (outputs, summary):
            path.write_text("")
        event_file = workspace / "event.json"
        payload = (
            {"pull_request": {"number": PR, "head": {"sha": HEAD_SHA}}}
            if event == "pull_request"
            else {"ref": "refs/heads/main"}
        )
        event_file.write_text(json.dumps(payload))
        env = {
            "INPUT_API_KEY": self.gate.key,
            "INPUT_API_URL": self.gate.url,
            "INPUT_SUITE": suite,
            "INPUT_OUTPUT": output,
            "INPUT_COMMENT": "true",
            "LAUNCHGATE_RETRY_BACKOFF": "0.001",
            **github_env(self, event_file),
            "GITHUB_OUTPUT": str(outputs),
            "GITHUB_STEP_SUMMARY": str(summary),
            **{f"INPUT_{k.upper()}": v for k, v in inputs.items()},
        }
        if event != "pull_request":
            env.update(GITHUB_EVENT_NAME="push", GITHUB_REF="refs/heads/main")
        env.update(overrides or {})
        done = self.term.run("github-action", **env)
        return done.returncode, done.stdout + done.stderr

    def outputs(self) -> dict[str, str]:
        text = (self.term.cwd / "outputs.txt").read_text()
        return dict(line.split("=", 1) for line in text.splitlines())

    def summary(self) -> str:
        return (self.term.cwd / "summary.md").read_text()

    def comments(self) -> list[dict[str, Any]]:
        return self.github.on(REPO, PR)


def github_env(action: Action, event_file: Path) -> dict[str, str]:
    return {
        "GITHUB_API_URL": action.github_url,
        "GITHUB_TOKEN": action.github.token,
        "GITHUB_REPOSITORY": REPO,
        "GITHUB_EVENT_NAME": "pull_request",
        "GITHUB_EVENT_PATH": str(event_file),
        "GITHUB_SHA": "f" * 40,
        "GITHUB_REF": f"refs/pull/{PR}/merge",
        "GITHUB_SERVER_URL": "https://github.com",
        "GITHUB_RUN_ID": "4242",
        "GITHUB_RUN_ATTEMPT": "1",
        "GITHUB_WORKSPACE": str(action.term.cwd),
        "GITHUB_WORKFLOW": "CI",
    }


@pytest.fixture
def action(tmp_path: Path, gate: Gate) -> Any:
    with fake_github() as (url, state):
        yield Action(make_terminal(tmp_path), gate, url, state)


def _expected_body(gate: Gate, body: str, heading: str, rows: list[str]) -> str:
    """SPEC §11's comment: marker, heading, suite, pass rate, duration, run id, the table."""
    run_id = re.search(r"\*\*Run ID:\*\* `(run_\w+)`", body)
    assert run_id, body
    stored = gate.stored_run(run_id[1])
    duration = re.search(r"^- \*\*Duration:\*\* (\d+(?:\.\d)?)ms$", body, flags=re.M)
    assert duration and float(duration[1]) == pytest.approx(stored["duration_ms"], abs=0.5)
    rate = f"{round(stored['pass_rate'] * 100)}% ({stored['passed_cases']}/{stored['total_cases']})"
    return "\n".join(
        [
            f"<!-- launchgate:suite={stored['suite']['slug']} -->",
            heading,
            "",
            f"- **Suite:** `{stored['suite']['slug']}`",
            f"- **Pass rate:** {rate}",
            f"- **Duration:** {duration[1]}ms",
            f"- **Run ID:** `{stored['id']}`",
            "",
            *rows,
            "",
            FOOTER,
            "",
        ]
    )


def test_one_comment_per_suite_created_then_edited(action: Action) -> None:
    # Someone else's chatter first: 120 comments, so the marker must be looked for on page 2.
    for n in range(120):
        action.github.add(REPO, PR, f"comment {n}")
    code, log = action.run("refund-replies", ABORTED_OUTPUT)
    assert code == 1, log
    [first] = [c for c in action.comments() if "launchgate:suite" in c["body"]]
    assert first["edits"] == 0 and first["user"]["login"] == "github-actions[bot]"
    assert first["body"] == _expected_body(
        action.gate,
        first["body"],
        "## 🔴 LaunchGate: Launch aborted",
        [
            "| Case | Score | Threshold | Status | Reason |",
            "|---|---|---|---|---|",
            "| Offers a refund | 1.0 | 1.0 | ✅ Passed |  |",
            "| Keeps addresses private | 0.0 | 1.0 | ❌ Failed | Pattern matched but should "
            'not have: "billing@example.com" |',
        ],
    )

    code, log = action.run("refund-replies", CLEARED_OUTPUT)
    assert code == 0, log
    ours = [c for c in action.comments() if "launchgate:suite" in c["body"]]
    assert [c["id"] for c in ours] == [first["id"]] and ours[0]["edits"] == 1
    assert ours[0]["body"] == _expected_body(
        action.gate,
        ours[0]["body"],
        "## 🟢 LaunchGate: Cleared for launch",
        [
            "| Case | Score | Threshold | Status |",
            "|---|---|---|---|",
            "| Offers a refund | 1.0 | 1.0 | ✅ Passed |",
            "| Keeps addresses private | 1.0 | 1.0 | ✅ Passed |",
        ],
    )
    assert f"comment {first['id']} updated" in log

    code, _ = action.run("support-answers", FIXED_OUTPUT)
    assert code == 1
    ours = [c for c in action.comments() if "launchgate:suite" in c["body"]]
    assert len(ours) == 2 and len(action.comments()) == 122
    assert ours[1]["body"].startswith(
        "<!-- launchgate:suite=support-answers -->\n## 🔴 LaunchGate: Launch aborted\n"
    )
    assert "Pass rate:** 40% (2/5)" in ours[1]["body"]
    assert ours[0]["body"].startswith("<!-- launchgate:suite=refund-replies -->")


def test_a_project_input_gets_its_own_marker(action: Action) -> None:
    action.run("tone-check", "A refund", project="support")
    action.run("tone-check", "A refund", project="other")
    bodies = sorted(c["body"].splitlines()[0] for c in action.comments())
    assert bodies == [
        "<!-- launchgate:suite=other/tone-check -->",
        "<!-- launchgate:suite=support/tone-check -->",
    ]


def test_comment_false_posts_nothing(action: Action) -> None:
    code, _ = action.run("refund-replies", ABORTED_OUTPUT, comment="false")
    assert code == 1
    assert action.github.requests == [] and action.comments() == []
    assert action.outputs()["status"] == "aborted"
    assert action.summary().startswith(
        "<!-- launchgate:suite=refund-replies -->\n## 🔴 LaunchGate: Launch aborted"
    )


def test_outputs_summary_exit_codes_and_trigger_meta(action: Action) -> None:
    code, log = action.run("refund-replies", ABORTED_OUTPUT)
    outputs = action.outputs()
    assert code == 1 and outputs["status"] == "aborted" and outputs["pass-rate"] == "0.5"
    # Workflow commands escape "%" as "%25"; GitHub shows "50% (1/2)".
    assert "::error::LaunchGate: launch aborted, pass rate 50%25 (1/2)" in log
    assert "✗ Launch aborted\nPass rate: 50% (1/2)\n" in log  # the CLI's report in the log
    stored = action.gate.stored_run(outputs["run-id"])
    assert stored["trigger"] == "github_action"
    meta = stored["trigger_meta"]
    assert (meta["commit_sha"], meta["pr_number"], meta["workflow_run_url"]) == (
        HEAD_SHA,
        PR,
        RUN_URL,
    )
    assert (meta["repository"], meta["event"]) == (REPO, "pull_request")
    assert action.summary() == action.comments()[0]["body"] + "\n"

    code, log = action.run("refund-replies", CLEARED_OUTPUT)
    assert code == 0 and action.outputs() == {
        "status": "cleared",
        "pass-rate": "1.0",
        "run-id": action.outputs()["run-id"],
    }
    code, log = action.run("judged", CLEARED_OUTPUT)
    assert code == 2 and action.outputs()["status"] == "error"
    assert "## 🔴 LaunchGate: Run ended in error" in action.summary()


def test_an_unreachable_api_passes_with_a_warning_naming_the_url_and_the_cause(
    action: Action,
) -> None:
    url = closed_port()
    code, log = action.run("refund-replies", CLEARED_OUTPUT, api_url=url)
    assert code == 0
    assert (
        "::warning title=LaunchGate eval skipped (API unreachable)::"
        f"LaunchGate API at {url} unreachable: connection refused — POST /v1/run failed 4 times"
    ) in log
    assert 'strict: "true" or LAUNCHGATE_FAIL_OPEN=false makes it a failure' in log
    assert action.outputs() == {"status": "skipped", "pass-rate": "", "run-id": ""}
    [comment] = action.comments()
    assert "## 🟡 LaunchGate: Eval skipped (API unreachable)" in comment["body"]
    assert f"LaunchGate API at {url} unreachable: connection refused" in comment["body"]


@pytest.mark.parametrize(
    ("inputs", "overrides"), [({"strict": "true"}, {}), ({}, {"LAUNCHGATE_FAIL_OPEN": "false"})]
)
def test_strict_fails_the_job_when_the_api_is_unreachable(
    action: Action, inputs: dict[str, str], overrides: dict[str, str]
) -> None:
    url = closed_port()
    code, log = action.run(
        "refund-replies", CLEARED_OUTPUT, api_url=url, overrides=overrides, **inputs
    )
    assert code == 2
    assert f"::error::LaunchGate API at {url} unreachable: connection refused" in log
    assert "::warning" not in log and action.comments() == []


def test_a_host_that_does_not_resolve_fails_the_job(action: Action) -> None:
    code, log = action.run("refund-replies", CLEARED_OUTPUT, api_url="https://lg.invalid")
    assert code == 2
    assert "::error::The LaunchGate API host 'lg.invalid' does not resolve (DNS failure" in log
    assert "the base URL comes from the 'api-url' input (DNS_FAILURE)" in log
    assert action.comments() == []


def test_an_empty_output_fails_the_job_unless_allowed(action: Action) -> None:
    code, log = action.run("refund-replies", "")
    assert code == 2 and action.comments() == []
    assert "::error::The output is empty (the 'output' input '')" in log
    assert 'set allow-empty-output: "true" to score it anyway' in log
    (action.term.cwd / "answer.txt").write_text("\n")
    code, log = action.run("refund-replies", "", output_file="answer.txt")
    assert code == 2 and "::error::The output is only whitespace (the output file " in log

    code, log = action.run("refund-replies", "", allow_empty_output="true")
    assert code == 1, log  # scored: nothing offers a refund
    assert action.gate.stored_run(action.outputs()["run-id"])["output"] == ""


def test_an_ambiguous_suite_names_the_project_input(action: Action) -> None:
    code, log = action.run("tone-check", CLEARED_OUTPUT)
    assert code == 2
    assert "::error::Suite 'tone-check' exists in several projects (" in log
    assert "say which with the 'project' input (VALIDATION_ERROR)" in log


def test_outside_a_pull_request_there_is_no_comment(action: Action) -> None:
    code, log = action.run("refund-replies", CLEARED_OUTPUT, event="push")
    assert code == 0 and "Not a pull request" in log
    assert action.github.requests == []
    meta = action.gate.stored_run(action.outputs()["run-id"])["trigger_meta"]
    assert meta["commit_sha"] == "f" * 40 and "pr_number" not in meta


def test_a_refused_comment_warns_but_the_verdict_decides(action: Action) -> None:
    code, log = action.run(
        "refund-replies", CLEARED_OUTPUT, overrides={"GITHUB_TOKEN": "ghs_revoked"}
    )
    assert code == 0
    assert "::warning::The pull request comment could not be posted" in log
    assert action.comments() == []


def test_a_refused_run_fails_the_job_with_the_servers_message(action: Action) -> None:
    code, log = action.run("no-such-suite", CLEARED_OUTPUT)
    assert code == 2
    assert "::error::Suite 'no-such-suite' not found (NOT_FOUND)" in log
    assert action.comments() == []


# --- action.yml ----------------------------------------------------------------------------


def _action_yml() -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load((ROOT / "action.yml").read_text())
    return data


def test_action_yml_declares_the_spec_inputs_and_outputs() -> None:
    spec = _action_yml()
    assert spec["runs"]["using"] == "composite"
    inputs = spec["inputs"]
    assert {
        "api-key",
        "suite",
        "output",
        "output-file",
        "outputs-file",
        "input",
        "api-url",
        "comment",
    } <= set(inputs)
    assert inputs["comment"]["default"] == "true" and inputs["suite"]["required"] is True
    [step] = [s for s in spec["runs"]["steps"] if s.get("id") == "gate"]
    assert {name: out["value"] for name, out in spec["outputs"].items()} == {
        name: f"${{{{ steps.gate.outputs.{name} }}}}"
        for name in ("status", "pass-rate", "run-id", "batch-id", "regressed-cases")
    }
    # Every input reaches the step (composite actions do not export INPUT_* by themselves).
    passed = " ".join(step["env"].values())
    assert all(f"inputs.{name} }}" in passed for name in inputs)
    install = spec["runs"]["steps"][0]["run"]
    assert '"$GITHUB_ACTION_PATH"' in install  # installs from the action's own checkout


def _render(value: str, inputs: dict[str, str], defaults: dict[str, str]) -> str:
    def one(match: re.Match[str]) -> str:
        expression = match[1].strip()
        if expression.startswith("inputs."):
            name = expression.removeprefix("inputs.")
            return inputs.get(name, defaults.get(name, ""))
        raise AssertionError(f"unexpected expression {expression}")

    return re.sub(r"\$\{\{(.*?)\}\}", one, value)


def test_the_run_step_of_action_yml_works_as_the_runner_runs_it(
    action: Action, tmp_path: Path
) -> None:
    spec = _action_yml()
    [step] = [s for s in spec["runs"]["steps"] if s.get("id") == "gate"]
    # The install step's result: the package in a venv under RUNNER_TEMP (here, ours).
    runner_temp = tmp_path / "runner-temp"
    (runner_temp / "launchgate-action" / "bin").mkdir(parents=True)
    (runner_temp / "launchgate-action" / "bin" / "launchgate").symlink_to(BIN)
    inputs = {
        "api-key": action.gate.key,
        "api-url": action.gate.url,
        "suite": "refund-replies",
        "output-file": "answer.txt",
        "input": '{"customer": "Ann"}',
        "github-token": action.github.token,
    }
    defaults = {name: str(i.get("default", "")) for name, i in spec["inputs"].items()}
    workspace = action.term.cwd
    (workspace / "answer.txt").write_text(ABORTED_OUTPUT)
    (workspace / "event.json").write_text(json.dumps({"pull_request": {"number": PR}}))
    env = action.term.env(
        RUNNER_TEMP=str(runner_temp),
        LAUNCHGATE_RETRY_BACKOFF="0.001",
        GITHUB_OUTPUT=str(workspace / "out.txt"),
        **github_env(action, workspace / "event.json"),
    )
    env.update({name: _render(str(value), inputs, defaults) for name, value in step["env"].items()})
    done = subprocess.run(
        ["bash", "-e", "-c", step["run"]],
        cwd=workspace,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 1, done.stdout + done.stderr
    outputs = dict(line.split("=", 1) for line in (workspace / "out.txt").read_text().split())
    assert outputs["status"] == "aborted"
    stored = action.gate.stored_run(outputs["run-id"])
    assert stored["output"] == ABORTED_OUTPUT and stored["input"] == {"customer": "Ann"}
    [comment] = action.comments()
    assert comment["body"].startswith(
        "<!-- launchgate:suite=refund-replies -->\n## 🔴 LaunchGate: Launch aborted"
    )


# --- inconclusive runs (issue 13) -------------------------------------------------------


def _undecided_item(noisy: Noisy, run_id: str) -> str:
    """The comment's line for the judge case, from what the server stored."""
    sampling = noisy.stored_run(run_id)["scores"][0]["sampling"]
    low, high = sampling["interval"]
    return (
        f"- Kind tone: mean {sampling['mean']:.2f}, 95% interval [{low:.2f}, {high:.2f}], "
        "threshold 0.70, 10 judgements"
    )


def test_an_inconclusive_run_is_headed_yellow_and_fails_the_job_with_3(
    action: Action, noisy: Noisy
) -> None:
    code, log = action.run("undecided", UNDECIDED_OUTPUT, api_key=noisy.key)
    assert code == 3, log
    outputs = action.outputs()
    assert (outputs["status"], outputs["pass-rate"]) == ("inconclusive", "0.5")
    run_id = outputs["run-id"]
    stored = noisy.stored_run(run_id)
    assert stored["trigger"] == "github_action" and stored["status"] == "inconclusive"
    judged = stored["scores"][0]
    low, high = judged["sampling"]["interval"]
    [comment] = action.comments()
    body = comment["body"]
    lines = body.splitlines()
    assert lines[:3] == [
        "<!-- launchgate:suite=undecided -->",
        "## 🟡 LaunchGate: Inconclusive",
        "",
    ]
    assert "- **Pass rate:** 50% (1/2), 100% with the undecided case(s) passed" in lines
    start = lines.index(f"- **Run ID:** `{run_id}`") + 2
    assert lines[start : start + 10] == [
        "**The judge could not decide 1 case(s)**, so the pass rate may land on either side "
        "of the suite's threshold:",
        "",
        _undecided_item(noisy, run_id),
        "",
        "| Case | Score | Threshold | Status | Cost | Reason |",
        "|---|---|---|---|---|---|",
        f"| Kind tone | {judged['score']} (10 judgements, 95% interval [{low:.2f}, {high:.2f}]) "
        f"| 0.7 | 🟡 Inconclusive | {usd(judged['cost_usd'])} | {judged['reason']} |",
        "| Offers a refund | 1.0 | 1.0 | ✅ Passed |  |  |",
        "",
        FOOTER,
    ]
    assert action.summary() == body + "\n"
    assert (
        "::error::LaunchGate: inconclusive, the judge could not decide 1 case(s); pass rate "
        f"50%25 (1/2), 100%25 with the undecided case(s) passed (run {run_id})"
    ) in log
    assert "◐ Inconclusive — the judge could not decide 1 case(s)\n" in log  # the CLI's report


@pytest.mark.parametrize(
    ("suite", "code", "heading", "annotation"),
    [
        (
            "undecided-abort",
            1,
            "## 🔴 LaunchGate: Launch aborted",
            "::error::LaunchGate: launch aborted, pass rate 50%25 (1/2) (run {run}); the judge "
            "could not decide 1 case(s): the run was inconclusive, aborted by the suite's "
            "on_inconclusive: abort",
        ),
        (
            "undecided-clear",
            0,
            "## 🟢 LaunchGate: Cleared for launch",
            "::warning::LaunchGate: cleared for launch (run {run}); the judge could not decide "
            "1 case(s): the run was inconclusive, cleared by the suite's on_inconclusive: clear",
        ),
    ],
)
def test_on_inconclusive_decides_the_job_and_the_comment_notes_the_raw_outcome(
    action: Action, noisy: Noisy, suite: str, code: int, heading: str, annotation: str
) -> None:
    got, log = action.run(suite, UNDECIDED_OUTPUT, api_key=noisy.key)
    assert got == code, log
    run_id = action.outputs()["run-id"]
    assert action.outputs()["status"] == noisy.stored_run(run_id)["status"]
    assert annotation.format(run=run_id) in log
    [comment] = action.comments()
    lines = comment["body"].splitlines()
    assert lines[1] == heading  # the mapped verdict's, not the yellow one
    start = lines.index(f"- **Run ID:** `{run_id}`") + 2
    setting = suite.removeprefix("undecided-")
    assert lines[start : start + 4] == [
        "> ◐ The judge could not decide 1 case(s): the run was inconclusive, "
        f"{'aborted' if code else 'cleared'} by the suite's on_inconclusive: {setting}",
        "",
        _undecided_item(noisy, run_id),
        "",
    ]


def test_a_decided_sampled_run_comments_as_before_with_the_interval(
    action: Action, noisy: Noisy
) -> None:
    code, log = action.run("undecided", DECIDED_OUTPUT, api_key=noisy.key)
    assert code == 0 and "::warning" not in log and "::error" not in log
    body = action.comments()[0]["body"]
    assert "## 🟢 LaunchGate: Cleared for launch" in body and "could not decide" not in body
    assert "| Kind tone | 0.9 (3 judgements, 95% interval [0.90, 0.90]) | 0.7 | ✅ Passed |" in body
