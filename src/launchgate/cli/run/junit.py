"""``launchgate run --junit PATH``: the run as a JUnit XML report, one ``testcase`` per eval
case, so any CI lists the failing cases natively.

A failed case is a ``failure``, a case that could not be scored an ``error``; a skipped
run (API unreachable) is one ``skipped`` testcase, since there were no cases to list. A
case the judge could not decide is a ``failure`` too — JUnit has no third outcome, and an
undecided case must not read as a pass — but of ``type="inconclusive"``, with a message
that says so and gives its mean, interval and threshold.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING
from xml.etree import ElementTree as ET

from launchgate.cli.run.report import number, one_line, undecided_text

if TYPE_CHECKING:  # types only: the CLI starts without loading httpx
    from launchgate.sdk import RunResult

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


def _clean(text: str) -> str:
    return _NOT_XML.sub("\ufffd", text)
