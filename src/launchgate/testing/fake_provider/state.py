"""The fake provider's mutable state: configuration, judge policy, error schedule, counters.

Pure Python, no web framework: the app reads and mutates one `State` from its event loop.
Keys are never stored here except the explicit allow-list a test configured; everything
that identifies a caller is a `key_fingerprint` (a short SHA-256 prefix).
"""

from __future__ import annotations

import hashlib
import json
import random
import re
from collections import deque
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

PROVIDERS = ("openai", "anthropic", "google", "azure_openai")
DEFAULT_KEY_PREFIXES = {
    "openai": "sk-test-",
    "anthropic": "sk-ant-test-",
    "google": "AIza-test-",
    "azure_openai": "azure-test-",
}
ERROR_KINDS = (
    "rate_limit",
    "quota",
    "server_error",
    "overloaded",
    "timeout",
    "drop",
    "garbage",
    "auth",
    "custom",
)
ENDPOINTS = ("any", "chat", "models")
GARBAGE_TEXT = "Honestly this looks pretty good to me, I'd say about a seven out of ten?"
RECORDED_REQUESTS = 500
NOISY_SUFFIX = "_NORMAL"
_NUMBER = r"[-+]?\d+(?:\.\d+)?"
_MISSING = object()


class ConfigError(ValueError):
    """A configure request that does not fit the documented JSON shape."""


def key_fingerprint(key: str) -> str:
    """The stable, non-reversible name the counters use for an API key."""
    return hashlib.sha256(key.encode()).hexdigest()[:16]


@dataclass(frozen=True)
class Answer:
    """What the fake model says: `text` for text slots, `payload` for tool-call inputs."""

    text: str
    payload: dict[str, Any] | None


@dataclass
class Policy:
    """How the fake judge scores: a fixed score, a score read from the prompt, or garbage.

    The ``from_prompt`` policy reads the last marker in the prompt: ``FAKE_SCORE=0.9``
    answers 0.9, ``FAKE_SCORE=garbage`` answers unparseable text, and the noisy
    ``FAKE_SCORE_NORMAL=0.7,0.1`` (mean, standard deviation) answers a fresh draw from
    that normal distribution, clipped to [0, 1], on every call. A marker whose value does
    not parse (a word, a negative standard deviation) is ignored, as if it were absent.
    """

    kind: str = "from_prompt"
    score: float = 1.0
    marker: str = "FAKE_SCORE"
    reasoning: str | None = None
    text: str = GARBAGE_TEXT

    @classmethod
    def from_json(cls, data: Any) -> Policy:
        data = _object(data, "policy")
        kind = data.get("kind", "from_prompt")
        if kind not in ("fixed", "from_prompt", "garbage"):
            raise ConfigError(f"policy.kind must be fixed, from_prompt or garbage, not {kind!r}")
        score = data.get("score", data.get("default_score", 1.0))
        if not isinstance(score, int | float) or isinstance(score, bool):
            raise ConfigError("policy.score must be a number")
        return cls(
            kind,
            float(score),
            str(data.get("marker", "FAKE_SCORE")),
            data.get("reasoning"),
            str(data.get("text", GARBAGE_TEXT)),
        )

    def answer(self, prompt: str, rng: random.Random | None = None) -> Answer:
        """The judge's answer to `prompt`; a noisy marker draws from `rng` (the state's)."""
        if self.kind == "garbage":
            return Answer(self.text, None)
        score: float = self.score
        if self.kind == "from_prompt":
            found = self.marker_value(prompt, rng or random.Random())
            if found == "garbage":
                return Answer(self.text, None)
            score = self.score if found is None else float(found)
        reasoning = self.reasoning or f"Fake judge ({self.kind} policy): the output earns {score}."
        payload = {"reasoning": reasoning, "score": score}
        return Answer(json.dumps(payload), payload)

    def marker_value(self, prompt: str, rng: random.Random) -> float | str | None:
        """The last well-formed marker's score, ``"garbage"``, or None when there is none.

        Exact and noisy markers compete by position: whichever comes last wins. Only the
        winning marker draws from `rng`, so each call makes at most one draw.
        """
        marker = re.escape(self.marker)
        exact = re.finditer(rf"{marker}\s*=\s*(garbage|{_NUMBER})", prompt)
        noisy = re.finditer(rf"{marker}{NOISY_SUFFIX}\s*=\s*({_NUMBER})\s*,\s*({_NUMBER})", prompt)
        found: list[tuple[int, str | tuple[float, float]]] = [(m.start(), m[1]) for m in exact]
        found += [(m.start(), (float(m[1]), float(m[2]))) for m in noisy if float(m[2]) >= 0]
        if not found:
            return None
        _, value = max(found, key=lambda item: item[0])
        if isinstance(value, tuple):
            mean, sd = value
            return min(1.0, max(0.0, rng.gauss(mean, sd)))
        return value if value == "garbage" else float(value)

    def to_json(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "score": self.score,
            "marker": self.marker,
            "reasoning": self.reasoning,
            "text": self.text,
        }


@dataclass
class Scripted:
    """One entry of a provider's error schedule, served to the next `count` matching calls."""

    kind: str
    count: int = 1
    endpoint: str = "any"
    retry_after: float | None = None
    seconds: float = 30.0
    status: int = 500
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)

    @classmethod
    def from_json(cls, data: Any) -> Scripted:
        data = _object(data, "schedule entry")
        kind = data.get("kind")
        if kind not in ERROR_KINDS:
            raise ConfigError(f"schedule kind must be one of {', '.join(ERROR_KINDS)}")
        endpoint = data.get("endpoint", "any")
        if endpoint not in ENDPOINTS:
            raise ConfigError("schedule endpoint must be any, chat or models")
        retry_after = data.get("retry_after", _MISSING)
        if retry_after is _MISSING:
            retry_after = 1 if kind == "rate_limit" else None
        headers = _object(data.get("headers", {}), "schedule headers")
        return cls(
            kind,
            _positive_int(data.get("count", 1)),
            endpoint,
            None if retry_after is None else float(retry_after),
            float(data.get("seconds", 30.0)),
            int(data.get("status", 500)),
            data.get("body"),
            {str(k): str(v) for k, v in headers.items()},
        )

    def matches(self, endpoint: str) -> bool:
        return self.endpoint in ("any", endpoint)

    def to_json(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "count": self.count,
            "endpoint": self.endpoint,
            "retry_after": self.retry_after,
            "seconds": self.seconds,
        }


@dataclass
class ProviderConfig:
    """Per-provider settings; `None` means "use the global value"."""

    key_prefixes: list[str]
    valid_keys: set[str] = field(default_factory=set)
    latency_ms: float | None = None
    policy: Policy | None = None
    deployments: set[str] | None = None
    schedule: deque[Scripted] = field(default_factory=deque)

    def accepts(self, key: str) -> bool:
        return key in self.valid_keys or any(key.startswith(p) for p in self.key_prefixes if p)


@dataclass
class Gauge:
    """Requests in flight now, and the most there ever were at once."""

    current: int = 0
    max: int = 0

    def enter(self) -> None:
        self.current += 1
        self.max = max(self.max, self.current)

    def to_json(self) -> dict[str, int]:
        return {"current_concurrent": self.current, "max_concurrent": self.max}


@dataclass
class Tally:
    """Counters of one provider or one key."""

    requests: int = 0
    gauge: Gauge = field(default_factory=Gauge)
    endpoints: dict[str, int] = field(default_factory=dict)
    statuses: dict[str, int] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {
            "requests": self.requests,
            **self.gauge.to_json(),
            "endpoints": dict(self.endpoints),
            "statuses": dict(self.statuses),
        }


class State:
    """Everything the fake provider knows; reset between tests through the admin API.

    `rng` is the noisy judge's random source. It is seeded with `seed` (None: fresh
    entropy) at start-up, whenever ``configure`` sets a seed, and on every reset, so the
    same seed and the same order of calls give the same scores. A configuration reset
    restores the seed the state was created with.
    """

    def __init__(self, seed: int | None = None) -> None:
        self.initial_seed = self.seed = seed
        self.reset()

    def reseed(self, seed: int | None) -> None:
        """Set the seed and restart the noisy judge's sequence of draws from it."""
        self.seed = seed
        self.rng = random.Random(seed)

    def reset(self, *, counters: bool = True, config: bool = True) -> None:
        self.reseed(self.initial_seed if config else self.seed)
        if config:
            self.latency_ms = 0.0
            self.policy = Policy()
            self.providers = {p: ProviderConfig([DEFAULT_KEY_PREFIXES[p]]) for p in PROVIDERS}
        if counters:
            self.total = 0
            self.gauge = Gauge()
            self.tallies = {p: Tally() for p in PROVIDERS}
            self.keys: dict[str, Tally] = {}
            self.key_providers: dict[str, str] = {}
            self.recorded: deque[dict[str, Any]] = deque(maxlen=RECORDED_REQUESTS)

    # -- configuration -------------------------------------------------------------------

    def configure(self, data: Any) -> None:
        data = _object(data, "configuration")
        seed = _seed(data["seed"]) if "seed" in data else self.seed
        if "latency_ms" in data:
            self.latency_ms = _latency(data["latency_ms"])
        if "policy" in data:
            self.policy = Policy.from_json(data["policy"])
        for name, settings in _object(data.get("providers", {}), "providers").items():
            self._configure_provider(_provider(name), _object(settings, name))
        for name, entries in _object(data.get("schedule", {}), "schedule").items():
            if not isinstance(entries, list):
                raise ConfigError("schedule.<provider> must be a list")
            queue = deque(Scripted.from_json(e) for e in entries)
            self.providers[_provider(name)].schedule = queue
        if "seed" in data:
            self.reseed(seed)

    def _configure_provider(self, name: str, data: dict[str, Any]) -> None:
        config = self.providers[name]
        if "latency_ms" in data:
            value = data["latency_ms"]
            config.latency_ms = None if value is None else _latency(value)
        if "policy" in data:
            config.policy = None if data["policy"] is None else Policy.from_json(data["policy"])
        if "key_prefixes" in data:
            config.key_prefixes = [str(p) for p in _list(data["key_prefixes"], "key_prefixes")]
        if "valid_keys" in data:
            config.valid_keys = {str(k) for k in _list(data["valid_keys"], "valid_keys")}
        if "deployments" in data:
            value = data["deployments"]
            config.deployments = None if value is None else {str(d) for d in _list(value, "d")}

    def config_view(self) -> dict[str, Any]:
        """The configuration as JSON; allow-listed keys are counted, never shown."""
        return {
            "latency_ms": self.latency_ms,
            "seed": self.seed,
            "policy": self.policy.to_json(),
            "providers": {
                name: {
                    "latency_ms": c.latency_ms,
                    "policy": c.policy.to_json() if c.policy else None,
                    "key_prefixes": list(c.key_prefixes),
                    "valid_keys_count": len(c.valid_keys),
                    "deployments": sorted(c.deployments) if c.deployments is not None else None,
                    "schedule": [s.to_json() for s in c.schedule],
                }
                for name, c in self.providers.items()
            },
        }

    def latency_for(self, provider: str) -> float:
        own = self.providers[provider].latency_ms
        return (self.latency_ms if own is None else own) / 1000

    def policy_for(self, provider: str) -> Policy:
        return self.providers[provider].policy or self.policy

    def take_scripted(self, provider: str, endpoint: str) -> Scripted | None:
        """The next scheduled response for this call, consuming one use of it."""
        queue = self.providers[provider].schedule
        for item in queue:
            if item.matches(endpoint):
                item.count -= 1
                if item.count <= 0:
                    queue.remove(item)
                return item
        return None

    # -- counters ------------------------------------------------------------------------

    @contextmanager
    def in_flight(self, provider: str, endpoint: str, key: str | None) -> Iterator[list[Tally]]:
        """Count one call while it runs; yields the tallies `record` should update.

        The objects are captured here, so a reset in the middle of a call cannot make a
        gauge go negative.
        """
        tallies = [self.tallies[provider]]
        if key:
            fingerprint = key_fingerprint(key)
            tallies.append(self.keys.setdefault(fingerprint, Tally()))
            self.key_providers[fingerprint] = provider
        gauge = self.gauge
        self.total += 1
        gauge.enter()
        for tally in tallies:
            tally.requests += 1
            tally.endpoints[endpoint] = tally.endpoints.get(endpoint, 0) + 1
            tally.gauge.enter()
        try:
            yield tallies
        finally:
            gauge.current -= 1
            for tally in tallies:
                tally.gauge.current -= 1

    def record(self, tallies: list[Tally], entry: dict[str, Any]) -> None:
        status = str(entry["status"])
        for tally in tallies:
            tally.statuses[status] = tally.statuses.get(status, 0) + 1
        self.recorded.append(entry)

    def counters_view(self) -> dict[str, Any]:
        return {
            "total_requests": self.total,
            **self.gauge.to_json(),
            "providers": {name: tally.to_json() for name, tally in self.tallies.items()},
            "keys": {
                fp: {"provider": self.key_providers[fp], **tally.to_json()}
                for fp, tally in self.keys.items()
            },
            "scheduled_remaining": {
                name: sum(s.count for s in c.schedule) for name, c in self.providers.items()
            },
        }


def _object(value: Any, what: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise ConfigError(f"{what} must be a JSON object")
    return value


def _list(value: Any, what: str) -> list[Any]:
    if not isinstance(value, list):
        raise ConfigError(f"{what} must be a list")
    return value


def _provider(name: str) -> str:
    if name not in PROVIDERS:
        raise ConfigError(f"unknown provider {name!r}; expected one of {', '.join(PROVIDERS)}")
    return name


def _latency(value: Any) -> float:
    if not isinstance(value, int | float) or isinstance(value, bool) or value < 0:
        raise ConfigError("latency_ms must be a non-negative number")
    return float(value)


def _seed(value: Any) -> int | None:
    if value is None or (isinstance(value, int) and not isinstance(value, bool)):
        return value
    raise ConfigError("seed must be an integer or null")


def _positive_int(value: Any) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or value < 1:
        raise ConfigError("count must be a positive integer")
    return value
