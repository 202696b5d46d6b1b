"""`llm_judge`: an LLM grades the output against a rubric (SPEC §7).

Only the config is checked here. Asking the judge is I/O with a customer's key, so the run
engine does it; this package stays pure.
"""

from __future__ import annotations

import uuid
from typing import Any

from launchgate.scorers.builtin.result import ConfigReader, ScorerConfigError

PROVIDERS = ("openai", "anthropic", "google", "azure_openai")
ALLOWED_KEYS = (
    "rubric",
    "_provider",
    "provider",
    "model",
    "key_id",
    "temperature",
    "max_tokens",
    "samples",
    "cache_ttl_s",
)
MAX_SAMPLES = 10
MAX_TEMPERATURE = 2.0


def validate(config: object) -> dict[str, Any]:
    """Normalise a judge config; `provider` is folded into `_provider`."""
    reader = ConfigReader(config, ALLOWED_KEYS, scorer="llm_judge")
    rubric = reader.required_text("rubric")
    if not rubric.strip():
        raise ScorerConfigError("config.rubric must not be blank", path="config.rubric")
    normalised: dict[str, Any] = {
        "rubric": rubric,
        "_provider": _provider(reader),
        "temperature": reader.number("temperature", 0.0, minimum=0.0, maximum=MAX_TEMPERATURE),
        "samples": reader.integer("samples", 1, minimum=1, maximum=MAX_SAMPLES),
    }
    optional = {
        "model": reader.text("model"),
        "key_id": _key_id(reader),
        "max_tokens": reader.integer("max_tokens", None, minimum=1),
        "cache_ttl_s": reader.integer("cache_ttl_s", None, minimum=0),
    }
    return normalised | {key: value for key, value in optional.items() if value is not None}


def _provider(reader: ConfigReader) -> str:
    canonical = reader.choice("_provider", PROVIDERS, None)
    alias = reader.choice("provider", PROVIDERS, None)
    if canonical is not None and alias is not None and canonical != alias:
        raise ScorerConfigError(
            f"config.provider ({alias!r}) and config._provider ({canonical!r}) disagree",
            path="config.provider",
        )
    provider = canonical or alias
    if provider is None:
        raise ScorerConfigError(
            f"config._provider is required: one of {', '.join(PROVIDERS)}", path="config._provider"
        )
    return provider


def _key_id(reader: ConfigReader) -> str | None:
    raw = reader.text("key_id")
    if raw is None:
        return None
    try:
        return str(uuid.UUID(raw))
    except ValueError as exc:
        raise ScorerConfigError("config.key_id must be a UUID", path="config.key_id") from exc
