"""``launchgate run`` against a real server (SPEC §11): the report line by line, the exit
codes, ``--json``, ``--junit``, ``--async``, the unreachable API, the server's refusals,
bad usage, where the key comes from, and colour only on a terminal. Last, inconclusive runs
(issue 13), judged by the fake provider's seeded noisy judge: exit 3, the undecided cases
with their mean and interval, ``on_inconclusive``'s verdicts, ``--json`` and ``--junit``."""

from __future__ import annotations

import json
import re
import time
from pathlib import Path
from typing import Any
from xml.etree import ElementTree as ET

import pytest

from launchgate.sdk.money import usd
from tests.clients.cli import Terminal, make_terminal
from tests.clients.live import ABORTED_OUTPUT, CLEARED_OUTPUT, FIXED_OUTPUT, Gate
from tests.clients.noisy import DECIDED_OUTPUT, UNDECIDED_OUTPUT, Noisy
from tests.sdk.scripted_server import (
    Slow,
    closed_port,
    error_answer,
    run_answer,
    scripted_server,
)

ANSI = re.compile(r"\x1b\[")
FAST = {"LAUNCHGATE_RETRY_BACKOFF": "0.001"}


@pytest.fixture
def term(tmp_path: Path) -> Terminal:
    return make_terminal(tmp_path)


def _run(term: Terminal, gate: Gate, *args: str, **settings: str) -> tuple[int, list[str], str]:
    done = term.run("run", *args, "--api-key", gate.key, "--api-url", gate.url, **settings)
    return done.returncode, done.stdout.splitlines(), done.stderr


def _run_id(lines: list[str]) -> str:
    [line] = [line for line in lines if line.startswith("Run ID: ")]
    return line.removeprefix("Run ID: ")


def test_a_fixed_run_prints_exactly_the_spec_lines(term: Terminal, gate: Gate) -> None:
    code, lines, stderr = _run(term, gate, "support-answers", "--output", FIXED_OUTPUT)
    assert code == 1, stderr
    stored = gate.stored_run(_run_id(lines))
    reasons = {score["case"]: score["reason"] for score in stored["scores"]}
    duration = stored["duration_ms"]
    assert re.fullmatch(r"Duration: \d+(\.\d)?ms", lines[2])
    assert float(lines[2].removeprefix("Duration: ").removesuffix("ms")) == pytest.approx(
        duration, abs=0.5
    )
    assert lines == [
        "✗ Launch aborted",
        "Pass rate: 40% (2/5)",
        lines[2],
        f"Run ID: {stored['id']}",
        "✓ Offers a refund 1.0 / 1.0",
        "✓ Apologises 1.0 / 1.0",
        f"✗ Names the order 0.0 / 1.0 — {reasons['Names the order']}",
        f"✗ Gives a timeline 0.0 / 1.0 — {reasons['Gives a timeline']}",
        "✗ Keeps addresses private 0.0 / 1.0 — Pattern matched but should not have: "
        '"billing@example.com"',
    ]
    assert stored["trigger"] == "cli" and stored["output"] == FIXED_OUTPUT
    assert not ANSI.search("\n".join(lines) + stderr)  # not a terminal: no colour


def test_cleared_exits_0(term: Terminal, gate: Gate) -> None:
    code, lines, _ = _run(term, gate, "refund-replies", "--output", CLEARED_OUTPUT)
    assert code == 0
    assert lines[:2] == ["✓ Cleared for launch", "Pass rate: 100% (2/2)"]
    assert lines[4:] == ["✓ Offers a refund 1.0 / 1.0", "✓ Keeps addresses private 1.0 / 1.0"]


def test_an_error_run_exits_2(term: Terminal, gate: Gate) -> None:
    code, lines, _ = _run(term, gate, "judged", "--output", CLEARED_OUTPUT)
    assert code == 2
    assert lines[0] == "⚠ Run ended in error" and lines[1] == "Pass rate: 50% (1/2)"
    assert "⚠ Kind tone 0.0 / 1.0 — No active BYOK key for provider openai" in lines


def test_async_queues_the_run_and_exits_0(term: Terminal, gate: Gate) -> None:
    code, lines, _ = _run(term, gate, "refund-replies", "--output", ABORTED_OUTPUT, "--async")
    assert code == 0
    assert lines[0] == "… Run queued (async)"
    run_id = _run_id(lines)
    deadline = time.monotonic() + 30
    while (stored := gate.stored_run(run_id))["status"] in ("pending", "running"):
        assert time.monotonic() < deadline
        time.sleep(0.05)
    assert (stored["status"], stored["trigger"]) == ("aborted", "cli")


def test_json_prints_the_run(term: Terminal, gate: Gate) -> None:
    code, lines, _ = _run(term, gate, "refund-replies", "--output", ABORTED_OUTPUT, "--json")
    assert code == 1
    run = json.loads("\n".join(lines))
    assert (run["status"], run["passed"], run["pass_rate"]) == ("aborted", False, 0.5)
    assert run["id"] == gate.stored_run(run["id"])["id"]
    assert [s["case"] for s in run["failures"]] == ["Keeps addresses private"]
    code, lines, _ = _run(term, gate, "refund-replies", "--output", "x", "--json", "--async")
    assert code == 0 and json.loads(lines[0])["status"] == "pending"


def test_junit_is_valid_xml_with_one_testcase_per_case(term: Terminal, gate: Gate) -> None:
    report = term.cwd / "reports" / "launchgate.xml"
    code, lines, _ = _run(
        term, gate, "support-answers", "--output", FIXED_OUTPUT, "--junit", str(report)
    )
    assert code == 1
    root = ET.parse(report).getroot()
    assert root.tag == "testsuites"
    [suite] = root.findall("testsuite")
    assert suite.get("name") == "support-answers"
    assert (suite.get("tests"), suite.get("failures"), suite.get("errors")) == ("5", "3", "0")
    cases = suite.findall("testcase")
    assert [c.get("name") for c in cases] == [
        "Offers a refund",
        "Apologises",
        "Names the order",
        "Gives a timeline",
        "Keeps addresses private",
    ]
    failed = [c for c in cases if c.find("failure") is not None]
    assert [c.get("name") for c in failed] == [
        "Names the order",
        "Gives a timeline",
        "Keeps addresses private",
    ]
    failure = failed[2].find("failure")
    assert failure is not None and "billing@example.com" in (failure.get("message") or "")
    properties = {p.get("name"): p.get("value") for p in suite.iter("property")}
    assert properties["run_id"] == _run_id(lines) and properties["status"] == "aborted"

    code, _, _ = _run(term, gate, "judged", "--output", CLEARED_OUTPUT, "--junit", str(report))
    suite = ET.parse(report).getroot()[0]
    assert code == 2 and (suite.get("tests"), suite.get("errors")) == ("2", "1")


def test_an_unreachable_api_is_tried_4_times_then_skipped_with_exit_0(term: Terminal) -> None:
    with scripted_server(error_answer(503, "UNAVAILABLE", "maintenance")) as (url, script):
        done = term.run(
            "run",
            "refund-replies",
            "--output",
            "x",
            "--api-key",
            "lg_test_k",
            "--api-url",
            url,
            "--junit",
            "report.xml",
            **FAST,
        )
    assert len(script.requests) == 4
    assert done.returncode == 0
    assert done.stdout.splitlines() == ["⚠ Eval skipped (API unreachable)"]
    assert "failed 4 times" in done.stderr and "503" in done.stderr
    suite = ET.parse(term.cwd / "report.xml").getroot()[0]
    assert (suite.get("tests"), suite.get("skipped"), suite.get("failures")) == ("1", "1", "0")

    done = term.run(
        "run",
        "refund-replies",
        "--output",
        "x",
        "--api-key",
        "lg_test_k",
        "--api-url",
        closed_port(),
        "--json",
        **FAST,
    )
    assert done.returncode == 0
    skipped = json.loads(done.stdout)
    assert (skipped["status"], skipped["passed"], skipped["id"]) == ("skipped", True, None)
    assert "ConnectError" in skipped["message"]


@pytest.mark.parametrize(
    ("case", "message"),
    [
        ("bad_key", "Error: Invalid API key (UNAUTHORIZED)"),
        (
            "paid_out",
            "Error: Monthly run limit of 500 reached on the Free plan (USAGE_LIMIT_EXCEEDED)",
        ),
        ("no_cases", "has no active cases"),
        ("unknown_suite", "Error: Suite 'no-such-suite' not found (NOT_FOUND)"),
    ],
)
def test_refusals_exit_2_with_the_servers_message_without_retrying(
    term: Terminal, gate: Gate, request: pytest.FixtureRequest, case: str, message: str
) -> None:
    key = gate.key
    if case == "bad_key":
        key = "lg_live_" + "y" * 32
    elif case == "paid_out":
        key = request.getfixturevalue("broke_key")
    suite = {"unknown_suite": "no-such-suite", "no_cases": _empty_suite(gate)}.get(
        case, "refund-replies"
    )
    started = time.monotonic()
    done = term.run(
        "run",
        suite,
        "--output",
        "x",
        "--api-key",
        key,
        "--api-url",
        gate.url,
        LAUNCHGATE_RETRY_BACKOFF="10",
    )
    assert time.monotonic() - started < 9  # a single retry would have slept 10 s
    assert done.returncode == 2 and done.stdout == ""
    assert message in done.stderr and len(done.stderr.strip().splitlines()) == 1


def _empty_suite(gate: Gate) -> str:
    with gate.api() as client:
        if client.get("/v1/projects/support/suites/empty").status_code == 404:
            client.post(
                "/v1/projects/support/suites", json={"name": "Empty", "slug": "empty"}
            ).raise_for_status()
    return "empty"


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        ([], "--output TEXT or --output-file PATH"),
        (["--output", "x", "--output-file", "out.txt"], "not both"),
        (["--output-file", "missing.txt"], "does not exist: missing.txt"),
        (["--output", "x", "--input", "{oops"], "not valid JSON"),
        (["--output", "x", "--input", "[1, 2]"], "must be a JSON object"),
        (["--output", "x", "--async", "--junit", "r.xml"], "cannot be combined with --async"),
    ],
)
def test_bad_usage_exits_2_with_one_line(
    term: Terminal, gate: Gate, args: list[str], needle: str
) -> None:
    code, lines, stderr = _run(term, gate, "refund-replies", *args)
    assert code == 2 and lines == []
    assert needle in stderr and "Traceback" not in stderr


@pytest.mark.parametrize("backoff", ["nan", "inf", "-1", "soon"])
def test_a_bad_retry_backoff_exits_2_before_any_request(term: Terminal, backoff: str) -> None:
    done = term.run(
        "run",
        "refund-replies",
        "--output",
        "x",
        "--api-key",
        "lg_live_" + "x" * 32,
        "--api-url",
        "http://127.0.0.1:9",
        LAUNCHGATE_RETRY_BACKOFF=backoff,
    )
    assert done.returncode == 2 and done.stdout == ""
    assert "LAUNCHGATE_RETRY_BACKOFF must be" in done.stderr and "Traceback" not in done.stderr


def test_no_key_anywhere_exits_2_saying_where_to_put_one(term: Terminal) -> None:
    done = term.run("run", "refund-replies", "--output", "x")
    assert done.returncode == 2
    assert "LAUNCHGATE_API_KEY" in done.stderr and ".launchgaterc" in done.stderr


def test_output_and_input_from_files_and_stdin(term: Terminal, gate: Gate) -> None:
    (term.cwd / "answer.txt").write_text(CLEARED_OUTPUT)
    (term.cwd / "input.json").write_text('{"customer": "Ann", "order": 7}')
    code, lines, _ = _run(
        term, gate, "refund-replies", "--output-file", "answer.txt", "--input-file", "input.json"
    )
    assert code == 0
    stored = gate.stored_run(_run_id(lines))
    assert stored["output"] == CLEARED_OUTPUT and stored["input"] == {"customer": "Ann", "order": 7}
    done = term.run(
        "run",
        "refund-replies",
        "--output-file",
        "-",
        "--input",
        '{"a": 1}',
        "--api-key",
        gate.key,
        "--api-url",
        gate.url,
        stdin=ABORTED_OUTPUT,
    )
    assert done.returncode == 1
    assert gate.stored_run(_run_id(done.stdout.splitlines()))["output"] == ABORTED_OUTPUT
    # An output of nothing is scored only when asked for (issue 12): it is a broken pipeline.
    code, lines, _ = _run(term, gate, "refund-replies", "--output", "", "--allow-empty-output")
    assert code == 1 and gate.stored_run(_run_id(lines))["output"] == ""


def test_the_key_comes_from_the_first_of_the_four_sources(term: Terminal, gate: Gate) -> None:
    """All four sources present; only the one that should win holds the valid key."""
    bad = "lg_live_" + "z" * 32

    def rc(directory: Path, key: str) -> None:
        (directory / ".launchgaterc").write_text(json.dumps({"apiKey": key, "baseUrl": gate.url}))

    def run(*args: str, env_key: str) -> int:
        done = term.run(
            "run",
            "refund-replies",
            "--output",
            CLEARED_OUTPUT,
            *args,
            LAUNCHGATE_API_KEY=env_key,
            LAUNCHGATE_API_URL=gate.url,
        )
        assert done.returncode in (0, 2), done.stderr
        return done.returncode

    rc(term.cwd, bad)
    rc(term.home, bad)
    assert run("--api-key", gate.key, env_key=bad) == 0
    assert run("--api-key", bad, env_key=gate.key) == 2
    assert run(env_key=gate.key) == 0
    rc(term.cwd, gate.key)
    assert run(env_key="") == 0
    rc(term.cwd, bad)
    assert run(env_key="") == 2
    (term.cwd / ".launchgaterc").unlink()
    rc(term.home, gate.key)
    assert run(env_key="") == 0


def test_colour_only_on_a_terminal(term: Terminal, gate: Gate) -> None:
    code, screen = term.run_in_a_terminal(
        "run",
        "refund-replies",
        "--output",
        CLEARED_OUTPUT,
        "--api-key",
        gate.key,
        "--api-url",
        gate.url,
    )
    assert code == 0
    assert "\x1b[1;32m✓ Cleared for launch\x1b[0m" in screen
    assert "\x1b[32m✓\x1b[0m Offers a refund 1.0 / 1.0" in screen
    assert "\x1b[?25l" not in screen  # a quick verdict: no spinner flickers
    code, lines, stderr = _run(term, gate, "refund-replies", "--output", CLEARED_OUTPUT)
    assert code == 0 and not ANSI.search("\n".join(lines) + stderr)


def test_a_spinner_while_a_long_run_is_scored_on_a_terminal(term: Terminal) -> None:
    slow = Slow(1.5, (200, {}, run_answer("cleared")))
    with scripted_server(slow) as (url, _):
        code, screen = term.run_in_a_terminal(
            "run", "refund-replies", "--output", "x", "--api-key", "lg_test_k", "--api-url", url
        )
        assert code == 0
        assert "\x1b[?25l" in screen  # the spinner's live display hides the cursor…
        assert "Scoring the output against 'refund-replies'" in screen
        assert screen.index("\x1b[?25h") < screen.index("Cleared for launch")  # …until done
        done = term.run(
            "run", "refund-replies", "--output", "x", "--api-key", "lg_test_k", "--api-url", url
        )
    assert done.returncode == 0 and done.stderr == "" and not ANSI.search(done.stdout)


# --- inconclusive runs (issue 13) -------------------------------------------------------


def _noisy_run(term: Terminal, noisy: Noisy, *args: str) -> tuple[int, list[str], str]:
    done = term.run("run", *args, "--api-key", noisy.key, "--api-url", noisy.url)
    return done.returncode, done.stdout.splitlines(), done.stderr


def _bounds(case: dict[str, Any]) -> tuple[str, str, str]:
    """A stored case's mean and interval as the report prints them (two decimals)."""
    sampling = case["sampling"]
    low, high = sampling["interval"]
    return f"{sampling['mean']:.2f}", f"{low:.2f}", f"{high:.2f}"


def test_an_inconclusive_run_lists_the_undecided_cases_and_exits_3(
    term: Terminal, noisy: Noisy
) -> None:
    code, lines, stderr = _noisy_run(term, noisy, "undecided", "--output", UNDECIDED_OUTPUT)
    assert code == 3, stderr
    stored = noisy.stored_run(_run_id(lines))
    assert stored["status"] == "inconclusive" and stored["trigger"] == "cli"
    judged = stored["scores"][0]
    assert judged["status"] == "inconclusive" and len(judged["sampling"]["samples"]) == 10
    assert noisy.judge_calls() == 10
    low, high = judged["sampling"]["interval"]
    assert low < 0.7 <= high  # genuinely undecided: the threshold is inside the interval
    mean, lo, hi = _bounds(judged)
    assert lines == [
        "◐ Inconclusive — the judge could not decide 1 case(s)",
        f"  Kind tone: mean {mean}, 95% interval [{lo}, {hi}], threshold 0.70, 10 judgements",
        "Pass rate: 50% (1/2), 100% with the undecided case(s) passed",
        lines[3],
        f"Cost: {usd(stored['cost_usd'])}",
        f"Run ID: {stored['id']}",
        f"◐ Kind tone {judged['score']} / 0.7 (10 judgements, 95% interval [{lo}, {hi}]) "
        f"— {judged['reason']}",
        "✓ Offers a refund 1.0 / 1.0",
    ]
    assert re.fullmatch(r"Duration: \d+(\.\d)?ms", lines[3])


def test_a_decided_sampled_case_shows_its_interval_in_the_case_line(
    term: Terminal, noisy: Noisy
) -> None:
    code, lines, _ = _noisy_run(term, noisy, "undecided", "--output", DECIDED_OUTPUT)
    assert code == 0 and noisy.judge_calls() == 3  # decided after min_samples
    assert lines[:2] == ["✓ Cleared for launch", "Pass rate: 100% (2/2)"]
    assert lines[5:] == [
        "✓ Kind tone 0.9 / 0.7 (3 judgements, 95% interval [0.90, 0.90])",
        "✓ Offers a refund 1.0 / 1.0",
    ]


@pytest.mark.parametrize(
    ("suite", "code", "verdict", "note"),
    [
        (
            "undecided-abort",
            1,
            "✗ Launch aborted",
            "the run was inconclusive, aborted by the suite's on_inconclusive: abort",
        ),
        (
            "undecided-clear",
            0,
            "✓ Cleared for launch",
            "the run was inconclusive, cleared by the suite's on_inconclusive: clear",
        ),
        ("undecided-lenient", 0, "✓ Cleared for launch", "the verdict is cleared either way"),
    ],
)
def test_a_verdict_made_despite_undecided_cases_says_how(
    term: Terminal, noisy: Noisy, suite: str, code: int, verdict: str, note: str
) -> None:
    got, lines, _ = _noisy_run(term, noisy, suite, "--output", UNDECIDED_OUTPUT)
    assert got == code
    judged = noisy.stored_run(_run_id(lines))["scores"][0]
    mean, lo, hi = _bounds(judged)
    assert lines[:4] == [
        verdict,
        f"◐ The judge could not decide 1 case(s){':' if 'on_inc' in note else ';'} {note}",
        f"  Kind tone: mean {mean}, 95% interval [{lo}, {hi}], threshold 0.70, 10 judgements",
        "Pass rate: 50% (1/2), 100% with the undecided case(s) passed",
    ]


def test_json_carries_the_sampling_and_the_verdict_detail(term: Terminal, noisy: Noisy) -> None:
    code, lines, _ = _noisy_run(term, noisy, "undecided", "--output", UNDECIDED_OUTPUT, "--json")
    assert code == 3
    run = json.loads("\n".join(lines))
    stored = noisy.stored_run(run["id"])
    assert (run["status"], run["passed"], run["inconclusive_cases"]) == ("inconclusive", False, 1)
    assert (
        run["verdict_detail"]
        == stored["verdict_detail"]
        == {
            "status": "inconclusive",
            "on_inconclusive": "inconclusive",
            "pass_rate_low": 0.5,
            "pass_rate_high": 1.0,
            "inconclusive_cases": 1,
        }
    )
    judged = run["scores"][0]
    assert judged["status"] == "inconclusive" and judged["passed"] is False
    assert judged["sampling"] == stored["scores"][0]["sampling"]
    assert [case["case"] for case in run["failures"]] == ["Kind tone"]
    assert run["scores"][1]["sampling"] is None  # a contains case is not sampled


def test_junit_marks_an_undecided_case_as_an_inconclusive_failure(
    term: Terminal, noisy: Noisy
) -> None:
    report = term.cwd / "launchgate.xml"
    code, lines, _ = _noisy_run(
        term, noisy, "undecided", "--output", UNDECIDED_OUTPUT, "--junit", str(report)
    )
    assert code == 3
    judged = noisy.stored_run(_run_id(lines))["scores"][0]
    mean, lo, hi = _bounds(judged)
    [suite] = ET.parse(report).getroot().findall("testsuite")
    assert (suite.get("tests"), suite.get("failures"), suite.get("errors")) == ("2", "1", "0")
    undecided, passed = suite.findall("testcase")
    assert passed.find("failure") is None
    failure = undecided.find("failure")
    assert failure is not None and failure.get("type") == "inconclusive"
    message = (
        f"inconclusive: the judge could not decide (mean {mean}, 95% interval [{lo}, {hi}], "
        "threshold 0.70, 10 judgements)"
    )
    assert failure.get("message") == message
    assert failure.text == f"{message}: {judged['reason']}"
    properties = {p.get("name"): p.get("value") for p in suite.iter("property")}
    assert properties["status"] == "inconclusive" and properties["inconclusive_cases"] == "1"
    assert (properties["raw_status"], properties["pass_rate_high"]) == ("inconclusive", "1.0")

    # An ordinary failure stays type="failed": the two can be told apart.
    code, _, _ = _noisy_run(
        term, noisy, "undecided", "--output", "FAKE_SCORE=0.2", "--junit", str(report)
    )
    assert code == 1
    failures = ET.parse(report).getroot().iter("failure")
    assert [f.get("type") for f in failures] == ["failed", "failed"]
