"""``launchgate run`` never passes silently (issue 12): a skip says on stderr which URL it
tried and why (and, under GitHub Actions, in a ``::warning::`` annotation); a host that does
not resolve or an invalid URL is exit 2; ``--strict`` / ``LAUNCHGATE_FAIL_OPEN=false`` turn a
skip into exit 2; an empty output is bad usage unless ``--allow-empty-output``; messages use
the CLI's words (``--api-key``, ``--project``).

Real listeners only: the scripted server, a refused port on 127.0.0.1, the session's live
server, and hosts under ``.invalid``, which never resolve — no traffic leaves the machine.
"""

from __future__ import annotations

import json
import subprocess
import time
from pathlib import Path

import pytest

from tests.clients.cli import Terminal, make_terminal
from tests.clients.live import CLEARED_OUTPUT, Gate
from tests.sdk.scripted_server import Entry, closed_port, error_answer, run_answer, scripted_server

FAST = {"LAUNCHGATE_RETRY_BACKOFF": "0.001"}
SLOW = {"LAUNCHGATE_RETRY_BACKOFF": "10"}  # a single retry would take 10 s
SKIPPED = "⚠ Eval skipped (API unreachable)"


@pytest.fixture
def term(tmp_path: Path) -> Terminal:
    return make_terminal(tmp_path)


def _gate(
    term: Terminal, url: str, *args: str, stdin: str | None = None, **settings: str
) -> subprocess.CompletedProcess[str]:
    return term.run(
        "run",
        "refund-replies",
        *args,
        "--api-key",
        "lg_test_k",
        "--api-url",
        url,
        stdin=stdin,
        **{**FAST, **settings},
    )


def _one_error_line(stderr: str) -> str:
    lines = [line for line in stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and "Traceback" not in stderr, stderr
    assert lines[0].startswith("Error: ")
    return lines[0]


# --- a skip says which URL and why ---------------------------------------------------------


def test_a_refused_port_is_a_skip_that_names_the_url_and_the_cause(term: Terminal) -> None:
    url = closed_port()
    done = _gate(term, url, "--output", "hello")
    assert done.returncode == 0
    assert done.stdout.splitlines() == [SKIPPED]
    [line] = done.stderr.splitlines()
    assert line.startswith(f"⚠ Eval skipped: LaunchGate API at {url} unreachable: ")
    assert "connection refused — POST /v1/run failed 4 times" in line
    assert "--strict or LAUNCHGATE_FAIL_OPEN=false makes it a failure" in line
    assert "::warning" not in done.stdout + done.stderr  # not under GitHub Actions


@pytest.mark.parametrize(
    ("entry", "cause"),
    [
        (error_answer(503, "UNAVAILABLE", "maintenance"), "HTTP 503"),
        (error_answer(429, "RATE_LIMITED", "slow down"), "HTTP 429 (rate limited)"),
    ],
)
def test_5xx_or_429_after_the_retries_is_a_skip_that_says_so(
    term: Terminal, entry: Entry, cause: str
) -> None:
    with scripted_server(entry) as (url, script):
        done = _gate(term, url, "--output", "hello")
    assert len(script.requests) == 4 and done.returncode == 0
    assert done.stdout.splitlines() == [SKIPPED]
    assert f"LaunchGate API at {url} unreachable: {cause} — " in done.stderr


def test_under_github_actions_a_skip_is_also_a_warning_annotation(term: Terminal) -> None:
    url = closed_port()
    done = _gate(term, url, "--output", "hello", "--json", GITHUB_ACTIONS="true")
    assert done.returncode == 0
    assert json.loads(done.stdout)["status"] == "skipped"  # stdout stays JSON
    [annotation] = [line for line in done.stderr.splitlines() if line.startswith("::")]
    assert annotation.startswith(
        f"::warning title=LaunchGate eval skipped::LaunchGate API at {url} unreachable: "
        "connection refused"
    )


# --- strict --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("flags", "settings"),
    [(["--strict"], {}), ([], {"LAUNCHGATE_FAIL_OPEN": "false"})],
)
def test_strict_makes_a_skip_exit_2(
    term: Terminal, flags: list[str], settings: dict[str, str]
) -> None:
    url = closed_port()
    done = _gate(term, url, "--output", "hello", *flags, **settings)
    assert done.returncode == 2 and done.stdout == ""
    line = _one_error_line(done.stderr)
    assert f"LaunchGate API at {url} unreachable: connection refused" in line
    assert line.endswith("(UNREACHABLE); no verdict, and fail-open is off (--strict)")


def test_a_fail_open_setting_that_is_neither_true_nor_false_exits_2(term: Terminal) -> None:
    done = _gate(term, closed_port(), "--output", "hello", LAUNCHGATE_FAIL_OPEN="sometimes")
    assert done.returncode == 2
    assert "LAUNCHGATE_FAIL_OPEN must be true or false" in _one_error_line(done.stderr)


def test_strict_changes_nothing_when_the_api_answers(term: Terminal, gate: Gate) -> None:
    done = term.run(
        "run",
        "refund-replies",
        "--output",
        CLEARED_OUTPUT,
        "--strict",
        "--api-key",
        gate.key,
        "--api-url",
        gate.url,
    )
    assert done.returncode == 0 and done.stdout.startswith("✓ Cleared for launch\n")


# --- configuration errors: exit 2, never a skip ---------------------------------------------


@pytest.mark.parametrize("via", ["--api-url", "LAUNCHGATE_API_URL"])
def test_a_host_that_does_not_resolve_exits_2_at_once(term: Terminal, via: str) -> None:
    url = "http://launchgate.invalid:4001"
    started = time.monotonic()
    if via == "--api-url":
        done = _gate(term, url, "--output", "hello", **SLOW)
    else:
        done = term.run(
            "run",
            "refund-replies",
            "--output",
            "hello",
            "--api-key",
            "lg_test_k",
            LAUNCHGATE_API_URL=url,
            **SLOW,
        )
    assert time.monotonic() - started < 9  # no retry
    assert done.returncode == 2 and done.stdout == ""
    line = _one_error_line(done.stderr)
    assert "The LaunchGate API host 'launchgate.invalid' does not resolve (DNS failure: " in line
    assert line.endswith(f"the base URL comes from {via} (DNS_FAILURE)")


@pytest.mark.parametrize(
    ("url", "problem"),
    [
        ("127.0.0.1:4001", "it must start with http:// or https://"),
        ("http://127.0.0.1:port", "it cannot be parsed"),
        ("http://:4001", "it has no host"),
    ],
)
def test_an_invalid_url_exits_2(term: Terminal, url: str, problem: str) -> None:
    done = _gate(term, url, "--output", "hello")
    assert done.returncode == 2 and done.stdout == ""
    line = _one_error_line(done.stderr)
    assert f"Invalid LaunchGate base URL '{url}' (from --api-url): {problem}" in line


# --- empty outputs -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("args", "stdin", "file_text", "where"),
    [
        (["--output", ""], None, None, "empty (--output '')"),
        (["--output", " \n"], None, None, "only whitespace (--output ' \\n')"),
        (["--output-file", "answer.txt"], None, "", "empty (the output file answer.txt)"),
        (["--output-file", "answer.txt"], None, "\n", "only whitespace (the output file"),
        (["--output-file", "-"], "", None, "empty (read from stdin)"),
    ],
)
def test_an_empty_output_is_bad_usage_without_a_request(
    term: Terminal, args: list[str], stdin: str | None, file_text: str | None, where: str
) -> None:
    if file_text is not None:
        (term.cwd / "answer.txt").write_text(file_text)
    with scripted_server((200, {}, run_answer())) as (url, script):
        done = _gate(term, url, *args, stdin=stdin)
    assert script.requests == []
    assert done.returncode == 2 and done.stdout == ""
    line = _one_error_line(done.stderr)
    assert f"The output is {where}" in line
    assert line.endswith(
        "an empty output almost always means the pipeline that produced it broke; "
        "pass --allow-empty-output to score it anyway"
    )


def test_allow_empty_output_sends_the_opt_in(term: Terminal) -> None:
    with scripted_server((200, {}, run_answer())) as (url, script):
        done = _gate(term, url, "--output-file", "-", "--allow-empty-output", stdin="")
    assert done.returncode == 0, done.stderr
    [(_, _, _, body)] = script.requests
    sent = json.loads(body)
    assert (sent["output"], sent["allow_empty_output"]) == ("", True)


# --- the CLI's words -----------------------------------------------------------------------


def test_an_ambiguous_suite_slug_names_the_project_flag(term: Terminal, gate: Gate) -> None:
    done = term.run(
        "run", "tone-check", "--output", "x", "--api-key", gate.key, "--api-url", gate.url
    )
    assert done.returncode == 2
    line = _one_error_line(done.stderr)
    assert line.startswith("Error: Suite 'tone-check' exists in several projects (")
    assert "support" in line and "other" in line
    assert line.endswith("say which with --project SLUG (VALIDATION_ERROR)")


def test_no_key_names_the_flag(term: Terminal) -> None:
    done = term.run("run", "refund-replies", "--output", "x")
    assert done.returncode == 2
    line = _one_error_line(done.stderr)
    assert "pass --api-key, set LAUNCHGATE_API_KEY" in line and "api_key=" not in line
