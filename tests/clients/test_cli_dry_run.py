"""``launchgate run --dry-run`` and the SDK's ``estimate`` against a real server (issue 16):
the estimate printed (judge calls min–max, estimated input tokens, the cost range or
"unknown price for …"), exit 0, for one output and for ``--outputs-file``; refusals exit 2;
the fake judge sees no request and nothing is stored."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import httpx
import pytest

from launchgate.billing.estimate import estimate_input_tokens
from launchgate.billing.prices import load_prices
from launchgate.providers.schemas import ChatRequest
from launchgate.scorers.builtin.llm_judge import build_prompt
from launchgate.sdk import AsyncLaunchGate, Estimate, LaunchGate, NotFoundError, ValidationError
from launchgate.sdk.money import usd
from launchgate.testing.fake_provider import FakeProviderServer
from tests.clients.batches import write_jsonl
from tests.clients.cli import Terminal, make_terminal
from tests.clients.live import Gate

RUBRIC = "Is the answer kind?"
OUTPUT = "Sorry about that! Your refund is on its way."
JUDGED = {"rubric": RUBRIC, "_provider": "openai", "model": "gpt-4o-mini", "max_tokens": 250}
ADAPTIVE = {**JUDGED, "samples": 5, "min_samples": 2, "temperature": 0.7}
UNPRICED = {"rubric": RUBRIC, "_provider": "openai", "model": "in-house-judge-7"}


@pytest.fixture(scope="module")
def estimating(gate: Gate) -> tuple[str, dict[str, str]]:
    """An organisation of its own (no judged history: the correction is 1.0) with suites
    ``priced`` (one adaptive judge case on gpt-4o-mini and a deterministic case) and
    ``mixed`` (the same plus a judge on a model without a price); its key and suite ids."""
    key = gate.new_org("Estimates", "pro")
    ids: dict[str, str] = {}
    with gate.api(key) as client:
        _ok(client.post("/v1/projects", json={"name": "Est", "slug": "est"}))
        scorers = {
            name: _ok(
                client.post(
                    "/v1/projects/est/scorers",
                    json={"name": name, "type": kind, "config": config},
                )
            )["id"]
            for name, kind, config in (
                ("adaptive", "llm_judge", ADAPTIVE),
                ("unpriced", "llm_judge", UNPRICED),
                ("refund", "contains", {"values": ["refund"]}),
            )
        }
        for slug, cases in (("priced", ["adaptive", "refund"]), ("mixed", list(scorers))):
            suite = _ok(client.post("/v1/projects/est/suites", json={"name": slug, "slug": slug}))
            ids[slug] = suite["id"]
            for name in cases:
                body = {"name": f"{name} case", "scorer_id": scorers[name]}
                _ok(client.post(f"/v1/suites/{suite['id']}/cases", json=body))
    return key, ids


@pytest.fixture
def term(tmp_path: Path) -> Terminal:
    return make_terminal(tmp_path)


def _ok(response: httpx.Response) -> dict[str, Any]:
    assert response.is_success, response.text
    data: dict[str, Any] = response.json()["data"]
    return data


def _tokens(output: str, run_input: dict[str, Any], config: dict[str, Any]) -> int:
    prompt = build_prompt(config, output, run_input, None)
    request = ChatRequest(
        model=config["model"],
        system=prompt.system,
        user=prompt.user,
        json_schema=prompt.json_schema,
    )
    return estimate_input_tokens(request)


def _usd(value: float | None) -> str:
    assert value is not None
    return usd(value)


def _stored_nothing(gate: Gate, key: str, suite_id: str) -> bool:
    with gate.api(key) as client:
        runs = client.get(f"/v1/suites/{suite_id}/runs").json()["pagination"]["total"]
        batches = client.get(f"/v1/suites/{suite_id}/batches").json()["pagination"]["total"]
        usage = client.get("/v1/billing/usage").json()["current_usage"]
    return runs == 0 and batches == 0 and usage == 0


def _run(term: Terminal, gate: Gate, key: str, *args: str) -> tuple[int, list[str], str]:
    done = term.run("run", *args, "--api-key", key, "--api-url", gate.url)
    return done.returncode, done.stdout.splitlines(), done.stderr


def test_dry_run_prints_the_estimate_of_one_output(
    term: Terminal,
    gate: Gate,
    estimating: tuple[str, dict[str, str]],
    fake_judge: FakeProviderServer,
) -> None:
    key, ids = estimating
    seen = len(fake_judge.recorded_requests())
    code, lines, stderr = _run(
        term, gate, key, "priced", "--output", OUTPUT, "--input", '{"q": "refund?"}', "--dry-run"
    )
    assert code == 0, stderr
    per_call = _tokens(OUTPUT, {"q": "refund?"}, JUDGED)
    table = load_prices(None)
    low = round(table.cost("openai", "gpt-4o-mini", per_call * 2, 0) or 0, 6)
    high = round(table.cost("openai", "gpt-4o-mini", per_call * 5, 250 * 5) or 0, 6)
    assert lines == [
        "Dry run of 'priced' for 1 output: nothing scored, nothing stored",
        "Judge calls: 2–5",
        f"Estimated input tokens: {per_call * 5:,}",
        "Output tokens: at most 1,250",
        f"Cost: {_usd(low)}–{_usd(high)}",
        f"  adaptive case: openai/gpt-4o-mini, 2–5 calls, {per_call * 5:,} input tokens, "
        f"{_usd(low)}–{_usd(high)}",
    ]
    assert len(fake_judge.recorded_requests()) == seen
    assert _stored_nothing(gate, key, ids["priced"])


def test_dry_run_names_the_model_without_a_price(
    term: Terminal, gate: Gate, estimating: tuple[str, dict[str, str]]
) -> None:
    key, _ = estimating
    code, lines, stderr = _run(term, gate, key, "mixed", "--output", OUTPUT, "--dry-run")
    assert code == 0, stderr
    assert lines[1] == "Judge calls: 3–6"
    assert lines[4] == "Cost: unknown price for openai/in-house-judge-7"
    assert lines[6].startswith("  unpriced case: openai/in-house-judge-7, 1 call, ")
    assert lines[6].endswith(", unknown price for openai/in-house-judge-7")


def test_dry_run_of_an_outputs_file_estimates_the_batch(
    term: Terminal, gate: Gate, estimating: tuple[str, dict[str, str]]
) -> None:
    key, ids = estimating
    items: list[dict[str, Any]] = [
        {"output": OUTPUT, "key": "a"},
        {"output": "No.", "input": {"q": "x"}, "key": "b"},
    ]
    outputs = write_jsonl(term.cwd / "outputs.jsonl", items)
    code, lines, stderr = _run(
        term, gate, key, "priced", "--outputs-file", str(outputs), "--dry-run", "--json"
    )
    assert code == 0, stderr
    [line] = lines
    answer = json.loads(line)
    tokens = _tokens(OUTPUT, {}, JUDGED) + _tokens("No.", {"q": "x"}, JUDGED)
    assert answer["dry_run"] is True and answer["items"] == 2
    assert answer["judge_calls"] == {"min": 4, "max": 10}
    assert answer["input_tokens"] == tokens * 5
    code, lines, stderr = _run(term, gate, key, "priced", "--outputs-file", str(outputs),
                               "--dry-run")  # fmt: skip
    assert code == 0, stderr
    assert lines[0] == "Dry run of 'priced' for 2 outputs: nothing scored, nothing stored"
    assert _stored_nothing(gate, key, ids["priced"])


def test_dry_run_refusals_exit_2(
    term: Terminal, gate: Gate, estimating: tuple[str, dict[str, str]]
) -> None:
    key, _ = estimating
    for args, says in (
        (("priced", "--output", OUTPUT, "--dry-run", "--async"), "--async and --junit"),
        (("no-such-suite", "--output", OUTPUT, "--dry-run"), "no-such-suite"),
        (("priced", "--output", "  ", "--dry-run"), "empty"),
        (("priced", "--output", OUTPUT, "--baseline", "auto", "--dry-run"), "--outputs-file"),
    ):
        code, lines, stderr = _run(term, gate, key, *args)
        assert code == 2 and lines == [], (args, stderr)
        assert stderr.startswith("Error: ") and says in stderr, (args, stderr)


def test_the_sdk_estimates_runs_and_batches(
    gate: Gate, estimating: tuple[str, dict[str, str]]
) -> None:
    key, _ = estimating
    with LaunchGate(api_key=key, base_url=gate.url) as client:
        one = client.estimate("priced", OUTPUT, {"q": "refund?"})
        many = client.estimate("priced", items=[{"output": OUTPUT}, {"output": "No."}])
        mixed = client.estimate("mixed", OUTPUT)
        with pytest.raises(NotFoundError):
            client.estimate("no-such-suite", OUTPUT)
        with pytest.raises(ValidationError):
            client.estimate("priced", "   ")
        with pytest.raises(TypeError):
            client.estimate("priced", OUTPUT, items=[{"output": OUTPUT}])
    assert isinstance(one, Estimate)
    assert (one.suite, one.items, one.calls_min, one.calls_max) == ("priced", 1, 2, 5)
    assert one.input_tokens == _tokens(OUTPUT, {"q": "refund?"}, JUDGED) * 5
    assert one.priced and one.cost_usd_min is not None and one.cost_usd_max is not None
    assert 0 < one.cost_usd_min < one.cost_usd_max
    [case] = one.cases
    assert (case.name, case.model, case.calls_min, case.calls_max) == (
        "adaptive case", "gpt-4o-mini", 2, 5,
    )  # fmt: skip
    assert case.input_token_ratio == 1.0
    assert (many.items, many.calls_min, many.calls_max) == (2, 4, 10)
    assert not mixed.priced and mixed.unpriced_models == ("openai/in-house-judge-7",)
    assert mixed.to_dict()["cost_usd"] is None

    async def estimate_async() -> Estimate:
        async with AsyncLaunchGate(api_key=key, base_url=gate.url) as client:
            return await client.estimate("priced", OUTPUT, {"q": "refund?"})

    assert asyncio.run(estimate_async()) == one
