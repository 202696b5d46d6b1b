"""``PytestLaunchGate``: the client behind the pytest plugin's ``launchgate`` fixture.

A ``LaunchGate`` with one more method, ``assert_cleared``, which runs the gate and turns
every verdict but ``cleared`` into a clean test failure (``pytest.fail``: no traceback
through this module) that says what a reader needs to fix the output — each failed case
with its score, threshold and reason; each case the judge could not decide with its mean
and interval. A run the API could not make (``skipped``, fail-open) passes with a pytest
warning naming the URL and the cause, unless the session is strict.

Kept apart from ``pytest_plugin`` so that the plugin's import stays free of httpx: this
module is imported when a test first asks for the fixture. The wording follows
``launchgate run`` (``✗ Launch aborted``, ``mean 0.71, 95% interval [0.62, 0.80]``); the
SDK stands alone, so the few formatting lines are its own.
"""

from __future__ import annotations

import os
import warnings
from typing import Any

import pytest

from launchgate.sdk.client import LaunchGate
from launchgate.sdk.config import BACKOFF_ENV, ArgumentNames, resolve_config, retry_backoff
from launchgate.sdk.errors import ConfigError, LaunchGateError, UnreachableError
from launchgate.sdk.figures import number, percent
from launchgate.sdk.models import CaseResult, RunResult

# How this plugin's messages name the settings: it takes no key argument, and its strict
# switch is the command-line option.
NAMES = ArgumentNames(
    api_key="api_key= to PytestLaunchGate in a launchgate fixture of your own",
    strict="--launchgate-strict",
)
HEADERS = {
    "aborted": "✗ Launch aborted",
    "error": "⚠ Run ended in error",
    "inconclusive": "◐ Inconclusive",
}
MARKS = {"failed": "✗", "error": "⚠", "inconclusive": "◐"}


class LaunchGateSkipWarning(UserWarning):
    """A gate the API could not run (fail-open): the test passed without a verdict."""


class PytestLaunchGate(LaunchGate):
    """``LaunchGate`` plus ``assert_cleared``. ``strict_by`` names the setting that makes a
    skip a failure (``--launchgate-strict``…); such a client is made with fail-open off, so
    its ``run`` raises ``UnreachableError`` rather than skip, as the SDK's does with
    ``fail_open=False``."""

    def __init__(self, *args: Any, strict_by: str | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.strict_by = strict_by or (None if self.fail_open else "fail_open=False")

    def __enter__(self) -> PytestLaunchGate:  # so `with PytestLaunchGate() as gate` keeps the type
        return self

    def assert_cleared(
        self,
        suite: str,
        output: str,
        input: dict[str, Any] | None = None,
        *,
        trigger_meta: dict[str, Any] | None = None,
        project: str | None = None,
        allow_empty_output: bool = False,
    ) -> RunResult:
        """Run ``output`` through the suite; fail the test unless it is cleared.

        Returns the cleared (or skipped) ``RunResult``. ``trigger_meta`` is stored with the
        run, under a ``pytest`` entry holding the test's node id (yours wins on a clash).
        A refused request (unknown suite, bad key, an empty output…) fails the test with
        the API's message; so does a skip in a strict session.
        """
        __tracebackhide__ = True
        meta = {**_test_meta(), **(trigger_meta or {})}
        refusal: str | None = None
        try:
            result = self.run(
                suite,
                output,
                input,
                trigger_meta=meta,
                project=project,
                allow_empty_output=allow_empty_output,
            )
        except UnreachableError as exc:
            refusal = (
                f"⚠ Eval not run (API unreachable), and {self.strict_by} makes that a "
                f"failure: {exc.message}. Suite {suite!r} was not gated."
            )
        except LaunchGateError as exc:
            refusal = f"LaunchGate refused the run of suite {suite!r}: {exc}"
        if refusal is not None:  # failed outside the handler: no chained traceback
            pytest.fail(refusal)
        if result.skipped:
            warnings.warn(LaunchGateSkipWarning(result.message or "skipped"), stacklevel=2)
        elif not result.passed:
            pytest.fail(failure_message(suite, result))
        return result


def open_gate(strict_by: str | None, env: dict[str, str] | None = None) -> PytestLaunchGate:
    """The fixture's client: key and URL as the SDK finds them, fail-open off when the
    session is strict (or ``LAUNCHGATE_FAIL_OPEN=false``), and the retries' pace from
    ``LAUNCHGATE_RETRY_BACKOFF``. A configuration error fails the test asking for it."""
    __tracebackhide__ = True
    environ = dict(os.environ) if env is None else env
    try:
        config = resolve_config(fail_open=False if strict_by else None, env=environ, names=NAMES)
        if not config.fail_open and strict_by is None:
            strict_by = "LAUNCHGATE_FAIL_OPEN=false"
        backoff = retry_backoff(environ.get(BACKOFF_ENV))
        gate = PytestLaunchGate(config=config, backoff=backoff, strict_by=strict_by)
    except ConfigError as exc:
        problem = exc.message
    else:
        return gate
    # Outside the handler: the report is the message alone, with no chained traceback.
    pytest.fail(f"LaunchGate is not configured: {problem}", pytrace=False)


def failure_message(suite: str, result: RunResult) -> str:
    """The verdict, then one line per case that did not pass, in suite order."""
    head = HEADERS.get(result.status, f"⚠ Run {result.status}")
    undecided = result.inconclusive_cases
    if result.status == "inconclusive":
        head += f" — the judge could not decide {undecided} case(s)"
    rate = f"{percent(result.pass_rate)} ({result.passed_cases}/{result.total_cases})"
    detail = result.verdict_detail
    if detail is not None:
        rate += f", {percent(detail.pass_rate_high)} with the undecided case(s) passed"
    lines = [f"{head}: suite {suite!r}, pass rate {rate}, run {result.id}"]
    if detail is not None and detail.mapped:
        lines.append(
            f"  the judge could not decide {detail.inconclusive_cases} case(s): the run was "
            f"inconclusive, {result.status} by the suite's on_inconclusive: "
            f"{detail.on_inconclusive}"
        )
    not_passed = [case for case in result.scores if case.status != "passed"]
    lines += [f"  {case_line(case)}" for case in not_passed or result.failures]
    return "\n".join(lines)


def case_line(case: CaseResult) -> str:
    """``✗ Apologises: score 0.0, threshold 1.0 — reason``; an undecided case's mean and
    interval, since they say how close the call was."""
    mark = MARKS.get(case.status, "?")
    sampling = case.sampling
    if case.status == "inconclusive" and sampling is not None:
        low, high = sampling.interval
        figures = (
            f"mean {sampling.mean:.2f}, {sampling.confidence * 100:g}% interval "
            f"[{low:.2f}, {high:.2f}], threshold {case.threshold:.2f}, "
            f"{len(sampling.samples)} judgements"
        )
    else:
        figures = f"score {number(case.score)}, threshold {number(case.threshold)}"
        if case.status == "error":
            figures = f"error ({figures})"
    reason = " ".join(case.reason.split())
    return f"{mark} {case.case}: {figures}" + (f" — {reason}" if reason else "")


def _test_meta() -> dict[str, Any]:
    """``{"pytest": "tests/test_reply.py::test_refund"}`` while a test runs: a run in the
    dashboard leads back to the test that made it."""
    current = os.environ.get("PYTEST_CURRENT_TEST", "")
    node = current.rsplit(" (", 1)[0]
    return {"pytest": node} if node else {}
