"""Property-based contract tests: schemathesis generates requests from our own
``/openapi.json`` and sends them to a real ``launchgate serve`` process. No request may
cause a 5xx, and every answer must match the schema (status, content type, body,
headers); invalid input must be refused with a 4xx; a missing key must be refused.

The schemathesis CLI is used rather than its pytest plugin, which does not run on the
pytest we pin; the CLI's exit code is the verdict and its report is the failure message.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from tests.contract.server import LiveServer

CHECKS = ",".join(
    [
        "not_a_server_error",
        "status_code_conformance",
        "content_type_conformance",
        "response_schema_conformance",
        "response_headers_conformance",
        "negative_data_rejection",
        "ignored_auth",
        "unsupported_method",
        "allow_header_conformance",
        "missing_required_header",
    ]
)


# Two schemathesis processes share the operations, each with one worker: two worker
# threads in one process trip CPython 3.11's "AST constructor recursion depth mismatch" (a
# race between threads in `ast`, python/cpython#106905) inside hypothesis, reported as an
# internal error; two processes cannot race, and take as long as two threads did.
RUNS_AND_SUITES = r"^/v1/(run|runs|batches|suites|projects/\{slug\}/suites)"


def test_api_honours_its_schema(live_server: LiveServer, tmp_path: Path) -> None:
    command = [
        str(Path(sys.executable).parent / "schemathesis"),
        "run",
        f"{live_server.url}/openapi.json",
        "--header",
        f"Authorization: Bearer {live_server.api_key}",
        "--checks",
        CHECKS,
        "--phases",
        "examples,coverage,fuzzing",
        "--max-examples",
        "30",
        "--workers",
        "1",
        "--seed",
        "20261129",
        "--suppress-health-check",
        "all",
        "--request-timeout",
        "10",
    ]
    halves = {
        "runs-and-suites": ["--include-path-regex", RUNS_AND_SUITES],
        "the-rest": ["--exclude-path-regex", RUNS_AND_SUITES],
    }
    processes = {}
    for name, selection in halves.items():
        (tmp_path / name).mkdir()
        processes[name] = subprocess.Popen(
            command + selection,
            cwd=tmp_path / name,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
    failed = []
    for name, process in processes.items():
        stdout, stderr = process.communicate(timeout=600)
        if process.returncode != 0:
            failed.append(
                f"=== {name}: exit {process.returncode}\n{stdout[-20000:]}{stderr[-4000:]}"
            )
    report = "\n".join(failed) + "\n--- server log ---\n" + live_server.log_tail()
    assert not failed, report
