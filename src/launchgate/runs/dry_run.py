"""Dry runs (issue 16): what a run or a batch would cost, before it is made.

``POST /v1/run`` and ``POST /v1/batches`` with ``dry_run: true`` resolve the suite exactly
like a real run (the same validation, errors and authentication) and then, instead of
scoring, build every judge case's request with the real prompt builder and estimate it:

- judge calls: ``min_samples`` to ``samples`` per case and output (adaptive sampling stops
  between the two); a case whose verdict is in the opt-in cache now counts 0 at the least
  (the verdict may expire before the real run, so its maximum stays);
- input tokens: ``billing.estimate.estimate_input_tokens`` of the request, times the
  organisation's ratio of actual to estimated input tokens for that provider and model,
  read from its latest judged runs (1.0 without history);
- output tokens: at most the scorer's ``max_tokens``, else ``DEFAULT_MAX_TOKENS``;
- cost: the price table's cost of the minimum (no output tokens) and of the maximum
  (every output token allowed); null when a judged model has no price.

Nothing is stored, no usage is counted, no BYOK key is opened and no provider is called:
this module imports nothing that can open a key (it is request-side code).
"""

from __future__ import annotations

import asyncio
import functools
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from launchgate.billing.estimate import estimate_input_tokens
from launchgate.billing.prices import PriceTable, load_prices
from launchgate.kit.auth_context import AuthContext
from launchgate.kit.time import utcnow
from launchgate.models import Run
from launchgate.providers.schemas import DEFAULT_MAX_TOKENS, ChatRequest
from launchgate.runs import repository
from launchgate.runs.cache import PreparedSuite
from launchgate.runs.engine import merged_input
from launchgate.scorers.builtin.llm_judge import (
    JudgePrompt,
    build_prompt,
    cache_plan,
    sampling_plan,
    verdict_cache_key,
)

if TYPE_CHECKING:
    from launchgate.config import Settings

# How far back the correction looks: the organisation's latest final runs. Enough judged
# cases to average out one odd prompt, few enough that a dry run stays one quick read.
HISTORY_RUNS = 200
# A ratio outside these bounds says the history is broken (a provider counting something
# else), not that the heuristic is that far off; it is clamped rather than trusted.
RATIO_BOUNDS = (0.25, 4.0)

Item = tuple[str, dict[str, Any]]  # an output and its run input
ModelKey = tuple[str, str]  # provider, model
T = TypeVar("T")


@dataclass
class CaseEstimate:
    """One judge case over every item: its calls, corrected input tokens and cost range."""

    case_id: str
    name: str
    provider: str
    model: str | None
    calls_min: int = 0
    calls_max: int = 0
    input_tokens: int = 0  # at calls_max
    input_tokens_min: int = 0  # at calls_min
    output_tokens_max: int = 0
    input_token_ratio: float = 1.0
    cost_usd_min: float | None = 0.0
    cost_usd_max: float | None = 0.0
    priced: bool = field(default=True, repr=False)

    def to_json(self) -> dict[str, Any]:
        return {
            "case_id": self.case_id,
            "name": self.name,
            "provider": self.provider,
            "model": self.model,
            "calls_min": self.calls_min,
            "calls_max": self.calls_max,
            "input_tokens": self.input_tokens,
            "output_tokens_max": self.output_tokens_max,
            "input_token_ratio": self.input_token_ratio,
            "cost_usd_min": self.cost_usd_min,
            "cost_usd_max": self.cost_usd_max,
        }


# Every item's prompt is built, measured and keyed: about 50 µs an item and judge case,
# half a second a case for a batch at its 10,000-item limit. Past this many, in a thread,
# so that the event loop keeps serving meanwhile.
OFFLOAD_PROMPTS = 200


async def estimate(
    session: AsyncSession,
    settings: Settings,
    auth: AuthContext,
    prepared: PreparedSuite,
    items: Sequence[Item],
) -> dict[str, Any]:
    """The dry-run answer for ``items`` scored against the prepared suite. Reads only."""
    snapshot = prepared.snapshot
    judged = [c for c in snapshot["cases"] if c["scorer"]["type"] == "llm_judge"]
    models = settings.judge_models()
    offload = len(items) * len(judged) > OFFLOAD_PROMPTS
    requests = await _computed(offload, _requests, judged, models, items)
    ratios = await token_ratios(session, auth.org_id, models) if judged else {}
    # The verdict-cache keys of these requests found (unexpired) in the organisation's
    # cache: read only, never stored.
    wanted = await _computed(offload, _cache_keys, judged, requests)
    cached: set[str] = set()
    if wanted:
        cached = set(await repository.cached_verdicts(session, auth.org_id, wanted, utcnow()))
    prices = price_table(settings.prices_file)
    cases = await _computed(offload, _cases, judged, requests, ratios, cached, prices)
    return _answer(prepared, len(items), cases)


async def _computed(offload: bool, compute: Callable[..., T], *args: Any) -> T:
    return await asyncio.to_thread(compute, *args) if offload else compute(*args)


def _requests(
    judged: list[dict[str, Any]], models: dict[str, str | None], items: Sequence[Item]
) -> dict[str, list[tuple[ChatRequest | None, JudgePrompt]]]:
    return {
        case["id"]: [_request(case, models, output, run_input) for output, run_input in items]
        for case in judged
    }


def _cases(
    judged: list[dict[str, Any]],
    requests: dict[str, list[tuple[ChatRequest | None, JudgePrompt]]],
    ratios: dict[ModelKey, float],
    cached: set[str],
    prices: PriceTable | None,
) -> list[CaseEstimate]:
    return [_case(case, requests[case["id"]], ratios, cached, prices) for case in judged]


def _request(
    case: dict[str, Any], models: dict[str, str | None], output: str, run_input: dict[str, Any]
) -> tuple[ChatRequest | None, JudgePrompt]:
    """The judge request a real run would send for this case and output (no request when
    the model is unknown: an azure_openai judge without ``model`` is a case error, no call)."""
    config = case["scorer"]["config"]
    prompt = build_prompt(config, output, merged_input(case["input"], run_input), case["expected"])
    model = config.get("model") or models.get(config["_provider"])
    if not model:
        return None, prompt
    request = ChatRequest(
        model=model,
        system=prompt.system,
        user=prompt.user,
        temperature=float(config.get("temperature", 0.0)),
        max_tokens=config.get("max_tokens"),
        json_schema=prompt.json_schema,
    )
    return request, prompt


def _case(
    case: dict[str, Any],
    requests: list[tuple[ChatRequest | None, JudgePrompt]],
    ratios: dict[ModelKey, float],
    cached: set[str],
    prices: PriceTable | None,
) -> CaseEstimate:
    config = case["scorer"]["config"]
    provider = config["_provider"]
    low, high, _ = sampling_plan(config)
    first = next((request for request, _ in requests if request is not None), None)
    model = first.model if first is not None else None
    ratio = ratios.get((provider, model), 1.0) if model else 1.0
    out = CaseEstimate(case["id"], case["name"], provider, model, input_token_ratio=ratio)
    for request, prompt in requests:
        if request is None:
            continue
        tokens = round(estimate_input_tokens(request) * ratio)
        calls_min = 0 if _cache_key(config, case, request, prompt) in cached else low
        out.calls_min += calls_min
        out.calls_max += high
        out.input_tokens += tokens * high
        out.input_tokens_min += tokens * calls_min
        out.output_tokens_max += (request.max_tokens or DEFAULT_MAX_TOKENS) * high
    if model is not None and out.calls_max:
        out.cost_usd_min = _cost(prices, provider, model, out.input_tokens_min, 0)
        out.cost_usd_max = _cost(prices, provider, model, out.input_tokens, out.output_tokens_max)
    return out


def _cost(
    prices: PriceTable | None, provider: str, model: str, input_tokens: int, output_tokens: int
) -> float | None:
    if prices is None:
        return None
    cost = prices.cost(provider, model, input_tokens, output_tokens, 0)
    return None if cost is None else round(cost, 6)


def _answer(prepared: PreparedSuite, items: int, cases: list[CaseEstimate]) -> dict[str, Any]:
    suite = prepared.snapshot["suite"]
    mins = [c.cost_usd_min for c in cases]
    maxes = [c.cost_usd_max for c in cases]
    cost: dict[str, float] | None = None
    if all(v is not None for v in mins + maxes):
        cost = {
            "min": round(sum(v for v in mins if v is not None), 6),
            "max": round(sum(v for v in maxes if v is not None), 6),
        }
    return {
        "dry_run": True,
        "suite": {"id": str(prepared.suite_id), "slug": suite["slug"]},
        "items": items,
        "judge_calls": {
            "min": sum(c.calls_min for c in cases),
            "max": sum(c.calls_max for c in cases),
        },
        "input_tokens": sum(c.input_tokens for c in cases),
        "output_tokens_max": sum(c.output_tokens_max for c in cases),
        "cost_usd": cost,
        "unpriced_models": sorted(
            {f"{c.provider}/{c.model}" for c in cases if c.calls_max and c.cost_usd_max is None}
        ),
        "by_case": [c.to_json() for c in cases],
    }


# --- The correction: actual / estimated input tokens, per provider and model. ---------------


async def token_ratios(
    session: AsyncSession, org_id: uuid.UUID, models: dict[str, str | None]
) -> dict[ModelKey, float]:
    """Per provider and model, the organisation's actual input tokens over the estimated
    ones, summed over the judged cases of its latest ``HISTORY_RUNS`` final runs (each
    judged case stores both in ``usage``). Models without history are absent (ratio 1.0).

    Keyed by the model the scorer asked for (its ``model``, else the provider's default in
    ``models``), as a dry run looks it up: providers answer with a dated snapshot name
    (``gpt-4o`` → ``gpt-4o-2024-08-06``), which ``usage.model`` records."""
    rows = await session.execute(
        select(Run.scores, Run.snapshot)
        .where(Run.org_id == org_id, Run.status.in_(repository.FINAL))
        .order_by(Run.created_at.desc())
        .limit(HISTORY_RUNS)
    )
    actual: dict[ModelKey, int] = {}
    estimated: dict[ModelKey, int] = {}
    for scores, snapshot in rows.all():
        asked = _asked_models(snapshot, models)
        for score in scores or []:
            usage = score.get("usage") if isinstance(score, dict) else None
            if not isinstance(usage, dict) or not usage.get("estimated_input_tokens"):
                continue
            provider = str(usage.get("provider"))
            key = (provider, asked.get(str(score.get("case_id"))) or str(usage.get("model")))
            actual[key] = actual.get(key, 0) + int(usage.get("input_tokens") or 0)
            estimated[key] = estimated.get(key, 0) + int(usage["estimated_input_tokens"])
    low, high = RATIO_BOUNDS
    return {key: round(min(high, max(low, actual[key] / estimated[key])), 4) for key in actual}


def _asked_models(snapshot: Any, models: dict[str, str | None]) -> dict[str, str | None]:
    """case id → the model its judge scorer asked for, from a run's snapshot."""
    asked: dict[str, str | None] = {}
    for case in (snapshot or {}).get("cases", []) if isinstance(snapshot, dict) else []:
        config = case.get("scorer", {}).get("config", {})
        if case.get("scorer", {}).get("type") == "llm_judge":
            asked[str(case.get("id"))] = config.get("model") or models.get(config.get("_provider"))
    return asked


# --- The opt-in verdict cache: a cached case may make no call. ------------------------------


def _cache_keys(
    judged: list[dict[str, Any]],
    requests: dict[str, list[tuple[ChatRequest | None, JudgePrompt]]],
) -> set[str]:
    return {
        _cache_key(case["scorer"]["config"], case, request, prompt)
        for case in judged
        if case["scorer"]["config"].get("cache_ttl_s")
        for request, prompt in requests[case["id"]]
        if request is not None
    }


def _cache_key(
    config: dict[str, Any], case: dict[str, Any], request: ChatRequest, prompt: JudgePrompt
) -> str:
    """The verdict's cache key as the judge makes it (one pure function for both). Cases
    without the cache get a key that no stored verdict has."""
    if not config.get("cache_ttl_s"):
        return ""
    return verdict_cache_key(
        config["_provider"],
        request.model,
        prompt,
        request.temperature,
        cache_plan(config, case["threshold"]),
    )


# --- Prices ---------------------------------------------------------------------------------


@functools.lru_cache(maxsize=4)
def price_table(path: Path | None) -> PriceTable:
    """The shipped price table with the operator's file over it, read once per path."""
    return load_prices(path)
