"""The pure pass/fail arithmetic of SPEC §4–5 (``runs.verdict``)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from launchgate.runs.verdict import CaseRule, CaseStatus, RunOutcome, case_status, run_outcome

statuses = st.sampled_from(["passed", "failed", "error"])
weights = st.floats(min_value=0.01, max_value=100.0, allow_nan=False, allow_infinity=False)
outcomes = st.lists(st.tuples(statuses, weights), min_size=1, max_size=30)
thresholds = st.floats(min_value=0.0, max_value=1.0, allow_nan=False)


# --- case_status ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("score", "threshold", "expected"),
    [
        (1.0, 0.5, "passed"),
        (0.5, 0.5, "passed"),
        (0.4999, 0.5, "failed"),
        (0.0, 0.0, "passed"),
        (0.0, 1.0, "failed"),
        (1.0, 1.0, "passed"),
    ],
)
def test_a_case_passes_when_its_score_reaches_the_threshold(
    score: float, threshold: float, expected: str
) -> None:
    assert case_status(CaseRule(threshold=threshold), score, error=False) == expected


def test_an_error_is_an_error_whatever_the_score() -> None:
    assert case_status(CaseRule(threshold=0.0), 1.0, error=True) == "error"
    dual = CaseRule(threshold=0.0, dual_sided=True)
    assert case_status(dual, 1.0, error=True, precision=1.0, recall=1.0) == "error"


@pytest.mark.parametrize(
    ("precision", "recall", "expected"),
    [(1.0, 1.0, "passed"), (0.8, 0.6, "passed"), (0.79, 1.0, "failed"), (1.0, 0.59, "failed")],
)
def test_dual_sided_cases_pass_on_both_side_thresholds(
    precision: float, recall: float, expected: str
) -> None:
    rule = CaseRule(threshold=0.99, dual_sided=True, precision_threshold=0.8, recall_threshold=0.6)
    # The harmonic-mean score is ignored: each side decides on its own threshold.
    assert case_status(rule, 0.0, error=False, precision=precision, recall=recall) == expected


def test_dual_sided_side_thresholds_default_to_the_case_threshold() -> None:
    rule = CaseRule(threshold=0.7, dual_sided=True)
    assert case_status(rule, 0.0, error=False, precision=0.7, recall=0.7) == "passed"
    assert case_status(rule, 1.0, error=False, precision=0.69, recall=1.0) == "failed"
    assert case_status(rule, 1.0, error=False, precision=1.0, recall=0.69) == "failed"
    only_recall = CaseRule(threshold=0.7, dual_sided=True, recall_threshold=0.2)
    assert case_status(only_recall, 0.0, error=False, precision=0.7, recall=0.2) == "passed"
    assert case_status(only_recall, 0.0, error=False, precision=0.6, recall=1.0) == "failed"


def test_a_zero_side_threshold_is_not_replaced_by_the_case_threshold() -> None:
    rule = CaseRule(threshold=0.9, dual_sided=True, precision_threshold=0.0, recall_threshold=0.0)
    assert case_status(rule, 0.0, error=False, precision=0.0, recall=0.0) == "passed"


# --- verdict ----------------------------------------------------------------------------


def test_weighted_pass_rate_is_rounded_to_four_places() -> None:
    result = run_outcome([("passed", 1.0), ("failed", 2.0), ("passed", 3.0)], 0.5)
    assert result.pass_rate == 0.6667  # 4 / 6
    assert result == RunOutcome(
        status="cleared",
        passed=True,
        pass_rate=0.6667,
        total_cases=3,
        passed_cases=2,
        failed_cases=1,
        error_cases=0,
    )


def test_pass_rate_equal_to_the_threshold_clears() -> None:
    result = run_outcome([("passed", 1.0), ("failed", 1.0)], 0.5)
    assert (result.status, result.passed, result.pass_rate) == ("cleared", True, 0.5)


def test_pass_rate_below_the_threshold_aborts() -> None:
    result = run_outcome([("passed", 1.0), ("failed", 3.0)], 0.3)
    assert (result.status, result.passed, result.pass_rate) == ("aborted", False, 0.25)


def test_the_threshold_is_compared_with_the_rounded_rate() -> None:
    # 2/3 rounds to 0.6667, which clears a 0.6667 threshold.
    assert run_outcome([("passed", 1.0), ("passed", 1.0), ("failed", 1.0)], 0.6667).passed


def test_any_error_makes_the_run_an_error_and_counts_as_not_passed() -> None:
    result = run_outcome([("passed", 1.0), ("passed", 1.0), ("error", 1.0)], 0.0)
    assert result.status == "error" and result.passed is False
    assert result.pass_rate == 0.6667
    assert (result.passed_cases, result.failed_cases, result.error_cases) == (2, 0, 1)


def test_all_passed_with_a_threshold_of_one_clears() -> None:
    result = run_outcome([("passed", 0.5), ("passed", 2.0)], 1.0)
    assert result.status == "cleared" and result.pass_rate == 1.0


def test_no_cases_is_refused() -> None:
    with pytest.raises(ValueError):
        run_outcome([], 1.0)


@given(outcomes, thresholds)
def test_pass_rate_is_within_unit_interval(cases: list[tuple[str, float]], bar: float) -> None:
    result = run_outcome(cases, bar)  # type: ignore[arg-type]
    assert 0.0 <= result.pass_rate <= 1.0
    assert result.pass_rate == round(result.pass_rate, 4)


@given(st.lists(statuses, min_size=1, max_size=50), thresholds)
def test_with_all_weights_one_the_rate_is_passed_over_total(cases: list[str], bar: float) -> None:
    result = run_outcome([(status, 1.0) for status in cases], bar)  # type: ignore[misc]
    assert result.pass_rate == round(cases.count("passed") / len(cases), 4)


@given(outcomes, thresholds)
def test_counts_and_status_follow_the_outcomes(cases: list[tuple[str, float]], bar: float) -> None:
    result = run_outcome(cases, bar)  # type: ignore[arg-type]
    states = [status for status, _ in cases]
    assert result.total_cases == len(cases)
    assert (result.passed_cases, result.failed_cases, result.error_cases) == (
        states.count("passed"),
        states.count("failed"),
        states.count("error"),
    )
    assert result.passed == (result.status == "cleared")
    if "error" in states:
        assert result.status == "error"
    else:
        assert result.status == ("cleared" if result.pass_rate >= bar else "aborted")


@given(outcomes, thresholds)
def test_turning_a_failure_into_a_pass_never_lowers_the_rate(
    cases: list[tuple[str, float]], bar: float
) -> None:
    before = run_outcome(cases, bar)  # type: ignore[arg-type]
    improved = [("passed" if s == "failed" else s, w) for s, w in cases]
    assert run_outcome(improved, bar).pass_rate >= before.pass_rate  # type: ignore[arg-type]


# --- inconclusive cases (issue 13) ------------------------------------------------------

P: CaseStatus = "passed"
F: CaseStatus = "failed"
E: CaseStatus = "error"
I: CaseStatus = "inconclusive"  # noqa: E741


@pytest.mark.parametrize(
    ("cases", "bar", "raw", "low", "high"),
    [
        # Counted passed the run clears, counted failed it aborts: undecided.
        ([(P, 1.0), (I, 1.0)], 1.0, "inconclusive", 0.5, 1.0),
        ([(I, 1.0)], 0.5, "inconclusive", 0.0, 1.0),
        # Clears even with the inconclusive case failed.
        ([(P, 3.0), (I, 1.0)], 0.75, "cleared", 0.75, 1.0),
        ([(P, 1.0), (P, 1.0), (P, 1.0), (I, 1.0)], 0.7, "cleared", 0.75, 1.0),
        # Fails even with it passed.
        ([(F, 3.0), (I, 1.0)], 0.5, "aborted", 0.0, 0.25),
        ([(P, 1.0), (F, 1.0), (I, 1.0)], 0.7, "aborted", 0.3333, 0.6667),
        # The weight decides whether one undecided case can swing the run.
        ([(P, 9.0), (I, 1.0)], 0.9, "cleared", 0.9, 1.0),
        ([(P, 8.0), (I, 2.0)], 0.9, "inconclusive", 0.8, 1.0),
        ([(P, 1.0), (I, 1.0), (I, 1.0)], 0.6, "inconclusive", 0.3333, 1.0),
        ([(P, 1.0), (F, 1.0), (I, 2.0)], 0.5, "inconclusive", 0.25, 0.75),
        # A threshold of 0 clears whatever the cases say.
        ([(I, 1.0), (F, 1.0)], 0.0, "cleared", 0.0, 0.5),
        # An error still makes the run an error.
        ([(P, 1.0), (I, 1.0), (E, 1.0)], 0.0, "error", 0.3333, 0.6667),
    ],
)
@pytest.mark.parametrize("setting", ["inconclusive", "abort", "clear"])
def test_inconclusive_cases_count_both_ways(
    cases: list[tuple[str, float]], bar: float, raw: str, low: float, high: float, setting: str
) -> None:
    result = run_outcome(cases, bar, setting)  # type: ignore[arg-type]
    mapped = {"inconclusive": raw, "abort": "aborted", "clear": "cleared"}[setting]
    status = mapped if raw == "inconclusive" else raw
    assert (result.status, result.passed, result.pass_rate) == (status, status == "cleared", low)
    states = [s for s, _ in cases]
    assert (result.passed_cases, result.failed_cases) == (states.count(P), states.count(F))
    assert result.inconclusive_cases == states.count(I)
    assert result.verdict_detail == {
        "status": raw,
        "on_inconclusive": setting,
        "pass_rate_low": low,
        "pass_rate_high": high,
        "inconclusive_cases": states.count(I),
    }


def test_without_inconclusive_cases_there_is_no_verdict_detail() -> None:
    result = run_outcome([(P, 1.0), (F, 1.0)], 0.5, "abort")
    assert result.verdict_detail is None and result.inconclusive_cases == 0


@given(
    st.lists(st.tuples(st.sampled_from([P, F, I]), weights), min_size=1, max_size=30), thresholds
)
def test_the_run_is_undecided_only_when_the_undecided_cases_could_swing_it(
    cases: list[tuple[str, float]], bar: float
) -> None:
    result = run_outcome(cases, bar)  # type: ignore[arg-type]
    as_passed = run_outcome([(P if s == I else s, w) for s, w in cases], bar)  # type: ignore[misc]
    as_failed = run_outcome([(F if s == I else s, w) for s, w in cases], bar)  # type: ignore[misc]
    if as_passed.status == as_failed.status:
        assert result.status == as_passed.status
    else:
        assert result.status == "inconclusive"
