"""The judge's cost in the clients, on the server's JSON as issue 16 shapes it: typed on
``RunResult``, ``CaseResult`` and ``BatchResult``; one ``Cost:`` line in the terminal (a
price missing is named, a run without a judged case has none); in ``--json`` as the server
sent it; a fact and a column in the pull-request comment. The live tests against a real
server are in test_cost_live.py."""

from __future__ import annotations

import json
from typing import Any
from xml.etree import ElementTree as ET

from launchgate.cli.run import batch_report, report
from launchgate.cli.run.github_comment import batch_comment_body, comment_body
from launchgate.cli.run.junit import batch_junit_xml, junit_xml
from launchgate.sdk import BatchResult, CaseResult, RunResult
from launchgate.sdk.models import JudgeUsage

USAGE = {
    "provider": "openai",
    "model": "gpt-4o",
    "calls": 3,
    "input_tokens": 1200,
    "output_tokens": 90,
    "cached_input_tokens": 200,
    "estimated_input_tokens": 1150,
}


def judged(name: str, cost: float | None, model: str = "gpt-4o", **extra: Any) -> dict[str, Any]:
    return {
        "case": name,
        "case_id": f"id-{name}",
        "passed": True,
        "score": 1.0,
        "threshold": 0.5,
        "status": "passed",
        "reason": "fine",
        "scorer_type": "llm_judge",
        "cost_usd": cost,
        "usage": {**USAGE, "model": model},
        **extra,
    }


def plain(name: str) -> dict[str, Any]:
    return {
        "case": name,
        "case_id": f"id-{name}",
        "passed": True,
        "score": 1.0,
        "threshold": 1.0,
        "status": "passed",
        "reason": "found",
        "scorer_type": "contains",
    }


def run(scores: list[dict[str, Any]], cost: Any = 0.0, **extra: Any) -> dict[str, Any]:
    body = {
        "id": "run_0123456789abcdefghijklmn",
        "status": "cleared",
        "passed": True,
        "total_cases": len(scores),
        "passed_cases": len(scores),
        "failed_cases": 0,
        "error_cases": 0,
        "pass_rate": 1.0,
        "duration_ms": 120.0,
        "scores": scores,
        "failures": [],
        **extra,
    }
    if cost is not ...:
        body["cost_usd"] = cost
    return body


def text(result: RunResult) -> list[str]:
    return [line.plain for line in report.lines(result)]


def test_the_sdk_types_the_cost_and_the_usage() -> None:
    result = RunResult.from_json(run([judged("tone", 0.0123), plain("refund")], 0.0123))
    assert result.cost_usd == 0.0123 and result.judged and result.unpriced_models == ()
    tone, refund = result.scores
    assert isinstance(tone, CaseResult) and tone.cost_usd == 0.0123 and tone.judged
    assert tone.usage == JudgeUsage("openai", "gpt-4o", 3, 1200, 90, 200, 1150)
    assert (refund.cost_usd, refund.usage, refund.judged) == (None, None, False)


def test_a_model_without_a_price_makes_the_run_cost_unknown_and_says_which() -> None:
    result = RunResult.from_json(
        run(
            [judged("tone", None, "gpt-x"), judged("facts", 0.001), judged("t2", None, "gpt-x")],
            None,
        )
    )
    assert result.cost_usd is None and result.unpriced_models == ("openai/gpt-x",)
    assert "Cost: unknown (no price for openai/gpt-x)" in text(result)


def test_the_cost_line_sits_between_duration_and_run_id() -> None:
    lines = text(RunResult.from_json(run([judged("tone", 0.0123), plain("refund")], 0.0123)))
    assert lines[:5] == [
        "✓ Cleared for launch",
        "Pass rate: 100% (2/2)",
        "Duration: 120ms",
        "Cost: $0.0123",
        "Run ID: run_0123456789abcdefghijklmn",
    ]


def test_no_line_without_a_judged_case_or_from_an_older_server() -> None:
    deterministic = text(RunResult.from_json(run([plain("refund")], 0.0)))
    assert not any(line.startswith("Cost:") for line in deterministic)
    older = text(RunResult.from_json(run([judged("tone", None)], ...)))
    assert not any(line.startswith("Cost:") for line in older)
    cached = text(RunResult.from_json(run([judged("tone", 0.0)], 0.0)))
    assert "Cost: $0.00" in cached  # a judged run whose verdict came from the cache


def test_json_carries_the_cost_as_the_server_sent_it() -> None:
    result = RunResult.from_json(run([judged("tone", 0.0123), plain("refund")], 0.0123))
    printed = json.loads(json.dumps(result.to_dict()))
    assert printed["cost_usd"] == 0.0123
    assert printed["scores"][0]["cost_usd"] == 0.0123 and printed["scores"][0]["usage"] == USAGE
    assert printed["scores"][1]["cost_usd"] is None and printed["scores"][1]["usage"] is None


def test_the_pull_request_comment_has_the_cost_fact_and_column() -> None:
    body = comment_body(
        RunResult.from_json(run([judged("tone", 0.0123), plain("refund")], 0.0123)), "replies"
    )
    assert "- **Duration:** 120ms\n- **Cost:** $0.0123\n- **Run ID:**" in body
    assert "| Case | Score | Threshold | Status | Cost |" in body
    assert "| tone | 1.0 | 0.5 | ✅ Passed | $0.0123 |" in body
    assert "| refund | 1.0 | 1.0 | ✅ Passed |  |" in body
    unknown = comment_body(RunResult.from_json(run([judged("tone", None, "gpt-x")], None)), "r")
    assert "- **Cost:** unknown (no price for openai/gpt-x)" in unknown
    assert "| tone | 1.0 | 0.5 | ✅ Passed | unknown |" in unknown
    bare = comment_body(RunResult.from_json(run([plain("refund")], 0.0)), "replies")
    assert "Cost" not in bare


def batch(cost: Any) -> dict[str, Any]:
    body = {
        "id": "bat_0123456789abcdefghijklmn",
        "status": "cleared",
        "passed": True,
        "pass_rate": 1.0,
        "min_cleared": 0.9,
        "items": {"total": 2, "done": 2, "cleared": 2},
        "cases": [],
    }
    if cost is not ...:
        body["cost_usd"] = cost
    return body


def test_a_batch_reports_what_its_items_cost() -> None:
    spent = BatchResult.from_json(batch(0.25))
    assert spent.cost_usd == 0.25
    lines = [line.plain for line in batch_report.lines(spent)]
    assert lines[1:3] == ["Items cleared: 100% (2/2), needs 90%", "Cost: $0.2500"]
    assert "- **Items cleared:** 100% (2/2), needs 90%\n- **Cost:** $0.2500" in (
        batch_comment_body(spent, "replies")
    )
    unknown = BatchResult.from_json(batch(None))
    assert "Cost: unknown (a judged model has no price)" in [
        line.plain for line in batch_report.lines(unknown)
    ]
    for free in (batch(0.0), batch(...)):
        result = BatchResult.from_json(free)
        assert not any(line.plain.startswith("Cost") for line in batch_report.lines(result))
        assert "Cost" not in batch_comment_body(result, "replies")
    assert BatchResult.from_json(batch(0.25)).to_dict()["cost_usd"] == 0.25


def test_the_junit_report_has_the_cost_of_a_judged_run_only() -> None:
    def properties(data: dict[str, Any]) -> dict[str | None, str | None]:
        root = ET.fromstring(junit_xml(RunResult.from_json(data), "replies"))
        return {p.get("name"): p.get("value") for p in root.iter("property")}

    assert properties(run([judged("tone", 0.0123)], 0.0123))["cost_usd"] == "0.0123"
    unknown = properties(run([judged("tone", None, "gpt-x")], None))
    assert (unknown["cost_usd"], unknown["unpriced_models"]) == ("", "openai/gpt-x")
    assert "cost_usd" not in properties(run([plain("refund")], 0.0))
    batch_props = {
        p.get("name"): p.get("value")
        for p in ET.fromstring(batch_junit_xml(BatchResult.from_json(batch(0.25)), "r")).iter(
            "property"
        )
    }
    assert batch_props["cost_usd"] == "0.25"
