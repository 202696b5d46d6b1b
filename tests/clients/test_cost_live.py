"""The judge's cost in the clients against a real server judging through the fake provider
(the session's server of tests/clients): the SDK's typed ``cost_usd`` and ``usage`` equal
the stored run's; ``launchgate run`` prints ``Cost:`` between duration and run id (an
unpriced model named, none for a deterministic suite), ``--json`` as the server sent it;
a batch's ``Cost:`` line; the GitHub Action's comment with its Cost fact and column."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from xml.etree import ElementTree as ET

import httpx
import pytest

from launchgate import LaunchGate
from launchgate.sdk.models import CaseError, JudgeUsage
from launchgate.sdk.money import usd
from tests.clients.cli import Terminal, make_terminal
from tests.clients.fake_github import fake_github
from tests.clients.live import CLEARED_OUTPUT, Gate
from tests.clients.noisy import DECIDED_OUTPUT, JUDGE_CASE, PLAIN_CASE, Noisy, seed_noisy_org
from tests.clients.test_github_action import PR, REPO, Action

UNPRICED = "gpt-unpriced-model"


@pytest.fixture
def term(tmp_path: Path) -> Terminal:
    return make_terminal(tmp_path)


def money(value: float) -> str:
    """docs/cli.md's rule (tested on its own in tests/sdk/test_money.py)."""
    return usd(value)


def _ok(response: httpx.Response) -> dict[str, Any]:
    assert response.is_success, response.text
    data: dict[str, Any] = response.json()["data"]
    return data


@pytest.fixture(scope="module")
def unpriced_suite(gate: Gate, noisy_key: str) -> str:
    """Suite ``unpriced`` of the judging organisation: one judge case on a model the
    server has no price for."""
    with httpx.Client(
        base_url=gate.url, timeout=30, headers={"Authorization": f"Bearer {noisy_key}"}
    ) as client:
        scorer = _ok(
            client.post(
                "/v1/projects/noisy/scorers",
                json={
                    "name": "unpriced",
                    "type": "llm_judge",
                    "config": {"rubric": "Kind?", "_provider": "openai", "model": UNPRICED},
                },
            )
        )
        suite = _ok(
            client.post("/v1/projects/noisy/suites", json={"name": "Unpriced", "slug": "unpriced"})
        )
        _ok(
            client.post(
                f"/v1/suites/{suite['id']}/cases",
                json={"name": "Kind", "scorer_id": scorer["id"], "threshold": 0.5},
            )
        )
    return "unpriced"


def _cli(term: Terminal, url: str, key: str, *args: str) -> tuple[int, list[str], str]:
    done = term.run("run", *args, "--api-key", key, "--api-url", url)
    return done.returncode, done.stdout.splitlines(), done.stderr


def test_the_sdk_types_what_the_judge_cost(noisy: Noisy) -> None:
    with LaunchGate(noisy.key, noisy.url) as client:
        result = client.run("undecided", DECIDED_OUTPUT)
        fetched = client.get_run(str(result.id))
    stored = noisy.stored_run(str(result.id))
    judged = stored["scores"][0]
    assert stored["cost_usd"] > 0 and judged["usage"]["calls"] == 3 == noisy.judge_calls()
    for got in (result, fetched):
        assert got.cost_usd == stored["cost_usd"] and got.judged
        judge, plain = got.scores
        assert (judge.case, judge.cost_usd) == (JUDGE_CASE, judged["cost_usd"])
        assert judge.usage == JudgeUsage(**judged["usage"])
        assert (plain.case, plain.cost_usd, plain.usage, plain.judged) == (
            PLAIN_CASE,
            None,
            None,
            False,
        )


def test_launchgate_run_prints_the_cost_and_json_carries_it(term: Terminal, noisy: Noisy) -> None:
    code, lines, stderr = _cli(term, noisy.url, noisy.key, "undecided", "--output", DECIDED_OUTPUT)
    assert code == 0, stderr
    run_id = lines[4].removeprefix("Run ID: ")
    stored = noisy.stored_run(run_id)
    assert lines[3] == f"Cost: {money(stored['cost_usd'])}"
    assert lines[:2] == ["✓ Cleared for launch", "Pass rate: 100% (2/2)"]

    code, lines, _ = _cli(
        term, noisy.url, noisy.key, "undecided", "--output", DECIDED_OUTPUT, "--json"
    )
    printed = json.loads("\n".join(lines))
    stored = noisy.stored_run(printed["id"])
    assert printed["cost_usd"] == stored["cost_usd"] > 0
    assert printed["scores"][0]["usage"] == stored["scores"][0]["usage"]
    assert printed["scores"][0]["cost_usd"] == stored["scores"][0]["cost_usd"]
    assert printed["scores"][1]["usage"] is None


def test_the_junit_report_carries_the_cost(term: Terminal, noisy: Noisy) -> None:
    report = term.cwd / "launchgate.xml"
    args = ("undecided", "--output", DECIDED_OUTPUT, "--junit", str(report))
    code, _, _ = _cli(term, noisy.url, noisy.key, *args)
    assert code == 0
    properties = {p.get("name"): p.get("value") for p in ET.parse(report).iter("property")}
    stored = noisy.stored_run(properties["run_id"] or "")
    assert properties["cost_usd"] == repr(stored["cost_usd"])


def test_an_unpriced_model_is_named_and_a_deterministic_suite_has_no_line(
    term: Terminal, gate: Gate, noisy: Noisy, unpriced_suite: str
) -> None:
    code, lines, stderr = _cli(term, noisy.url, noisy.key, unpriced_suite, "--output", "Kind.")
    assert code == 0, stderr
    assert f"Cost: unknown (no price for openai/{UNPRICED})" in lines
    assert noisy.stored_run(lines[-2].removeprefix("Run ID: "))["cost_usd"] is None

    code, lines, _ = _cli(term, gate.url, gate.key, "refund-replies", "--output", CLEARED_OUTPUT)
    assert code == 0 and not any(line.startswith("Cost") for line in lines)
    assert gate.stored_run(lines[-3].removeprefix("Run ID: "))["cost_usd"] == 0.0


def test_a_batch_reports_what_its_items_cost(term: Terminal, noisy: Noisy) -> None:
    dataset = term.cwd / "outputs.jsonl"
    dataset.write_text(
        "\n".join(json.dumps({"key": k, "output": DECIDED_OUTPUT}) for k in ("a", "b")) + "\n"
    )
    code, lines, stderr = _cli(
        term, noisy.url, noisy.key, "undecided", "--outputs-file", str(dataset)
    )
    assert code == 0, stderr
    [batch_id] = [line.removeprefix("Batch ID: ") for line in lines if line.startswith("Batch ID")]
    with noisy.api() as client:
        batch = _ok(client.get(f"/v1/batches/{batch_id}"))
    assert batch["cost_usd"] > 0
    assert lines[1:3] == [
        "Items cleared: 100% (2/2), needs 100%",
        f"Cost: {money(batch['cost_usd'])}",
    ]


@pytest.fixture
def action(tmp_path: Path, gate: Gate) -> Iterator[Action]:
    with fake_github() as (url, state):
        yield Action(make_terminal(tmp_path), gate, url, state)


def test_the_pull_request_comment_shows_the_cost(action: Action, noisy: Noisy) -> None:
    code, log = action.run("undecided", DECIDED_OUTPUT, overrides={"INPUT_API_KEY": noisy.key})
    assert code == 0, log
    [comment] = action.github.on(REPO, PR)
    body = comment["body"]
    run_id = body.split("**Run ID:** `")[1].split("`")[0]
    stored = noisy.stored_run(run_id)
    judged = stored["scores"][0]
    assert f"- **Cost:** {money(stored['cost_usd'])}\n- **Run ID:**" in body
    assert "| Case | Score | Threshold | Status | Cost |" in body
    assert (
        f"| {JUDGE_CASE} | 0.9 (3 judgements, 95% interval [0.90, 0.90]) | 0.7 | ✅ Passed "
        f"| {money(judged['cost_usd'])} |" in body
    )
    assert f"| {PLAIN_CASE} | 1.0 | 1.0 | ✅ Passed |  |" in body
    assert f"Cost: {money(stored['cost_usd'])}" in log  # the job log has the CLI's lines


def test_a_spent_budget_reads_as_an_errored_judge_case(term: Terminal, gate: Gate) -> None:
    """An organisation of its own: one judged run spends more than its budget, so the next
    one's judge case ends in error with the server's JUDGE_BUDGET_EXCEEDED message."""
    key = gate.new_org("Thrifty", "pro")
    with httpx.Client(
        base_url=gate.url, timeout=30, headers={"Authorization": f"Bearer {key}"}
    ) as client:
        seed_noisy_org(gate.url, key)
        _ok(client.patch("/v1/organization", json={"judge_budget_usd_monthly": 0.000001}))
    code, lines, _ = _cli(term, gate.url, key, "undecided", "--output", DECIDED_OUTPUT)
    assert code == 0 and lines[3].startswith("Cost: $")  # spent before the budget was seen
    code, lines, _ = _cli(term, gate.url, key, "undecided", "--output", DECIDED_OUTPUT)
    assert code == 2 and lines[0] == "⚠ Run ended in error"
    with httpx.Client(
        base_url=gate.url, timeout=30, headers={"Authorization": f"Bearer {key}"}
    ) as client:
        stored = _ok(client.get(f"/v1/runs/{_run_id(lines)}"))
    judged = stored["scores"][0]
    assert judged["status"] == "error" and "JUDGE_BUDGET_EXCEEDED" in json.dumps(judged)
    assert f"⚠ {JUDGE_CASE} 0.0 / 0.7 — {' '.join(judged['reason'].split())}" in lines
    # No call was made, so the run cost nothing: a judged run, hence the line.
    assert stored["cost_usd"] == 0.0 and lines[3] == "Cost: $0.00"
    with LaunchGate(key, gate.url) as sdk:
        again = sdk.run("undecided", DECIDED_OUTPUT)
    assert again.status == "error" and again.scores[0].error == CaseError(
        "JUDGE_BUDGET_EXCEEDED", judged["reason"]
    )
    assert again.scores[1].error is None


def _run_id(lines: list[str]) -> str:
    [line] = [line for line in lines if line.startswith("Run ID: ")]
    return line.removeprefix("Run ID: ")
