"""``launchgate run --junit PATH``: the run as a JUnit XML report, one ``testcase`` per eval
case, so any CI lists the failing cases natively.

A failed case is a ``failure``, a case that could not be scored an ``error``; a skipped
run (API unreachable) is one ``skipped`` testcase, since there were no cases to list. A
case the judge could not decide is a ``failure`` too — JUnit has no third outcome, and an
undecided case must not read as a pass — but of ``type="inconclusive"``, with a message
that says so and gives its mean, interval and threshold. A run with a judged case (and a
batch) carries its judge cost as a ``cost_usd`` property (issue 16).
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING
from xml.etree import ElementTree as ET

from launchgate.cli.run.report import cost_text, number, one_line, percent, undecided_text

if TYPE_CHECKING:  # types only: the CLI starts without loading httpx
    from launchgate.sdk import BatchCase, BatchResult, CaseComparison, RunResult

# XML 1.0 refuses most control characters, which a model's output may well contain.
_NOT_XML = re.compile("[^\u0009\u000a\u000d\u0020-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def junit_xml(result: RunResult, suite: str) -> bytes:
    """The report as UTF-8 bytes with an XML declaration."""
    failures = sum(1 for case in result.scores if case.status in ("failed", "inconclusive"))
    errors = sum(1 for case in result.scores if case.status == "error")
    tests = len(result.scores) or (1 if result.skipped else 0)
    seconds = f"{(result.duration_ms or 0) / 1000:.6f}"
    counts = {
        "tests": str(tests),
        "failures": str(failures),
        "errors": str(errors),
        "skipped": "1" if result.skipped else "0",
        "time": seconds,
    }
    root = ET.Element("testsuites", {"name": "LaunchGate", **counts})
    attrs = {"name": _clean(suite), **counts}
    if result.created_at:
        attrs["timestamp"] = result.created_at
    testsuite = ET.SubElement(root, "testsuite", attrs)
    properties = ET.SubElement(testsuite, "properties")
    for name, value in (
        ("run_id", result.id or ""),
        ("status", result.status),
        ("pass_rate", "" if result.pass_rate is None else str(result.pass_rate)),
        ("inconclusive_cases", str(result.inconclusive_cases)),
        *_cost(result),
    ):
        ET.SubElement(properties, "property", {"name": name, "value": value})
    classname = _clean(f"launchgate.{suite}")
    for case in result.scores:
        testcase = ET.SubElement(
            testsuite,
            "testcase",
            {
                "name": _clean(case.case),
                "classname": classname,
                "time": f"{case.duration_ms / 1000:.6f}",
            },
        )
        reason = _clean(one_line(case.reason))
        if case.status == "failed":
            element = ET.SubElement(testcase, "failure", {"message": reason, "type": "failed"})
            element.text = (
                f"score {number(case.score)} below threshold {number(case.threshold)}: {reason}"
            )
        elif case.status == "inconclusive":
            message = _clean(f"inconclusive: the judge could not decide ({undecided_text(case)})")
            element = ET.SubElement(
                testcase, "failure", {"message": message, "type": "inconclusive"}
            )
            element.text = f"{message}: {reason}" if reason else message
        elif case.status == "error":
            element = ET.SubElement(testcase, "error", {"message": reason, "type": "error"})
            element.text = reason
    if result.skipped:
        testcase = ET.SubElement(
            testsuite, "testcase", {"name": "LaunchGate eval", "classname": classname, "time": "0"}
        )
        ET.SubElement(testcase, "skipped", {"message": _clean(result.message or "skipped")})
    if result.verdict_detail is not None:  # the verdict before on_inconclusive mapped it
        detail = result.verdict_detail
        for name, value in (
            ("raw_status", detail.status),
            ("on_inconclusive", detail.on_inconclusive),
            ("pass_rate_high", str(detail.pass_rate_high)),
        ):
            ET.SubElement(properties, "property", {"name": name, "value": value})
    ET.indent(root)
    return ET.tostring(root, encoding="utf-8", xml_declaration=True) + b"\n"


def _cost(result: RunResult) -> list[tuple[str, str]]:
    """``cost_usd`` for a run with a judged case (issue 16): the exact figure, empty when a
    judged model has no price, then ``unpriced_models``; nothing for other runs, as the
    terminal report prints no Cost line for them."""
    if cost_text(result) is None:
        return []
    if result.cost_usd is not None:
        return [("cost_usd", repr(result.cost_usd))]
    return [("cost_usd", ""), ("unpriced_models", ", ".join(result.unpriced_models))]


def batch_junit_xml(batch: BatchResult, suite: str) -> bytes:
    """A batch as one ``testcase`` per suite case. A case fails when it regressed against
    the baseline, or when its pass rate across the items is below the batch's
    ``min_cleared`` — the bar each item's run had to clear as a whole, applied to each
    case; the message gives the figures. A case no item could score is an ``error``."""
    verdicts = [_case_verdict(batch, case) for case in batch.cases or ()]
    failures = sum(1 for kind, _ in verdicts if kind == "failure")
    errors = sum(1 for kind, _ in verdicts if kind == "error")
    counts = {
        "tests": str(len(verdicts) or (1 if batch.skipped else 0)),
        "failures": str(failures),
        "errors": str(errors),
        "skipped": "1" if batch.skipped else "0",
        "time": "0",
    }
    root = ET.Element("testsuites", {"name": "LaunchGate", **counts})
    attrs = {"name": _clean(suite), **counts}
    if batch.created_at:
        attrs["timestamp"] = batch.created_at
    testsuite = ET.SubElement(root, "testsuite", attrs)
    properties = ET.SubElement(testsuite, "properties")
    for name, value in (
        ("batch_id", batch.id or ""),
        ("status", batch.status),
        ("pass_rate", "" if batch.pass_rate is None else str(batch.pass_rate)),
        ("min_cleared", "" if batch.min_cleared is None else str(batch.min_cleared)),
        ("items", str(batch.items.total)),
        ("baseline_id", batch.baseline_id or ""),
        *(
            [("cost_usd", "" if batch.cost_usd is None else repr(batch.cost_usd))]
            if "cost_usd" in batch.raw
            else []
        ),
    ):
        ET.SubElement(properties, "property", {"name": name, "value": value})
    classname = _clean(f"launchgate.{suite}")
    for case, (kind, message) in zip(batch.cases or (), verdicts, strict=True):
        testcase = ET.SubElement(
            testsuite, "testcase", {"name": _clean(case.case), "classname": classname, "time": "0"}
        )
        if kind:
            kind_type = "error" if kind == "error" else message.split(":", 1)[0]
            element = ET.SubElement(
                testcase, kind, {"message": _clean(message), "type": _clean(kind_type)}
            )
            element.text = _clean(message)
    if batch.skipped:
        testcase = ET.SubElement(
            testsuite, "testcase", {"name": "LaunchGate eval", "classname": classname, "time": "0"}
        )
        ET.SubElement(testcase, "skipped", {"message": _clean(batch.message or "skipped")})
    ET.indent(root)
    return ET.tostring(root, encoding="utf-8", xml_declaration=True) + b"\n"


def _case_verdict(batch: BatchResult, case: BatchCase) -> tuple[str, str]:
    """``("", "")`` for a pass, else the element (``failure`` or ``error``) and its
    message, which starts with the failure's type (``regressed``, ``below_threshold``)."""
    from launchgate.cli.run.batch_report import delta_text, p_text, side_text

    rate = f"{percent(case.pass_rate)} ({case.passed}/{case.items})"
    if case.pass_rate is None:
        return "error", f"no item could score this case ({case.errors} error(s))"
    problems = []
    versus: CaseComparison | None = None
    if batch.comparison is not None:
        versus = batch.comparison.case(case.case_id)
    if versus is not None and versus.regressed:
        problems.append(
            f"regressed: {side_text(versus.baseline)} in baseline {batch.baseline_id} → {rate}, "
            f"{delta_text(versus.difference)}, p {p_text(versus.p_value)}"
        )
    if batch.min_cleared is not None and case.pass_rate < batch.min_cleared:
        problems.append(
            f"below_threshold: {rate} of the items passed, below the batch's min_cleared "
            f"{percent(batch.min_cleared)}"
        )
    return ("failure", "; ".join(problems)) if problems else ("", "")


def _clean(text: str) -> str:
    return _NOT_XML.sub("\ufffd", text)
