"""bench/soak.py's arguments and report, without running a soak (that takes 2–30 minutes
and a fleet of processes; it is run by hand, see bench/README.md)."""

from __future__ import annotations

import datetime as dt
import sys
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

import pytest

BENCH = Path(__file__).resolve().parents[2] / "bench"


@pytest.fixture(scope="module")
def soak() -> Iterator[ModuleType]:
    sys.path.insert(0, str(BENCH))  # soak.py imports its sibling scripts by name
    try:
        import soak as module

        yield module
    finally:
        sys.path.remove(str(BENCH))


def test_smoke_and_full_defaults(soak: ModuleType) -> None:
    smoke = soak.parse_args(["--smoke"])
    assert (smoke.duration_s, smoke.kill_every_s, smoke.lease_s, smoke.kind) == (
        120,
        40,
        20,
        "smoke",
    )
    assert smoke.grace_s == 2 * 20 + 2 * 10 + 30
    full = soak.parse_args([])
    assert (full.duration_s, full.kill_every_s, full.lease_s, full.kind) == (1800, 300, 60, "full")
    assert soak.parse_args(["--minutes", "5"]).duration_s == 300


@pytest.mark.parametrize(
    "argv", [["--minutes", "0"], ["--clients", "0"], ["--kill-every-s", "-1"], ["--apis", "3"]]
)
def test_bad_arguments_are_refused(soak: ModuleType, argv: list[str]) -> None:
    with pytest.raises(SystemExit):
        soak.parse_args(argv)


def _report(
    soak: ModuleType, samples: list[object], failures: list[object], outcome: object
) -> str:
    recorder = soak.Recorder(t0=0.0, samples=samples, failures=failures)
    recorder.run_ids = {"run_" + "a" * 24}
    info = {
        "cores": "2",
        "cpu": "cpu",
        "os": "os",
        "python": "3.11",
        "packages": "p",
        "servers": "s",
        "commit": "abc",
    }
    args = soak.parse_args(["--smoke"])
    text: str = soak.render(args, info, dt.datetime(2026, 1, 1, tzinfo=dt.UTC), recorder, outcome)
    return text


def test_a_clean_soak_passes(soak: ModuleType) -> None:
    samples = [
        soak.Sample(1.0, "run det sync", "200", 0.02),
        soak.Sample(2.0, "bad: malformed JSON", "400", 0.01),
    ]
    outcome = soak.Outcome(kills=3, restarts=3, db_statuses={"cleared": 1})
    text = _report(soak, samples, [], outcome)
    assert "**Verdict: PASS**" in text
    assert "| run det sync | 1 | 200 ×1 | 0 |" in text
    assert "| malformed JSON | 1 | 400 ×1 | refused (4xx) |" in text
    assert "| worker kills (SIGKILL) / restarts | 3 / 3 |" in text


def test_5xx_lost_and_stuck_fail_and_are_explained(soak: ModuleType, tmp_path: Path) -> None:
    request_id = "0123456789abcdef" * 2
    samples = [
        soak.Sample(1.0, "bad: regex a{1000000000}", "500", 3.0),
        soak.Sample(2.0, "run judge sync", "no answer (ReadTimeout)", 660.0),
    ]
    failures = [
        soak.Failure(1.0, "bad: regex a{1000000000}", "500", "INTERNAL_ERROR 'x'", request_id),
        soak.Failure(2.0, "run judge sync", "no answer (ReadTimeout)", "after 660 s"),
    ]
    log = tmp_path / "api-1.log"
    log.write_text(f"[error] unhandled error error_type=MemoryError request_id={request_id}\n")
    recorder = soak.Recorder(t0=0.0, failures=failures)
    recorder.explain([log])
    assert failures[0].error_type == "MemoryError"
    outcome = soak.Outcome(lost=["run_" + "b" * 24], stuck=[("run_" + "c" * 24, "running")])
    text = _report(soak, samples, failures, outcome)
    assert (
        "**Verdict: FAIL — 1 answers were 5xx; 1 requests got no answer; 1 runs lost; "
        "1 runs stuck non-final**"
    ) in text
    assert "| bad: regex a{1000000000} | 500 | MemoryError | 1 | 1.0 |" in text
    assert "**FAIL: 1 × 5xx or no answer**" in text


def test_percentile_is_nearest_rank(soak: ModuleType) -> None:
    values = [float(v) for v in range(1, 101)]
    assert soak.percentile(values, 50) == 50.0
    assert soak.percentile(values, 99) == 99.0
    assert soak.percentile([7.0], 99) == 7.0


def test_results_are_written_between_their_own_markers(soak: ModuleType, tmp_path: Path) -> None:
    output = tmp_path / "RESULTS.md"
    output.write_text("# Results\n\nhand-written\n")
    args = soak.parse_args(["--smoke", "--output", str(output)])
    soak.write_results(args, "first\n")
    soak.write_results(args, "second\n")
    text = output.read_text()
    assert text.startswith("# Results\n\nhand-written\n")
    assert "second" in text and "first" not in text
    assert text.count("<!-- soak-smoke:begin") == 1 and "<!-- soak:begin" not in text
