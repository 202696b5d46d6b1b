"""The GitHub Action's entry point (``launchgate github-action``, called by action.yml).

Reads the action's inputs from ``INPUT_*`` variables (action.yml maps them), runs the suite
with ``trigger: github_action`` and a ``trigger_meta`` of commit, pull request and workflow
run, prints the report to the log, writes the step outputs (``status``, ``pass-rate``,
``run-id``) and the job summary, and posts or edits the suite's pull-request comment.
With the ``outputs-file`` input ``github_batch`` runs instead, gating a dataset as a batch.

The exit code fails the job when the run is aborted (1), errored (2) or inconclusive (3:
the judge could not decide enough cases — unless the suite's ``on_inconclusive`` made the
server answer cleared or aborted, which then decides, with the raw outcome in the
annotation: a warning on a cleared run, part of the error on an aborted one); a skipped run
(API unreachable) passes with a warning annotation naming the URL and the cause, unless
``strict: "true"`` (or ``LAUNCHGATE_FAIL_OPEN=false``) makes it fail (2). A host that does
not resolve, an invalid URL and an empty output (unless ``allow-empty-output``) fail too.
A comment that GitHub refuses (a fork's read-only token, say) is a warning: the gate's
verdict decides the job, not the comment.
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import httpx

from launchgate.cli.run import report
from launchgate.cli.run.github_comment import GitHubComments, comment_body, marker
from launchgate.cli.run.inputs import OutputNames, UsageError, read_input, read_output
from launchgate.sdk import LaunchGate, LaunchGateError, RunResult
from launchgate.sdk.config import ArgumentNames, resolve_config

FALSE = {"false", "0", "no", "off"}
TRUE = {"true", "1", "yes", "on"}
SKIP_TITLE = "LaunchGate eval skipped (API unreachable)"
PROJECT = "the 'project' input"
# The action's inputs, as messages should name them.
NAMES = ArgumentNames(
    "the 'api-key' input",
    "the 'api-url' input",
    'strict: "true"',
    'set allow-empty-output: "true"',
)
OUTPUT_NAMES = OutputNames(
    "the 'output' input", "the 'output-file' input", NAMES.allow_empty_output
)


def action_gate(env: Mapping[str, str]) -> LaunchGate:
    """The client the Action's inputs describe (key, URL, ``strict``), with the retry
    backoff a test may shorten: one for a single output and for an outputs file alike."""
    backoff = float(env.get("LAUNCHGATE_RETRY_BACKOFF") or 1.0)
    config = resolve_config(
        env.get("INPUT_API_KEY") or None,
        env.get("INPUT_API_URL") or None,
        fail_open=False if _opted_in(env.get("INPUT_STRICT")) else None,
        env=env,
        names=NAMES,
    )
    return LaunchGate(config=config, timeout=120.0, backoff=backoff)


def main(env: Mapping[str, str] | None = None) -> int:
    """Run the action with ``env`` (default: the process's); returns the exit code."""
    env = os.environ if env is None else env
    logging.getLogger("launchgate.sdk").addHandler(logging.NullHandler())
    suite = env.get("INPUT_SUITE", "").strip()
    project = env.get("INPUT_PROJECT", "").strip() or None
    allow_empty = _opted_in(env.get("INPUT_ALLOW_EMPTY_OUTPUT"))
    try:
        if not suite:
            raise UsageError("The 'suite' input is required")
        output_file = _in_workspace(env, env.get("INPUT_OUTPUT_FILE"))
        # An input left empty is an empty string: with no file, that is the output given.
        text = env.get("INPUT_OUTPUT") or (None if output_file else "")
        output = read_output(text, output_file, allow_empty=allow_empty, names=OUTPUT_NAMES)
        run_input = read_input(
            env.get("INPUT_INPUT") or None, _in_workspace(env, env.get("INPUT_INPUT_FILE"))
        )
        event = _event(env)
        with action_gate(env) as gate:
            result = gate.run(
                suite,
                output,
                input=run_input,
                trigger="github_action",
                trigger_meta=trigger_meta(env, event),
                project=project,
                allow_empty_output=allow_empty,
            )
    except LaunchGateError as exc:
        _command("error", report.refusal(exc.code, exc.message, exc.details, suite, PROJECT))
        return 2
    except (UsageError, ValueError) as exc:
        _command("error", str(exc))
        return 2
    for line in report.lines(result):
        print(line.plain)
    _write_outputs(env, result)
    body = comment_body(result, suite, project, footer=_footer(env, event))
    _append(env.get("GITHUB_STEP_SUMMARY"), body + "\n")
    if _truthy(env.get("INPUT_COMMENT", "true")):
        _comment(env, event, marker(suite, project), body)
    return _verdict(result)


def trigger_meta(env: Mapping[str, str], event: dict[str, Any]) -> dict[str, Any]:
    """What the run stores about where it came from: commit, pull request, workflow run."""
    meta: dict[str, Any] = {
        "commit_sha": _head_sha(env, event),
        "pr_number": pull_request_number(env, event),
        "workflow_run_url": workflow_run_url(env),
        "repository": env.get("GITHUB_REPOSITORY"),
        "ref": env.get("GITHUB_HEAD_REF") or env.get("GITHUB_REF"),
        "event": env.get("GITHUB_EVENT_NAME"),
        "workflow": env.get("GITHUB_WORKFLOW"),
    }
    return {key: value for key, value in meta.items() if value not in (None, "")}


def pull_request_number(env: Mapping[str, str], event: dict[str, Any]) -> int | None:
    """From the event (``pull_request``, ``pull_request_target``, a comment on a pull
    request), else from a ``refs/pull/N/merge`` ref."""
    pull = event.get("pull_request")
    if isinstance(pull, dict) and isinstance(pull.get("number"), int):
        return int(pull["number"])
    issue = event.get("issue")
    if (
        isinstance(issue, dict)
        and issue.get("pull_request")
        and isinstance(issue.get("number"), int)
    ):
        return int(issue["number"])
    parts = env.get("GITHUB_REF", "").split("/")
    if len(parts) == 4 and parts[:2] == ["refs", "pull"] and parts[2].isdigit():
        return int(parts[2])
    return None


def workflow_run_url(env: Mapping[str, str]) -> str | None:
    server, repo, run_id = (
        env.get("GITHUB_SERVER_URL", "https://github.com"),
        env.get("GITHUB_REPOSITORY"),
        env.get("GITHUB_RUN_ID"),
    )
    if not (repo and run_id):
        return None
    url = f"{server.rstrip('/')}/{repo}/actions/runs/{run_id}"
    attempt = env.get("GITHUB_RUN_ATTEMPT")
    return f"{url}/attempts/{attempt}" if attempt and attempt != "1" else url


def _head_sha(env: Mapping[str, str], event: dict[str, Any]) -> str | None:
    """The pull request's head commit (what the author pushed), not the merge commit that
    ``GITHUB_SHA`` names on pull-request events."""
    pull = event.get("pull_request")
    if isinstance(pull, dict) and isinstance(pull.get("head"), dict):
        sha = pull["head"].get("sha")
        if isinstance(sha, str) and sha:
            return sha
    return env.get("GITHUB_SHA") or None


def _comment(env: Mapping[str, str], event: dict[str, Any], marker_line: str, body: str) -> None:
    number = pull_request_number(env, event)
    if number is None:
        print("Not a pull request: no comment posted.")
        return
    token, repository = env.get("GITHUB_TOKEN"), env.get("GITHUB_REPOSITORY")
    if not token or not repository:
        _command(
            "warning",
            "No GITHUB_TOKEN (or GITHUB_REPOSITORY): the pull request comment was not posted",
        )
        return
    comments = GitHubComments(
        env.get("GITHUB_API_URL") or "https://api.github.com", token, repository
    )
    try:
        action, comment_id = comments.upsert(number, marker_line, body)
    except (httpx.HTTPError, ValueError, KeyError) as exc:
        _command("warning", f"The pull request comment could not be posted: {exc}")
        return
    print(f"Pull request #{number}: comment {comment_id} {action}.")


def _verdict(result: RunResult) -> int:
    if result.status == "skipped":
        print(
            report.workflow_command("warning", result.message or "", title=SKIP_TITLE), flush=True
        )
    elif result.status == "aborted":
        _command(
            "error",
            f"LaunchGate: launch aborted, pass rate "
            f"{report.pass_rate_text(result)} (run {result.id}){_mapped(result)}",
        )
    elif result.status == "inconclusive":
        _command(
            "error",
            f"LaunchGate: inconclusive, the judge could not decide "
            f"{report.undecided_count(result)} case(s); pass rate "
            f"{report.pass_rate_text(result)}{report.pass_rate_range(result)} (run {result.id})",
        )
    elif result.status == "cleared" and _mapped(result):
        _command("warning", f"LaunchGate: cleared for launch (run {result.id}){_mapped(result)}")
    elif result.status == "error":
        _command("error", f"LaunchGate: run {result.id} ended in error")
    return report.exit_code(result)


def _mapped(result: RunResult) -> str:
    """``; the judge could not decide 1 case(s): …`` when the suite's ``on_inconclusive``
    made this verdict out of an inconclusive run, so the annotation does not hide it."""
    detail = result.verdict_detail
    if detail is None or not detail.mapped:
        return ""
    note = report.undecided_note(result) or ""
    return f"; {note[:1].lower()}{note[1:]}"


def _write_outputs(env: Mapping[str, str], result: RunResult) -> None:
    rate = "" if result.pass_rate is None else str(result.pass_rate)
    _append(
        env.get("GITHUB_OUTPUT"),
        f"status={result.status}\npass-rate={rate}\nrun-id={result.id or ''}\n",
    )


def _footer(env: Mapping[str, str], event: dict[str, Any]) -> str | None:
    sha, url = _head_sha(env, event), workflow_run_url(env)
    bits = ([f"Commit {sha[:7]}"] if sha else []) + ([f"[workflow run]({url})"] if url else [])
    return " · ".join(bits) or None


def _event(env: Mapping[str, str]) -> dict[str, Any]:
    path = env.get("GITHUB_EVENT_PATH")
    if not path:
        return {}
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError):
        return {}
    return data if isinstance(data, dict) else {}


def _in_workspace(env: Mapping[str, str], file: str | None) -> str | None:
    """Relative file inputs are relative to the checkout, as in any other action."""
    if not file:
        return None
    if file == "-" or Path(file).is_absolute() or not env.get("GITHUB_WORKSPACE"):
        return file
    return str(Path(env["GITHUB_WORKSPACE"]) / file)


def _append(path: str | None, text: str) -> None:
    if path:
        with open(path, "a", encoding="utf-8") as handle:
            handle.write(text)


def _truthy(value: str) -> bool:
    return value.strip().lower() not in FALSE


def _opted_in(value: str | None) -> bool:
    """An opt-in input is on only when it says so: a typo keeps the safe default."""
    return (value or "").strip().lower() in TRUE


def _command(kind: str, message: str) -> None:
    """A workflow command (``::error::…``), escaped as GitHub requires."""
    print(report.workflow_command(kind, message), flush=True)
