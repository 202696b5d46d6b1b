"""The pytest plugin (issue 15, part 3) as a user meets it: test files run by pytest itself
(``pytester``, in-process), with the plugin loaded through its ``pytest11`` entry point,
against a real ``launchgate serve`` that judges through the fake provider.

docs/pytest.md is executed here: its test files run as written, and the reports it shows
(``text`` blocks) are matched against the real ones, so the page cannot drift.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass

import pytest

from launchgate.testing.fake_provider import FakeProviderServer
from tests.clients.live import ABORTED_OUTPUT, CLEARED_OUTPUT, Gate, seed_suites
from tests.clients.noisy import SEED, UNDECIDED_OUTPUT, seed_noisy_org, start_judging
from tests.contract.server import stop
from tests.docs.blocks import ROOT, Block, blocks
from tests.sdk.scripted_server import closed_port

pytest_plugins = ["pytester"]

# The fake judge answers this one with text that is not a verdict: the case ends in error.
GARBLED_OUTPUT = f"{CLEARED_OUTPUT} FAKE_SCORE=garbage"

PAGE = ROOT / "docs" / "pytest.md"
DOCS_URL = "http://127.0.0.1:4001"


@dataclass(frozen=True)
class Live:
    """The server and the key of its one organisation: the suites of the client tests
    (the README's ``refund-replies`` among them, in project ``support``) and those the
    noisy judge decides (project ``noisy``), with a provider key for the fake."""

    gate: Gate
    fake: FakeProviderServer

    @property
    def url(self) -> str:
        return self.gate.url

    @property
    def key(self) -> str:
        return self.gate.key


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Live]:
    with FakeProviderServer(seed=SEED) as fake:
        data_dir = tmp_path_factory.mktemp("pytest-plugin")
        server = start_judging(data_dir, fake)
        try:
            gate = Gate(server, data_dir)
            seed_suites(gate)
            seed_noisy_org(gate.url, gate.key)
            yield Live(gate, fake)
        finally:
            stop(server)


@pytest.fixture(autouse=True)
def _isolated(monkeypatch: pytest.MonkeyPatch) -> None:
    """No LaunchGate setting of the caller reaches the inner runs (pytester already gives
    them a HOME and a working directory of their own); retries paced for a test."""
    for name in list(os.environ):
        if name.startswith("LAUNCHGATE_"):
            monkeypatch.delenv(name)
    monkeypatch.setenv("LAUNCHGATE_RETRY_BACKOFF", "0.001")


def configure(monkeypatch: pytest.MonkeyPatch, url: str, key: str) -> None:
    monkeypatch.setenv("LAUNCHGATE_API_URL", url)
    monkeypatch.setenv("LAUNCHGATE_API_KEY", key)


def run(pytester: pytest.Pytester, *args: str) -> pytest.RunResult:
    """pytest in-process, as a user runs it: the plugin comes from the entry point only.
    (pytest-asyncio is left out: unconfigured, it warns, and the warnings are counted.)"""
    assert "PYTEST_DISABLE_PLUGIN_AUTOLOAD" not in os.environ
    # In-process, a test file named like a module of ours already imported (the docs once
    # had test_billing.py, as tests/api/ has) would meet it in sys.modules and not collect.
    for path in pytester.path.glob("test_*.py"):  # conftest.py: pytest keeps them apart
        loaded = sys.modules.get(path.stem)
        assert loaded is None or getattr(loaded, "__file__", None) == str(path), (
            f"{path.name} is named like {loaded}: give the file another name"
        )
    return pytester.runpytest("-p", "no:cacheprovider", "-p", "no:asyncio", *args)


# --- docs/pytest.md --------------------------------------------------------------------


def _page() -> list[Block]:
    return blocks(PAGE)


def doc_file(name: str) -> str:
    """The page's Python block that starts with ``# <name>``, as written."""
    found = [b.code for b in _page() if b.lang == "python" and b.code.startswith(f"# {name}\n")]
    assert len(found) == 1, f"docs/pytest.md has no single block for {name}"
    return found[0]


def doc_report(starting: str) -> list[str]:
    """The page's ``text`` block whose first line starts so, as ``fnmatch`` patterns: ``…``
    (a run id, a reason, a duration) and the docs' address stand for anything."""
    found = [b.code for b in _page() if b.lang == "text" and b.code.startswith(starting)]
    assert len(found) == 1, f"docs/pytest.md has no single text block starting {starting!r}"
    patterns = []
    for line in found[0].splitlines():
        if not line.strip():
            continue
        line = re.sub(r"[\[\]*?]", lambda m: f"[{m.group(0)}]", line)
        line = line.replace("…", "*").replace(DOCS_URL, "http://127.0.0.1:*")
        patterns.append(re.sub(r"\d+\.\d+s\b", "*", line))
    return patterns


def test_the_worked_example_passes(
    pytester: pytest.Pytester, live: Live, monkeypatch: pytest.MonkeyPatch
) -> None:
    configure(monkeypatch, live.url, live.key)
    pytester.makepyfile(test_replies=doc_file("test_replies.py"))
    result = run(pytester, "-q", "test_replies.py")
    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines(doc_report("$ pytest -q test_replies.py")[-1:])


def test_the_readmes_three_lines_pass(
    pytester: pytest.Pytester, live: Live, monkeypatch: pytest.MonkeyPatch
) -> None:
    """README.md's Clients section shows the plugin in a test file of three lines."""
    [code] = [
        b.code
        for b in blocks(ROOT / "README.md")
        if b.lang == "python" and b.code.startswith("# test_replies.py\n")
    ]
    configure(monkeypatch, live.url, live.key)
    pytester.makepyfile(test_replies=code)
    run(pytester, "-q", "test_replies.py").assert_outcomes(passed=1)


def test_the_documented_failure_is_the_real_one(
    pytester: pytest.Pytester, live: Live, monkeypatch: pytest.MonkeyPatch
) -> None:
    configure(monkeypatch, live.url, live.key)
    pytester.makepyfile(test_billing_replies=doc_file("test_billing_replies.py"))
    result = run(pytester, "-q", "test_billing_replies.py")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(doc_report("E       Failed: ✗ Launch aborted"))
    assert_no_plugin_frames(result)
    assert live.key not in result.stdout.str()  # the fixture's repr shows the URL only


def test_the_documented_override_in_conftest_runs(pytester: pytest.Pytester, live: Live) -> None:
    """Explicit arguments, no environment: the conftest of the page, with its
    placeholders replaced by the live server's address and key."""
    conftest = doc_file("conftest.py").replace(DOCS_URL, live.url).replace("lg_live_…", live.key)
    pytester.makeconftest(conftest)
    pytester.makepyfile(test_replies=doc_file("test_replies.py"))
    run(pytester, "test_replies.py").assert_outcomes(passed=1)


# --- every verdict ----------------------------------------------------------------------

GATED = """
import json
import pathlib


def test_gate(launchgate):
    result = launchgate.assert_cleared(
        {suite!r}, {output!r}, {input!r}, trigger_meta={meta!r}, project={project!r}
    )
    outcome = {{"id": result.id, "status": result.status}}
    pathlib.Path("outcome.json").write_text(json.dumps(outcome))
"""


def gated(
    pytester: pytest.Pytester,
    suite: str,
    output: str,
    *args: str,
    input: dict[str, str] | None = None,
    meta: dict[str, str] | None = None,
    project: str | None = None,
) -> pytest.RunResult:
    """One test that gates ``output`` (and writes the run it got to outcome.json)."""
    pytester.makepyfile(
        test_gate=GATED.format(suite=suite, output=output, input=input, meta=meta, project=project)
    )
    return run(pytester, *args)


def assert_no_plugin_frames(result: pytest.RunResult) -> None:
    """A failure points at the test's line: no frame of the SDK or httpx in the report."""
    out = result.stdout.str()
    assert "launchgate/sdk/" not in out
    assert "httpx" not in out


def outcome(pytester: pytest.Pytester) -> dict[str, str | None]:
    data: dict[str, str | None] = json.loads((pytester.path / "outcome.json").read_text())
    return data


def test_a_cleared_run_passes_and_is_stored_with_the_test_that_made_it(
    pytester: pytest.Pytester, live: Live, monkeypatch: pytest.MonkeyPatch
) -> None:
    configure(monkeypatch, live.url, live.key)
    result = gated(
        pytester,
        "refund-replies",
        CLEARED_OUTPUT,
        input={"customer": "Ann"},
        meta={"build": "42"},
        project="support",
    )
    result.assert_outcomes(passed=1)
    seen = outcome(pytester)
    assert seen["status"] == "cleared"
    assert seen["id"] is not None
    stored = live.gate.stored_run(seen["id"])
    assert stored["status"] == "cleared"
    assert stored["trigger"] == "sdk"
    assert stored["trigger_meta"] == {"pytest": "test_gate.py::test_gate", "build": "42"}


def test_an_aborted_run_fails_listing_each_failed_case(
    pytester: pytest.Pytester, live: Live, monkeypatch: pytest.MonkeyPatch
) -> None:
    configure(monkeypatch, live.url, live.key)
    result = gated(pytester, "support-answers", ABORTED_OUTPUT)
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(
        [
            "E       Failed: ✗ Launch aborted: suite 'support-answers', "
            "pass rate 20% (1/5), run run_*",
            "E         ✗ Apologises: score 0.0, threshold 1.0 — *",
            "E         ✗ Names the order: score 0.0, threshold 1.0 — *",
            "E         ✗ Gives a timeline: score 0.0, threshold 1.0 — *",
            "E         ✗ Keeps addresses private: score 0.0, threshold 1.0 — "
            'Pattern matched but should not have: "billing@example.com"',
        ]
    )
    assert "✗ Offers a refund" not in result.stdout.str()  # it passed
    assert not (pytester.path / "outcome.json").exists()  # the test stopped at the gate


def test_an_inconclusive_run_fails_with_each_undecided_case_mean_and_interval(
    pytester: pytest.Pytester, live: Live, monkeypatch: pytest.MonkeyPatch
) -> None:
    live.fake.reset()
    live.fake.configure(seed=SEED)  # the same draws on every run
    configure(monkeypatch, live.url, live.key)
    result = gated(pytester, "undecided", UNDECIDED_OUTPUT, project="noisy")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(doc_report("E       Failed: ◐ Inconclusive"))
    line = next(x for x in result.stdout.lines if "◐ Kind tone:" in x)
    figures = re.search(r"mean (\S+), 95% interval \[(\S+), (\S+)\], threshold 0\.70", line)
    assert figures, line
    mean, low, high = (float(value) for value in figures.groups())
    assert low <= mean <= high
    assert low < 0.7 < high  # why it is undecided


def test_an_error_run_fails_saying_so(
    pytester: pytest.Pytester, live: Live, monkeypatch: pytest.MonkeyPatch
) -> None:
    configure(monkeypatch, live.url, live.key)
    result = gated(pytester, "judged", GARBLED_OUTPUT, project="support")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(doc_report("E       Failed: ⚠ Run ended in error"))


def test_a_refused_run_fails_with_the_api_message(
    pytester: pytest.Pytester, live: Live, monkeypatch: pytest.MonkeyPatch
) -> None:
    configure(monkeypatch, live.url, live.key)
    result = gated(pytester, "no-such-suite", CLEARED_OUTPUT)
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(
        ["E       Failed: LaunchGate refused the run of suite 'no-such-suite': *(NOT_FOUND)"]
    )
    assert_no_plugin_frames(result)


# --- configuration ----------------------------------------------------------------------


def test_the_key_and_url_come_from_launchgaterc(pytester: pytest.Pytester, live: Live) -> None:
    (pytester.path / ".launchgaterc").write_text(
        json.dumps({"apiKey": live.key, "baseUrl": live.url})
    )
    gated(pytester, "refund-replies", CLEARED_OUTPUT).assert_outcomes(passed=1)
    assert outcome(pytester)["status"] == "cleared"


def test_the_environment_wins_over_launchgaterc(
    pytester: pytest.Pytester, live: Live, monkeypatch: pytest.MonkeyPatch
) -> None:
    (pytester.path / ".launchgaterc").write_text(
        json.dumps({"apiKey": "lg_live_not_a_key", "baseUrl": closed_port()})
    )
    configure(monkeypatch, live.url, live.key)
    gated(pytester, "refund-replies", CLEARED_OUTPUT).assert_outcomes(passed=1)
    assert outcome(pytester)["status"] == "cleared"


def test_without_a_key_only_the_tests_using_the_fixture_fail(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        test_mixed="""
        def test_plain():
            assert True

        def test_gate(launchgate):
            launchgate.assert_cleared("refund-replies", "anything")
        """
    )
    result = run(pytester)
    result.assert_outcomes(passed=1, errors=1)
    result.stdout.fnmatch_lines(["LaunchGate is not configured: No LaunchGate API key: *"])


# --- when the API is down: a warning, or with strict, a failure ----------------------------


def test_a_skip_passes_with_a_warning_naming_the_url_and_the_cause(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    url = closed_port()
    configure(monkeypatch, url, "lg_live_unused")
    pytester.makepyfile(test_replies=doc_file("test_replies.py"))
    result = run(pytester)
    result.assert_outcomes(passed=1, warnings=1)
    # The warning points at the test's line.
    result.stdout.fnmatch_lines(doc_report("test_replies.py::test_the_refund_reply_is_cleared"))
    assert f"LaunchGate API at {url} unreachable: connection refused" in result.stdout.str()


STRICT = {
    "option": (["--launchgate-strict"], {}, None, "--launchgate-strict"),
    "-o": (["-o", "launchgate_strict=true"], {}, None, "launchgate_strict = true"),
    "ini": ([], {}, "[pytest]\nlaunchgate_strict = true\n", "launchgate_strict = true"),
    "env": ([], {"LAUNCHGATE_FAIL_OPEN": "false"}, None, "LAUNCHGATE_FAIL_OPEN=false"),
}


@pytest.mark.parametrize("way", list(STRICT))
def test_strict_makes_a_skip_a_failure(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch, way: str
) -> None:
    args, env, ini, named = STRICT[way]
    url = closed_port()
    configure(monkeypatch, url, "lg_live_unused")
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    if ini:
        pytester.makeini(ini)
    result = gated(pytester, "refund-replies", CLEARED_OUTPUT, *args)
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(
        [
            f"E       Failed: ⚠ Eval not run (API unreachable), and {named} makes that a "
            f"failure: LaunchGate API at {url} unreachable: connection refused — *. "
            "Suite 'refund-replies' was not gated."
        ]
    )
    assert_no_plugin_frames(result)
    if way == "option":
        result.stdout.fnmatch_lines(doc_report("E       Failed: ⚠ Eval not run"))


def test_a_skip_can_fail_through_the_warnings_filter_too(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    configure(monkeypatch, closed_port(), "lg_live_unused")
    result = gated(
        pytester,
        "refund-replies",
        CLEARED_OUTPUT,
        "-W",
        "error::launchgate.sdk.pytest_gate.LaunchGateSkipWarning",
    )
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["E   *LaunchGateSkipWarning: LaunchGate API at * unreachable*"])


# --- loading the plugin --------------------------------------------------------------------


def test_the_option_and_the_ini_setting_are_declared(pytester: pytest.Pytester) -> None:
    result = run(pytester, "--help")
    result.stdout.fnmatch_lines(["*--launchgate-strict*", "*launchgate_strict (bool)*"])


def test_the_plugin_can_be_turned_off(pytester: pytest.Pytester) -> None:
    """``-p no:launchgate``: no fixture of that name, so a project's own may take it."""
    pytester.makepyfile(test_gate="def test_gate(launchgate):\n    pass\n")
    result = run(pytester, "-p", "no:launchgate")
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(["*fixture 'launchgate' not found*"])


def test_loading_the_plugin_makes_no_client() -> None:
    """pytest loads the plugin in every run of the environment: the client module (and
    any connection) waits for the first test that asks for the fixture."""
    code = (
        "import sys, launchgate.sdk.pytest_plugin\n"
        "print('launchgate.sdk.pytest_gate' in sys.modules)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True
    )
    assert done.stdout.strip() == "False"


def test_the_fixture_is_not_reached_on_the_network_by_collection(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Collecting (or running tests without the fixture) never asks the API anything:
    a URL nothing answers costs no retry and no warning."""
    configure(monkeypatch, closed_port(), "lg_live_unused")
    monkeypatch.setenv("LAUNCHGATE_RETRY_BACKOFF", "30")
    pytester.makepyfile(test_replies=doc_file("test_replies.py"))
    result = run(pytester, "--co", "-q")
    assert result.ret == 0
    assert "warning" not in result.stdout.str()


def test_a_bad_backoff_setting_is_a_configuration_error(
    pytester: pytest.Pytester, live: Live, monkeypatch: pytest.MonkeyPatch
) -> None:
    configure(monkeypatch, live.url, live.key)
    monkeypatch.setenv("LAUNCHGATE_RETRY_BACKOFF", "soon")
    result = gated(pytester, "refund-replies", CLEARED_OUTPUT)
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(
        ["LaunchGate is not configured: LAUNCHGATE_RETRY_BACKOFF must be *"]
    )
