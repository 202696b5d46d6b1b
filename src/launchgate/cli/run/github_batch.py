"""The GitHub Action with the ``outputs-file`` input (issue 14): the dataset gated as one
batch, compared with the base branch.

On a pull request the batch is stored with ``trigger_meta.branch`` = the head branch and
``baseline: "auto"``: the latest completed batch of the suite on its baseline branch. On a
push the batch is stored with ``branch`` = the pushed branch and no baseline, so a push to
the base branch leaves the batch later pull requests compare with. The report goes to the
log, the outputs (``status``, ``pass-rate``, ``batch-id``, ``regressed-cases``) and the job
summary, and the pull request's comment shows the regression table. Exit codes as for a
single output: 0 cleared or skipped, 1 aborted, 2 error or bad input, 3 inconclusive.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping
from typing import Any

from launchgate.cli.run import batch_report
from launchgate.cli.run.github import (
    OUTPUT_NAMES,
    PROJECT,
    SKIP_TITLE,
    _append,
    _command,
    _comment,
    _event,
    _footer,
    _in_workspace,
    _opted_in,
    _truthy,
    action_gate,
    trigger_meta,
)
from launchgate.cli.run.github import main as single_output
from launchgate.cli.run.github_comment import Branches, batch_comment_body, marker
from launchgate.cli.run.inputs import UsageError, read_items
from launchgate.cli.run.report import refusal, workflow_command
from launchgate.sdk import BatchResult, LaunchGate, LaunchGateError

WAIT_S = 3600.0


def main(env: Mapping[str, str] | None = None) -> int:
    """The action's entry point: a batch with ``outputs-file``, else one output
    (``github.main``); the exit code."""
    env = os.environ if env is None else env
    if not (env.get("INPUT_OUTPUTS_FILE") or "").strip():
        return single_output(env)
    logging.getLogger("launchgate.sdk").addHandler(logging.NullHandler())
    project = env.get("INPUT_PROJECT", "").strip() or None
    allow_empty = _opted_in(env.get("INPUT_ALLOW_EMPTY_OUTPUT"))
    return run_batch(env, env.get("INPUT_SUITE", "").strip(), project, allow_empty)


def run_batch(env: Mapping[str, str], suite: str, project: str | None, allow_empty: bool) -> int:
    """Gate the outputs file's items; the job's exit code."""
    try:
        if not suite:
            raise UsageError("The 'suite' input is required")
        if env.get("INPUT_OUTPUT") or env.get("INPUT_OUTPUT_FILE"):
            raise UsageError(
                "Give the 'output' (or 'output-file') input or the 'outputs-file' input, not both"
            )
        file = _in_workspace(env, env.get("INPUT_OUTPUTS_FILE", "").strip()) or ""
        items = read_items(file, allow_empty=allow_empty, names=OUTPUT_NAMES)
        event = _event(env)
        pull = base_branch(env, event) is not None
        with action_gate(env) as gate:
            batch = gate.batch(
                suite,
                items,
                baseline="auto" if pull else None,
                trigger="github_action",
                trigger_meta=batch_meta(env, event),
                project=project,
                allow_empty_output=allow_empty,
                interval=2.0,
                timeout=WAIT_S,
            )
            branches = Branches(base_branch(env, event), _baseline_branch(gate, batch))
    except LaunchGateError as exc:
        _command("error", refusal(exc.code, exc.message, exc.details, suite, PROJECT))
        return 2
    except (UsageError, ValueError) as exc:
        _command("error", str(exc))
        return 2
    for line in batch_report.lines(batch):
        print(line.plain)
    _write_outputs(env, batch)
    body = batch_comment_body(batch, suite, project, branches, footer=_footer(env, event))
    _append(env.get("GITHUB_STEP_SUMMARY"), body + "\n")
    if _truthy(env.get("INPUT_COMMENT", "true")):
        _comment(env, event, marker(suite, project), body)
    return _verdict(batch)


def base_branch(env: Mapping[str, str], event: dict[str, Any]) -> str | None:
    """The pull request's base branch (``GITHUB_BASE_REF``, else the event's), or None
    when this is not a pull request."""
    pull = event.get("pull_request")
    from_event = pull.get("base", {}).get("ref") if isinstance(pull, dict) else None
    return env.get("GITHUB_BASE_REF") or (from_event if isinstance(from_event, str) else None)


def head_branch(env: Mapping[str, str], event: dict[str, Any]) -> str | None:
    """The branch the outputs were made on: a pull request's head branch, else the pushed
    branch (``refs/heads/main`` → ``main``); None for a tag or a detached ref."""
    pull = event.get("pull_request")
    from_event = pull.get("head", {}).get("ref") if isinstance(pull, dict) else None
    if env.get("GITHUB_HEAD_REF"):
        return env["GITHUB_HEAD_REF"]
    if isinstance(from_event, str) and from_event:
        return from_event
    ref = env.get("GITHUB_REF", "")
    return ref.removeprefix("refs/heads/") if ref.startswith("refs/heads/") else None


def batch_meta(env: Mapping[str, str], event: dict[str, Any]) -> dict[str, Any]:
    """The run's ``trigger_meta`` plus ``branch`` (what ``auto`` baselines match on) and,
    on a pull request, ``base_branch``."""
    meta = trigger_meta(env, event)
    branches = {"branch": head_branch(env, event), "base_branch": base_branch(env, event)}
    meta.update({name: value for name, value in branches.items() if value})
    return meta


def _baseline_branch(gate: LaunchGate, batch: BatchResult) -> str | None:
    """The branch the baseline batch was stored with, for the comment's column; None when
    there is none (or it cannot be read: the verdict does not depend on it)."""
    if not batch.baseline_id:
        return None
    try:
        found = gate.get_batch(batch.baseline_id)
    except LaunchGateError:
        return None
    branch = (found.trigger_meta or {}).get("branch")
    return branch if isinstance(branch, str) else None


def _write_outputs(env: Mapping[str, str], batch: BatchResult) -> None:
    rate = "" if batch.pass_rate is None else str(batch.pass_rate)
    regressed = "" if batch.comparison is None else str(batch.comparison.regressed_cases)
    _append(
        env.get("GITHUB_OUTPUT"),
        f"status={batch.status}\npass-rate={rate}\nrun-id=\nbatch-id={batch.id or ''}\n"
        f"regressed-cases={regressed}\n",
    )


def _verdict(batch: BatchResult) -> int:
    items = f"items cleared {batch_report.items_text(batch)} (batch {batch.id})"
    regressed = ", ".join(case.case for case in batch.regressions)
    if batch.status == "skipped":
        print(workflow_command("warning", batch.message or "", title=SKIP_TITLE), flush=True)
    elif batch.status == "aborted":
        why = f"; regressed against the baseline: {regressed}" if regressed else ""
        _command("error", f"LaunchGate: launch aborted, {items}{why}")
    elif batch.status == "inconclusive":
        _command("error", f"LaunchGate: inconclusive, {items}")
    elif batch.status == "error":
        _command("error", f"LaunchGate: batch {batch.id} ended in error")
    elif regressed:
        _command("warning", f"LaunchGate: cleared, but regressed against the baseline: {regressed}")
    return batch_report.exit_code(batch)
