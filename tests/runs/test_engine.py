"""The run engine on hand-made snapshots: no database, no HTTP."""

from __future__ import annotations

import asyncio
import types
import uuid
from typing import Any, cast

import pytest
from hypothesis import given
from hypothesis import strategies as st

from launchgate.runs import engine
from launchgate.runs.engine import EngineOptions, execute, merged_input
from launchgate.scorers.builtin import ScoreResult, engines, validate_config

OPTIONS = EngineOptions(regex_timeout_s=0.2)
CATASTROPHIC = "(a|aa)+$"  # exponential backtracking in the `regex` module too
CASE_KEYS = {"case", "case_id", "passed", "score", "threshold", "reason", "status", "duration_ms"}


def _case(
    name: str,
    kind: str,
    config: dict[str, Any],
    *,
    expected: Any = None,
    threshold: float = 0.5,
    weight: float = 1.0,
    dual_sided: bool = False,
    precision_threshold: float | None = None,
    recall_threshold: float | None = None,
    validate: bool = True,
) -> dict[str, Any]:
    if validate:
        config = validate_config(kind, config, dual_sided=dual_sided)
    return {
        "id": str(uuid.uuid4()),
        "name": name,
        "input": {},
        "expected": expected,
        "threshold": threshold,
        "weight": weight,
        "position": 0,
        "scorer": {
            "id": str(uuid.uuid4()),
            "name": f"{name} scorer",
            "type": kind,
            "config": config,
            "dual_sided": dual_sided,
            "precision_threshold": precision_threshold,
            "recall_threshold": recall_threshold,
        },
    }


def _snapshot(*cases: dict[str, Any], pass_threshold: float = 1.0) -> dict[str, Any]:
    return {
        "suite": {
            "id": str(uuid.uuid4()),
            "name": "s",
            "slug": "s",
            "pass_threshold": pass_threshold,
        },
        "cases": list(cases),
    }


# --- merged input -----------------------------------------------------------------------


def test_run_input_is_merged_over_case_input_and_wins() -> None:
    case_input = {"question": "from case", "lang": "en"}
    run_input = {"question": "from run", "user": "u1"}
    assert merged_input(case_input, run_input) == {
        "question": "from run",
        "lang": "en",
        "user": "u1",
    }


def test_merging_leaves_both_inputs_untouched() -> None:
    case_input, run_input = {"a": 1}, {"b": 2}
    merged = merged_input(case_input, run_input)
    merged["c"] = 3
    assert case_input == {"a": 1} and run_input == {"b": 2}
    alone = merged_input(case_input, {})
    alone["d"] = 4
    assert alone == {"a": 1, "d": 4} and case_input == {"a": 1}


def test_merge_is_shallow_a_run_key_replaces_the_whole_case_value() -> None:
    assert merged_input({"ctx": {"a": 1, "b": 2}}, {"ctx": {"a": 9}}) == {"ctx": {"a": 9}}


json_values = st.one_of(st.none(), st.booleans(), st.integers(), st.text(max_size=5))
inputs = st.dictionaries(st.text(max_size=4), json_values, max_size=6)


@given(inputs, inputs)
def test_merged_input_property(case_input: dict[str, Any], run_input: dict[str, Any]) -> None:
    merged = merged_input(case_input, run_input)
    assert set(merged) == set(case_input) | set(run_input)
    for key, value in merged.items():
        assert value == (run_input[key] if key in run_input else case_input[key])


# --- execute ----------------------------------------------------------------------------


async def test_every_case_is_scored_in_snapshot_order_with_the_wire_keys() -> None:
    snapshot = _snapshot(
        _case("has hello", "contains", {"values": ["hello"]}),
        _case("exact", "exact_match", {}, expected="nope"),
        _case("greets", "regex", {"pattern": "^hel+o", "flags": "i"}),
        _case("is json", "json_schema", {"schema": {"type": "object"}}),
        pass_threshold=0.5,
    )
    scores, result = await execute(snapshot, "Hello world", {}, OPTIONS)
    assert [s["case"] for s in scores] == ["has hello", "exact", "greets", "is json"]
    assert [s["case_id"] for s in scores] == [c["id"] for c in snapshot["cases"]]
    assert [s["status"] for s in scores] == ["failed", "failed", "passed", "failed"]
    for entry in scores:
        assert set(entry) >= CASE_KEYS
        assert entry["passed"] is (entry["status"] == "passed")
        assert entry["threshold"] == 0.5 and entry["duration_ms"] >= 0
        assert isinstance(entry["reason"], str) and entry["reason"]
    assert (result.status, result.pass_rate, result.passed_cases) == ("aborted", 0.25, 1)


async def test_weights_come_from_the_snapshot() -> None:
    snapshot = _snapshot(
        _case("w1", "contains", {"values": ["a"]}, weight=1.0),
        _case("w2", "contains", {"values": ["zzz"]}, weight=2.0),
        _case("w3", "contains", {"values": ["b"]}, weight=3.0),
        pass_threshold=0.6,
    )
    scores, result = await execute(snapshot, "a b", {}, OPTIONS)
    assert [s["weight"] for s in scores] == [1.0, 2.0, 3.0]
    assert result.pass_rate == 0.6667 and result.status == "cleared"


async def test_an_llm_judge_case_errors_with_a_clear_reason() -> None:
    judge = _case("judge", "llm_judge", {"rubric": "Be kind", "_provider": "openai"})
    snapshot = _snapshot(_case("has a", "contains", {"values": ["a"]}), judge, pass_threshold=0.0)
    scores, result = await execute(snapshot, "a", {}, OPTIONS)
    assert scores[1]["status"] == "error" and scores[1]["passed"] is False
    assert scores[1]["reason"] == engine.JUDGE_UNAVAILABLE
    assert result.status == "error" and result.passed is False and result.pass_rate == 0.5


async def test_a_catastrophic_regex_times_out_as_an_error_not_a_pass() -> None:
    snapshot = _snapshot(
        _case("must not match", "regex", {"pattern": CATASTROPHIC, "should_match": False}),
        pass_threshold=0.0,
    )
    scores, result = await execute(snapshot, "a" * 40 + "!", {}, OPTIONS)
    assert scores[0]["status"] == "error" and scores[0]["score"] == 0.0
    assert "timed out" in scores[0]["reason"].lower()
    assert result.status == "error" and result.error_cases == 1


async def test_a_scorer_that_crashes_ends_its_case_in_error_only() -> None:
    # A config that skipped normalisation lacks keys the scorer relies on: it raises.
    broken = _case("broken", "contains", {"values": ["x"]}, validate=False)
    snapshot = _snapshot(broken, _case("ok", "contains", {"values": ["x"]}), pass_threshold=0.0)
    scores, result = await execute(snapshot, "x", {}, OPTIONS)
    assert scores[0]["status"] == "error" and scores[0]["reason"].startswith("Scorer failed")
    assert scores[1]["status"] == "passed"
    assert result.status == "error"


async def test_an_engine_that_cannot_be_loaded_in_a_thread_does_not_fail_the_run(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # A process whose engines are not loaded yet (engines.py), and whose loading fails: the
    # cases are compiled and scored as before, each meeting any error itself.
    def broken() -> None:
        raise ImportError("no engine here")

    monkeypatch.setattr(engines, "_loaded", set())
    monkeypatch.setattr(engines, "_WARM", {"regex": broken, "json_schema": broken})
    snapshot = _snapshot(
        _case("digits", "regex", {"pattern": r"\d+"}),
        _case("object", "json_schema", {"schema": {"type": "object"}}),
    )
    scores, result = await execute(snapshot, '{"n": 42}', {}, OPTIONS)
    assert [s["status"] for s in scores] == ["passed", "passed"]
    assert result.status == "cleared"


async def test_a_judge_that_raises_ends_its_case_in_error_with_a_generic_reason() -> None:
    secret = "sk-test-\u00e9-never-shown"

    async def judge(
        config: dict[str, Any],
        output: str,
        run_input: dict[str, Any],
        expected: Any,
        threshold: float,
    ) -> engine.Judged:
        # What httpx raises for a key no header can carry: its text quotes the key.
        raise UnicodeEncodeError("ascii", secret, 8, 9, "ordinal not in range(128)")

    judged = _case("judged", "llm_judge", {"rubric": "Be kind", "_provider": "openai"})
    snapshot = _snapshot(judged, _case("ok", "contains", {"values": ["x"]}), pass_threshold=0.0)
    scores, result = await execute(snapshot, "x", {}, OPTIONS, judge)
    assert scores[0]["status"] == "error" and scores[0]["reason"] == engine.SCORING_FAILED
    assert secret not in str(scores)
    assert scores[1]["status"] == "passed"
    assert result.status == "error" and result.error_cases == 1


async def test_dual_sided_contains_reports_both_sides_and_uses_their_thresholds() -> None:
    config = {"values": ["alpha", "beta"], "forbidden": ["gamma", "delta"]}
    loose = _case(
        "loose",
        "contains",
        config,
        dual_sided=True,
        threshold=0.9,
        precision_threshold=0.5,
        recall_threshold=0.5,
    )
    strict = _case(
        "strict",
        "contains",
        config,
        dual_sided=True,
        threshold=0.9,
        precision_threshold=1.0,
        recall_threshold=0.5,
    )
    snapshot = _snapshot(loose, strict, pass_threshold=0.5)
    scores, result = await execute(snapshot, "alpha and gamma", {}, OPTIONS)
    first, second = scores
    assert (first["precision"], first["recall"], first["score"]) == (0.5, 0.5, 0.5)
    # Score 0.5 is under the case threshold 0.9, yet both sides clear theirs.
    assert first["status"] == "passed"
    assert second["status"] == "failed"  # precision 0.5 < 1.0
    assert result.pass_rate == 0.5 and result.status == "cleared"


async def test_the_run_input_does_not_change_deterministic_scores() -> None:
    snapshot = _snapshot(_case("has a", "contains", {"values": ["a"]}))
    plain, _ = await execute(snapshot, "a", {}, OPTIONS)
    with_input, _ = await execute(snapshot, "a", {"question": "?"}, OPTIONS)
    strip = [{k: v for k, v in s.items() if k != "duration_ms"} for s in (*plain, *with_input)]
    assert strip[0] == strip[1]


async def test_cases_are_scored_concurrently(monkeypatch: pytest.MonkeyPatch) -> None:
    cases = [_case(f"c{i}", "contains", {"values": ["a"]}) for i in range(4)]
    barrier = asyncio.Barrier(len(cases))
    real_result = engine._result

    async def meet_then_score(*args: Any) -> Any:
        await barrier.wait()  # only returns once every case has started
        return await real_result(*args)

    monkeypatch.setattr(engine, "_result", meet_then_score)
    scores, result = await asyncio.wait_for(execute(_snapshot(*cases), "a", {}, OPTIONS), 10)
    assert result.status == "cleared" and len(scores) == 4


async def test_judged_cases_wait_on_their_judge_concurrently() -> None:
    """Deterministic cases are scored one after another without a task each; the cases
    that wait (a judge call here) still wait together, and every entry keeps its place."""
    judged = [
        _case(f"j{i}", "llm_judge", {"rubric": "Be kind", "_provider": "openai"}) for i in range(3)
    ]
    barrier = asyncio.Barrier(len(judged))

    async def judge(
        config: dict[str, Any],
        output: str,
        run_input: dict[str, Any],
        expected: Any,
        threshold: float,
    ) -> engine.Judged:
        await barrier.wait()  # only returns once every judged case has started
        return engine.Judged(result=ScoreResult(score=1.0, reason="kind"))

    cases = [
        _case("first", "contains", {"values": ["a"]}),
        judged[0],
        _case("middle", "contains", {"values": ["zzz"]}),
        judged[1],
        judged[2],
    ]
    scores, result = await asyncio.wait_for(
        execute(_snapshot(*cases, pass_threshold=0.0), "a", {}, OPTIONS, judge), 10
    )
    assert [s["case"] for s in scores] == ["first", "j0", "middle", "j1", "j2"]
    assert [s["status"] for s in scores] == ["passed", "passed", "failed", "passed", "passed"]
    assert result.total_cases == 5


async def test_searches_in_threads_run_concurrently(monkeypatch: pytest.MonkeyPatch) -> None:
    """Two backtracking patterns (no RE2 form: a backreference) search in threads at the
    same time: each waits at a barrier only the other can pass."""
    import threading

    engines.load(["regex"])  # so that the only threads are the two searches
    barrier = threading.Barrier(2, timeout=5)
    cases = [_case(f"r{i}", "regex", {"pattern": r"(a)\1"}) for i in range(2)]
    real_to_thread = asyncio.to_thread

    async def meet_in_thread(func: Any, /, *args: Any, **kwargs: Any) -> Any:
        def met() -> Any:
            barrier.wait()
            return func(*args, **kwargs)

        return await real_to_thread(met)

    monkeypatch.setattr(engine.asyncio, "to_thread", meet_in_thread)
    scores, _ = await asyncio.wait_for(execute(_snapshot(*cases), "aa", {}, OPTIONS), 10)
    assert [s["status"] for s in scores] == ["passed", "passed"]


async def test_case_expected_feeds_a_shared_scorer() -> None:
    snapshot = _snapshot(
        _case("wants foo", "contains", {}, expected="foo"),
        _case("wants bar", "contains", {}, expected=["bar", "baz"]),
        _case("exact", "exact_match", {}, expected={"a": 1}),
        pass_threshold=0.0,
    )
    scores, _ = await execute(snapshot, '{"a": 1} foo bar', {}, OPTIONS)
    assert [s["status"] for s in scores] == ["passed", "failed", "failed"]
    exact_only, _ = await execute(_snapshot(snapshot["cases"][2]), ' {"a":1} ', {}, OPTIONS)
    assert exact_only[0]["status"] == "passed"


async def test_waiting_cases_start_in_turn_so_each_ones_write_runs_first() -> None:
    """What a case schedules before its first wait (aiohttp's task that writes the
    request) runs before the next case starts, and the results keep their order."""
    log: list[str] = []

    async def case(i: int) -> int:
        log.append(f"start {i}")
        asyncio.get_running_loop().call_soon(log.append, f"written {i}")
        await asyncio.sleep(0.01)
        return i * 10

    assert await engine.started_in_turn([case(i) for i in range(4)]) == [0, 10, 20, 30]
    assert log == [f"{what} {i}" for i in range(4) for what in ("start", "written")]


async def test_cases_cancelled_while_starting_leave_nothing_behind() -> None:
    started: list[int] = []
    finished: list[int] = []

    async def case(i: int) -> int:
        started.append(i)
        await asyncio.sleep(0.05)
        finished.append(i)
        return i

    coros = [case(i) for i in range(50)]
    starting = asyncio.ensure_future(engine.started_in_turn(coros))
    while len(started) < 3:
        await asyncio.sleep(0)
    starting.cancel()
    with pytest.raises(asyncio.CancelledError):
        await starting
    await asyncio.sleep(0.1)
    assert 3 <= len(started) < 50 and finished == []
    # Calling an ``async def`` gives a native coroutine (typed as the abstract Coroutine).
    native = [cast("types.CoroutineType[Any, Any, int]", coro) for coro in coros]
    assert all(coro.cr_frame is None for coro in native)  # closed or done: never left pending
