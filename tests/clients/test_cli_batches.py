"""``launchgate run SUITE --outputs-file FILE.jsonl`` against a real server (issue 14): a
regression against the ``auto`` baseline in the per-case table, ``--branch`` stored as
``trigger_meta.branch``, exit codes 0/1/2/3, ``--json``, ``--junit`` (a case fails on a
regression or below ``min_cleared``), a JSONL line that is not JSON (exit 2 naming the
line, nothing stored), the progress bar on a terminal, and a skip when the API is down."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any
from xml.etree import ElementTree as ET

import pytest

from tests.clients.batches import BASE, WORSE, keyed, new_suite, store_main_batch, write_jsonl
from tests.clients.cli import Terminal, make_terminal
from tests.clients.live import CLEARED_OUTPUT, Gate
from tests.clients.noisy import UNDECIDED_OUTPUT, Noisy
from tests.sdk.scripted_server import closed_port

FAST = {"LAUNCHGATE_RETRY_BACKOFF": "0.001"}


@pytest.fixture
def term(tmp_path: Path) -> Terminal:
    return make_terminal(tmp_path)


def _run(term: Terminal, gate: Gate, *args: str) -> tuple[int, list[str], str]:
    done = term.run("run", *args, "--api-key", gate.key, "--api-url", gate.url, **FAST)
    return done.returncode, done.stdout.splitlines(), done.stderr


def _batch_id(lines: list[str]) -> str:
    [line] = [line for line in lines if line.startswith("Batch ID: ")]
    return line.removeprefix("Batch ID: ")


def _stored(gate: Gate, batch_id: str) -> dict[str, Any]:
    with gate.api() as client:
        response = client.get(f"/v1/batches/{batch_id}")
    response.raise_for_status()
    data: dict[str, Any] = response.json()["data"]
    return data


def _batches_of(gate: Gate, suite: dict[str, Any]) -> list[dict[str, Any]]:
    with gate.api() as client:
        found: list[dict[str, Any]] = client.get(f"/v1/suites/{suite['id']}/batches").json()["data"]
    return found


def test_a_regression_against_the_auto_baseline_is_marked_in_the_table(
    term: Terminal, gate: Gate
) -> None:
    suite = new_suite(gate)
    base = store_main_batch(gate, suite["slug"])
    outputs = write_jsonl(term.cwd / "outputs.jsonl", keyed(WORSE))
    code, lines, stderr = _run(
        term,
        gate,
        suite["slug"],
        "--outputs-file",
        str(outputs),
        "--baseline",
        "auto",
        "--branch",
        "feature/x",
    )
    assert code == 1, stderr  # 60% of the items cleared, the suite needs 100%
    stored = _stored(gate, _batch_id(lines))
    assert stored["trigger"] == "cli" and stored["trigger_meta"] == {"branch": "feature/x"}
    assert stored["baseline_id"] == base["id"]
    alpha, beta = stored["comparison"]["cases"]
    assert lines[:4] == [
        "✗ Launch aborted",
        "Items cleared: 60% (30/50), needs 100%",
        f"Baseline: {base['id']} (auto) — 1 case(s) regressed, 0 improved "
        "(false-discovery rate 0.05)",
        f"Batch ID: {stored['id']}",
    ]
    table = [re.split(r"\s{2,}", line.strip()) for line in lines[4:]]
    assert table[0] == ["Case", "Pass rate", "95% interval", "Baseline", "Delta", "p-value"]
    lo, hi = (f"{bound * 100:.1f}%" for bound in stored["cases"][0]["interval"])
    assert table[1] == [
        "▼",
        "Says alpha",
        "60% (30/50)",
        f"[{lo}, {hi}]",
        "96% (48/50)",
        "-36.0 pp",
        "<0.001",
    ]
    assert alpha["p_value"] < 0.001
    assert table[2][0] == "Says beta" and table[2][3:] == [
        "96% (48/50)",
        "-4.0 pp",
        f"{beta['p_value']:.3f}",
    ]
    assert lines[5].startswith("▼  Says alpha") and lines[6].startswith("   Says beta")


def test_exit_codes_cleared_aborted_by_regression_and_error(term: Terminal, gate: Gate) -> None:
    lenient = new_suite(gate, batch_threshold=0.5)
    store_main_batch(gate, lenient["slug"])
    outputs = write_jsonl(term.cwd / "outputs.jsonl", keyed(WORSE))
    args = ("--outputs-file", str(outputs), "--baseline", "auto")
    code, lines, _ = _run(term, gate, lenient["slug"], *args)
    assert code == 0 and lines[0] == "✓ Cleared for launch"
    assert lines[1] == "Items cleared: 60% (30/50), needs 50%"
    strict = new_suite(gate, batch_threshold=0.5, fail_on_regression=True)
    store_main_batch(gate, strict["slug"])
    code, lines, _ = _run(term, gate, strict["slug"], *args)
    assert code == 1
    assert lines[0] == "✗ Launch aborted — 1 case(s) regressed against the baseline"
    judged = write_jsonl(term.cwd / "judged.jsonl", [{"output": CLEARED_OUTPUT, "key": "a"}])
    code, lines, _ = _run(term, gate, "judged", "--outputs-file", str(judged))
    assert code == 2 and lines[0] == "⚠ Batch ended in error"


def test_an_inconclusive_batch_exits_3(term: Terminal, noisy: Noisy) -> None:
    outputs = write_jsonl(term.cwd / "outputs.jsonl", [{"output": UNDECIDED_OUTPUT}])
    done = term.run(
        "run", "undecided", "--outputs-file", str(outputs), "--api-key", noisy.key,
        "--api-url", noisy.url,
    )  # fmt: skip
    assert done.returncode == 3, done.stdout + done.stderr
    assert done.stdout.splitlines()[0] == "◐ Inconclusive — the judge could not decide 1 item(s)"


def test_without_a_baseline_the_table_has_no_baseline_columns(term: Terminal, gate: Gate) -> None:
    suite = new_suite(gate)
    outputs = write_jsonl(term.cwd / "outputs.jsonl", keyed(BASE))
    code, lines, _ = _run(term, gate, suite["slug"], "--outputs-file", str(outputs))
    assert code == 1 and lines[1] == "Items cleared: 96% (48/50), needs 100%"
    assert not any(line.startswith("Baseline:") for line in lines)
    assert re.split(r"\s{2,}", lines[3].strip()) == ["Case", "Pass rate", "95% interval"]
    code, lines, _ = _run(
        term, gate, suite["slug"], "--outputs-file", str(outputs), "--baseline", "auto"
    )
    assert lines[2] == (
        "Baseline: none found (auto: no completed batch of the suite on its baseline branch yet)"
    )


def test_json_prints_the_batch(term: Terminal, gate: Gate) -> None:
    suite = new_suite(gate)
    base = store_main_batch(gate, suite["slug"])
    outputs = write_jsonl(term.cwd / "outputs.jsonl", keyed(WORSE))
    code, lines, _ = _run(
        term, gate, suite["slug"], "--outputs-file", str(outputs), "--baseline", "auto", "--json"
    )
    assert code == 1
    batch = json.loads("\n".join(lines))
    assert (batch["status"], batch["pass_rate"], batch["baseline_id"]) == (
        "aborted",
        0.6,
        base["id"],
    )
    assert batch["items"]["total"] == 50 and batch["cases"][0]["passed"] == 30
    assert batch["comparison"]["cases"][0]["classification"] == "regressed"
    assert batch == {**batch, "id": _stored(gate, batch["id"])["id"]}
    code, lines, _ = _run(term, gate, suite["slug"], "--outputs-file", str(outputs), "--async")
    assert code == 0 and lines[0] == "… Batch queued (async)"


def test_junit_fails_a_case_on_regression_or_below_min_cleared(term: Terminal, gate: Gate) -> None:
    suite = new_suite(gate, batch_threshold=0.95)
    base = store_main_batch(gate, suite["slug"])
    # alpha regresses (48 → 30); beta drops within the noise (48 → 46) but below 95%.
    outputs = write_jsonl(term.cwd / "outputs.jsonl", keyed(WORSE))
    report = term.cwd / "reports" / "batch.xml"
    code, lines, _ = _run(
        term,
        gate,
        suite["slug"],
        "--outputs-file",
        str(outputs),
        "--baseline",
        "auto",
        "--junit",
        str(report),
    )
    assert code == 1
    [testsuite] = ET.parse(report).getroot().findall("testsuite")
    assert (testsuite.get("tests"), testsuite.get("failures")) == ("2", "2")
    alpha, beta = testsuite.findall("testcase")
    assert (alpha.get("name"), beta.get("name")) == ("Says alpha", "Says beta")
    failure = alpha.find("failure")
    assert failure is not None and failure.get("type") == "regressed"
    assert failure.get("message") == (
        f"regressed: 96% (48/50) in baseline {base['id']} → 60% (30/50), -36.0 pp, p <0.001; "
        "below_threshold: 60% (30/50) of the items passed, below the batch's min_cleared 95%"
    )
    failure = beta.find("failure")
    assert failure is not None and failure.get("type") == "below_threshold"
    assert failure.get("message") == (
        "below_threshold: 92% (46/50) of the items passed, below the batch's min_cleared 95%"
    )
    properties = {p.get("name"): p.get("value") for p in testsuite.iter("property")}
    assert properties["batch_id"] == _batch_id(lines) and properties["baseline_id"] == base["id"]
    # A lenient threshold: the regression alone fails alpha; beta passes.
    lenient = new_suite(gate, batch_threshold=0.5)
    store_main_batch(gate, lenient["slug"])
    args = ("--outputs-file", str(outputs), "--baseline", "auto", "--junit", str(report))
    code, _, _ = _run(term, gate, lenient["slug"], *args)
    [testsuite] = ET.parse(report).getroot().findall("testsuite")
    alpha, beta = testsuite.findall("testcase")
    assert code == 0 and beta.find("failure") is None
    failure = alpha.find("failure")
    assert failure is not None and "below_threshold" not in (failure.get("message") or "")


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (
            '{"output": "alpha", "key": "a"}\n\n{"output": "beta", "key": "b"}\n{"output": oops}\n',
            "Line 4 of {file} is not valid JSON: Expecting value (column 12)",
        ),
        ('{"output": "alpha"}\n["alpha"]\n', "Line 2 of {file} must be a JSON object like"),
        ('{"output": "alpha"}\n{"key": "b"}\n', 'Line 2 of {file} needs "output", a string'),
        ('{"output": " "}\n', "Line 1 of {file} has an empty output"),
        ('{"output": "a", "input": 3}\n', 'Line 1 of {file}: "input" must be a JSON object'),
        ("\n\n", "The outputs file {file} holds no items"),
    ],
)
def test_a_bad_line_exits_2_naming_it_and_nothing_is_sent(
    term: Terminal, gate: Gate, content: str, message: str
) -> None:
    suite = new_suite(gate)
    outputs = term.cwd / "outputs.jsonl"
    outputs.write_text(content)
    code, lines, stderr = _run(term, gate, suite["slug"], "--outputs-file", str(outputs))
    assert code == 2 and lines == []
    assert stderr.startswith("Error: " + message.format(file=outputs)), stderr
    assert _batches_of(gate, suite) == []


def test_usage_errors(term: Terminal, gate: Gate) -> None:
    outputs = write_jsonl(term.cwd / "o.jsonl", [{"output": "alpha"}])
    code, _, stderr = _run(term, gate, "x", "--outputs-file", str(outputs), "--output", "a")
    assert code == 2 and "--outputs-file scores a dataset" in stderr
    code, _, stderr = _run(term, gate, "x", "--output", "a", "--baseline", "auto")
    assert code == 2 and "give --outputs-file" in stderr
    code, _, stderr = _run(term, gate, "x", "--outputs-file", str(outputs), "--baseline", "main")
    assert code == 2 and "--baseline is 'auto' or a batch id" in stderr
    code, _, stderr = _run(term, gate, "x", "--outputs-file", str(term.cwd / "missing.jsonl"))
    assert code == 2 and "The outputs file does not exist" in stderr
    code, _, stderr = _run(term, gate, "no-such-suite", "--outputs-file", str(outputs))
    assert code == 2 and "NOT_FOUND" in stderr


def test_a_progress_bar_on_a_terminal(term: Terminal, gate: Gate) -> None:
    suite = new_suite(gate)
    outputs = write_jsonl(term.cwd / "outputs.jsonl", keyed(BASE, n=200))
    code, screen = term.run_in_a_terminal(
        "run", suite["slug"], "--outputs-file", str(outputs), "--api-key", gate.key,
        "--api-url", gate.url,
    )  # fmt: skip
    assert code == 1, screen
    assert f"Scoring the outputs against '{suite['slug']}'" in screen
    assert re.search(r"\d+/200(\x1b\[0m)? items", screen), screen


def test_an_unreachable_api_skips_loudly_or_fails_with_strict(term: Terminal) -> None:
    outputs = write_jsonl(term.cwd / "o.jsonl", [{"output": "alpha"}])
    url = closed_port()
    args = ("run", "s", "--outputs-file", str(outputs), "--api-key", "lg_live_x", "--api-url", url)
    done = term.run(*args, **FAST)
    assert done.returncode == 0 and done.stdout == "⚠ Eval skipped (API unreachable)\n"
    assert "connection refused" in done.stderr and "batch of suite 's' was skipped" in done.stderr
    done = term.run(*args, "--strict", **FAST)
    assert done.returncode == 2 and "fail-open is off" in done.stderr
