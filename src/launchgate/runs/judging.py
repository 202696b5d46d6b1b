"""The LLM judge's I/O, worker side: the engine's ``Judge`` for one run.

Keys are looked up before scoring (reads only; the run's write comes after), opened for
each provider call and dropped with it. Every call goes through the organisation's
per-provider limiter and the retry policy of SPEC §7; what happened to each key (used,
refused by the provider) is collected for the run's completion to record.

Every call is paid for: before it, the organisation's monthly judge budget is checked (no
call once it is spent, billing/budget.py); after it, the provider's reported tokens are
priced (billing/prices.py) and added to the case's ``usage`` and ``cost_usd``, and to the
budget's live counter (docs/cost.md).
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from sqlalchemy.ext.asyncio import AsyncSession

from launchgate import providers
from launchgate.billing import service as billing
from launchgate.billing.budget import CODE as BUDGET_EXCEEDED
from launchgate.billing.budget import Budget, BudgetExceeded, counter_for
from launchgate.billing.costs import rounded
from launchgate.billing.estimate import estimate_input_tokens
from launchgate.billing.prices import PriceTable, load_prices
from launchgate.byok import resolver
from launchgate.byok.vault import VaultError
from launchgate.kit.time import utcnow
from launchgate.models import ByokKey
from launchgate.providers.errors import ProviderAuthError, ProviderError
from launchgate.providers.retry import call_with_retries
from launchgate.providers.schemas import ChatRequest
from launchgate.runs import repository
from launchgate.runs.engine import Judged, merged_input
from launchgate.scorers.builtin import ScoreResult
from launchgate.scorers.builtin.llm_judge import (
    JudgePrompt,
    VerdictError,
    build_prompt,
    cache_plan,
    one_line,
    parse_verdict,
    sampling_plan,
    verdict_cache_key,
)
from launchgate.scorers.builtin.sampling import decide, next_batch

if TYPE_CHECKING:
    from launchgate.runtime import WorkerRuntime

KeyRef = tuple[str, uuid.UUID | None]  # provider, the scorer's key_id (None: the default)


def judge_keys(snapshot: dict[str, Any]) -> set[KeyRef]:
    """The keys a run's judge cases will need."""
    refs = set()
    for case in snapshot["cases"]:
        scorer = case["scorer"]
        if scorer["type"] == "llm_judge":
            key_id = scorer["config"].get("key_id")
            refs.add((scorer["config"]["_provider"], uuid.UUID(key_id) if key_id else None))
    return refs


async def resolve_keys(
    session: AsyncSession, org_id: uuid.UUID, snapshot: dict[str, Any]
) -> dict[KeyRef, ByokKey | None]:
    """The key each of a snapshot's judge cases will use (None: no usable key). Read once
    for a run, or once for all the items of a batch, which share one snapshot."""
    keys: dict[KeyRef, ByokKey | None] = {}
    for provider, key_id in judge_keys(snapshot):
        try:
            keys[(provider, key_id)] = await resolver.key_for(session, org_id, provider, key_id)
        except resolver.NoUsableKey:
            keys[(provider, key_id)] = None
    return keys


async def open_budget(session: AsyncSession, runtime: WorkerRuntime, org_id: uuid.UUID) -> Budget:
    """The organisation's budget for a run (or a batch's items): read with the run, its
    live counter started from the stored month spend when there is a budget."""
    counter = counter_for(runtime.settings, runtime.sessions)
    limit = await billing.judge_budget(session, org_id)
    return await Budget.open(counter, org_id, limit, lambda: billing.month_spend(session, org_id))


@dataclass
class CaseUsage:
    """One judged case's calls, tokens and cost, summed over its judgements."""

    provider: str
    model: str
    calls: int = 0
    input_tokens: int = 0
    output_tokens: int = 0
    cached_input_tokens: int = 0
    estimated_input_tokens: int = 0
    cost_usd: Decimal | None = Decimal(0)
    over_budget: bool = False

    def add(self, reply: providers.ChatReply, estimated: int, cost: Decimal | None) -> None:
        self.calls += 1
        self.input_tokens += reply.input_tokens
        self.output_tokens += reply.output_tokens
        self.cached_input_tokens += reply.cached_input_tokens
        self.estimated_input_tokens += estimated
        self.cost_usd = None if cost is None or self.cost_usd is None else self.cost_usd + cost

    def wire(self) -> dict[str, Any]:
        return {
            "provider": self.provider,
            "model": self.model,
            "calls": self.calls,
            "input_tokens": self.input_tokens,
            "output_tokens": self.output_tokens,
            "cached_input_tokens": self.cached_input_tokens,
            "estimated_input_tokens": self.estimated_input_tokens,
        }


@dataclass
class RunJudge:
    """The ``Judge`` of one run; ``used`` and ``refused`` are keys to record afterwards.
    ``budget`` None: no budget is enforced (nor counted)."""

    runtime: WorkerRuntime
    org_id: uuid.UUID
    keys: dict[KeyRef, ByokKey | None]
    budget: Budget | None = None
    used: set[uuid.UUID] = field(default_factory=set)
    refused: set[uuid.UUID] = field(default_factory=set)
    # The opt-in cache: verdicts found before scoring, and new ones to store after it.
    cached: dict[str, tuple[float, dict[str, Any]]] = field(default_factory=dict)
    fresh: dict[str, tuple[float, dict[str, Any], int]] = field(default_factory=dict)

    @classmethod
    async def prepare(
        cls,
        session: AsyncSession,
        runtime: WorkerRuntime,
        org_id: uuid.UUID,
        snapshot: dict[str, Any],
        output: str,
        run_input: dict[str, Any],
    ) -> RunJudge:
        """Reads only — keys, the budget and cached verdicts — so nothing is locked while
        judging."""
        judge = cls(
            runtime,
            org_id,
            await resolve_keys(session, org_id, snapshot),
            await open_budget(session, runtime, org_id),
        )
        wanted = judge.cache_keys(snapshot, output, run_input)
        if wanted:
            judge.cached = await repository.cached_verdicts(session, org_id, set(wanted), utcnow())
        return judge

    def cache_keys(
        self, snapshot: dict[str, Any], output: str, run_input: dict[str, Any]
    ) -> list[str]:
        """The verdict-cache keys this run's judge cases could find (cached ones only)."""
        return [
            self._cache_key(
                case["scorer"]["config"],
                output,
                merged_input(case["input"], run_input),
                case["expected"],
                case["threshold"],
            )
            for case in snapshot["cases"]
            if case["scorer"]["type"] == "llm_judge" and case["scorer"]["config"].get("cache_ttl_s")
        ]

    @property
    def prices(self) -> PriceTable:
        return load_prices(self.runtime.settings.prices_file)

    def _model(self, config: dict[str, Any]) -> str | None:
        return config.get("model") or self.runtime.settings.judge_models()[config["_provider"]]

    def _cache_key(
        self,
        config: dict[str, Any],
        output: str,
        run_input: dict[str, Any],
        expected: Any,
        threshold: float,
    ) -> str:
        prompt = build_prompt(config, output, run_input, expected)
        return verdict_cache_key(
            config["_provider"],
            self._model(config) or "",
            prompt,
            float(config.get("temperature", 0.0)),
            cache_plan(config, threshold),
        )

    async def __call__(
        self,
        config: dict[str, Any],
        output: str,
        run_input: dict[str, Any],
        expected: Any,
        threshold: float,
    ) -> Judged:
        model = self._model(config)
        if model is None:  # no call could be made: the case is a configuration error
            return Judged(_error("An azure_openai judge needs `model`: the deployment name"), {})
        usage = CaseUsage(config["_provider"], model)
        judged = await self._judge(config, output, run_input, expected, threshold, model, usage)
        usage.model = str(judged.details.get("model") or model)
        code = BUDGET_EXCEEDED if usage.over_budget and judged.result.error else None
        cost = rounded(usage.cost_usd) if usage.calls else 0.0
        return Judged(
            judged.result, judged.details, judged.decision, usage.wire(), cost, error_code=code
        )

    async def _judge(
        self,
        config: dict[str, Any],
        output: str,
        run_input: dict[str, Any],
        expected: Any,
        threshold: float,
        model: str,
        usage: CaseUsage,
    ) -> Judged:
        provider = config["_provider"]
        key_id = config.get("key_id")
        key = self.keys.get((provider, uuid.UUID(key_id) if key_id else None))
        ttl = config.get("cache_ttl_s") or 0
        details: dict[str, Any] = {
            "provider": provider,
            "model": model,
            "attempts": 0,
            "input_tokens": 0,
            "output_tokens": 0,
            "latency_ms": 0.0,
            "waited_ms": 0.0,
        }
        built: list[JudgePrompt] = []

        def prompt() -> JudgePrompt:
            """Built once, when first needed: for a plain case that is inside its limiter
            slot, so a suite of 200 cases sends its first 20 calls without first building
            200 prompts."""
            if not built:
                built.append(build_prompt(config, output, run_input, expected))
                details["prompt_hash"] = built[0].prompt_hash
            return built[0]

        low, high, confidence = sampling_plan(config)
        key_for_cache = ""
        if ttl:
            key_for_cache = verdict_cache_key(
                provider,
                model,
                prompt(),
                float(config.get("temperature", 0.0)),
                cache_plan(config, threshold),
            )
            if key_for_cache in self.cached:
                score, stored = self.cached[key_for_cache]
                # The stored judgements decide again, exactly as they did when sampled:
                # the key holds the threshold and the sampling plan they were drawn for.
                samples = stored.get("sample_scores") or [score]
                decision = decide(
                    samples, threshold, max_samples=high, confidence=confidence, min_samples=low
                )
                if decision.status == "continue":  # cannot happen for a stored verdict
                    decision = decide(samples, threshold, max_samples=len(samples))
                reason = one_line(stored.get("reasoning", ""))
                shown = {k: v for k, v in stored.items() if k != "sample_scores"}
                return Judged(
                    ScoreResult(decision.mean, reason), shown | {"cached": True}, decision
                )
        if key is None:
            prompt()
            return Judged(_error(f"No active BYOK key for provider {provider}"), details)
        scores: list[float] = []
        while wanted := next_batch(len(scores), min_samples=low, max_samples=high):
            # A batch is asked for concurrently, each call through the limiter; a batch of
            # one (every plain case) without the task ``gather`` would wrap it in.
            samples = (
                self._sample(key, config, model, prompt, details, usage) for _ in range(wanted)
            )
            batch = [await next(samples)] if wanted == 1 else await asyncio.gather(*samples)
            for result in batch:
                if isinstance(result, ScoreResult):
                    return Judged(result, details)
            scores.extend(score for score in batch if not isinstance(score, ScoreResult))
            decision = decide(
                scores, threshold, max_samples=high, confidence=confidence, min_samples=low
            )
            if decision.status != "continue":
                break
        if ttl:  # only successful verdicts are kept, with every score to decide again
            self.fresh[key_for_cache] = (decision.mean, details | {"sample_scores": scores}, ttl)
        return Judged(ScoreResult(decision.mean, one_line(details["reasoning"])), details, decision)

    async def _sample(
        self,
        key: ByokKey,
        config: dict[str, Any],
        model: str,
        prompt: Callable[[], JudgePrompt],
        details: dict[str, Any],
        usage: CaseUsage,
    ) -> float | ScoreResult:
        """One judgement: its score, or the case's error result."""
        runtime = self.runtime
        http = runtime.http
        estimated: list[int] = []

        async def call() -> providers.ChatReply:
            built = prompt()
            request = ChatRequest(
                model=model,
                system=built.system,
                user=built.user,
                temperature=float(config.get("temperature", 0.0)),
                max_tokens=config.get("max_tokens"),
                json_schema=built.json_schema,
            )
            if not estimated:
                estimated.append(estimate_input_tokens(request))
            # Inside the limiter slot, right before the request (each retry too): a call
            # that waited for its slot while others spent the budget is not sent.
            if self.budget is not None:
                await self.budget.check()
            # Opened for this call only; the plaintext goes out of scope with it.
            sent = time.perf_counter()
            try:
                return await providers.chat(
                    http,
                    resolver.credential(runtime.vault, key),
                    runtime.provider_settings,
                    request,
                )
            finally:
                in_provider.append(time.perf_counter() - sent)

        in_provider: list[float] = []
        started = time.perf_counter()
        try:
            outcome = await call_with_retries(
                call,
                limiter=runtime.judge_limiter,
                org_id=str(self.org_id),
                provider=key.provider,
                policy=runtime.retry_policy,
                model=model,
            )
        except VaultError as exc:
            return _error(str(exc))
        except BudgetExceeded as exc:
            usage.over_budget = True
            return _error(str(exc))
        # latency: the provider's own time, every attempt; waited: for a limiter slot and
        # between retries, which says how busy the organisation's judge budget was.
        provider_s = sum(in_provider)
        details["latency_ms"] = round(details["latency_ms"] + provider_s * 1000, 1)
        details["waited_ms"] = round(
            details["waited_ms"] + max(0.0, time.perf_counter() - started - provider_s) * 1000, 1
        )
        details["attempts"] += outcome.attempts
        self.used.add(key.id)
        if outcome.error is not None:
            return self._failed(key, outcome.error, outcome.attempts)
        reply = outcome.value
        assert reply is not None
        details["model"] = reply.model or details["model"]
        details["input_tokens"] += reply.input_tokens
        details["output_tokens"] += reply.output_tokens
        await self._pay(key.provider, model, reply, estimated[0] if estimated else 0, usage)
        try:
            answer = parse_verdict(reply.text)
        except VerdictError as exc:
            details["raw"] = reply.text[:4000]
            return _error(f"The judge's answer is not a verdict: {exc}")
        details["reasoning"] = answer.reasoning
        return answer.score

    async def _pay(
        self,
        provider: str,
        requested: str,
        reply: providers.ChatReply,
        estimated: int,
        usage: CaseUsage,
    ) -> None:
        """Price one answered call by the model the provider says answered (a dated
        snapshot of the one asked for, often), else by the one asked for; None when
        neither has a price. Added to the case and, at once, to the budget's counter."""
        prices = self.prices
        counts = (reply.input_tokens, reply.output_tokens, reply.cached_input_tokens)
        cost = prices.exact_cost(provider, reply.model, *counts) if reply.model else None
        if cost is None:
            cost = prices.exact_cost(provider, requested, *counts)
        usage.add(reply, estimated, cost)
        if self.budget is not None and cost is not None:
            await self.budget.spend(float(cost))

    def _failed(self, key: ByokKey, error: ProviderError, attempts: int) -> ScoreResult:
        if isinstance(error, ProviderAuthError):
            self.refused.add(key.id)
            return _error(
                f"The provider refused the BYOK key '{key.name}' ({key.key_prefix}…): "
                f"{error.message}; the key is now marked invalid"
            )
        return _error(
            f"Judge call to {key.provider} failed after {attempts} attempt(s): {error.message}"
        )


def _error(reason: str) -> ScoreResult:
    return ScoreResult(score=0.0, reason=reason, error=True)
