"""The provider-neutral shapes of one chat call: what we ask, what comes back."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

_NAME_UNSAFE = re.compile(r"[^A-Za-z0-9_-]")
DEFAULT_MAX_TOKENS = 1024


@dataclass(frozen=True)
class ChatRequest:
    """A single-turn request: a system prompt, one user message, optional structured output.

    ``json_schema`` is ``{"name": ..., "schema": {JSON Schema}}``; when given, every
    provider is forced to answer with JSON matching it (JSON-schema response format,
    a forced tool call, or Gemini's response schema).
    """

    model: str
    system: str
    user: str
    temperature: float = 0.0
    max_tokens: int | None = None
    json_schema: Mapping[str, Any] | None = None

    def __post_init__(self) -> None:
        if not self.model.strip():
            raise ValueError("a chat request needs a model")
        if self.json_schema is not None and not (
            isinstance(self.json_schema.get("schema"), Mapping) and self.json_schema.get("name")
        ):
            raise ValueError("json_schema must be {'name': str, 'schema': {...}}")

    @property
    def schema_name(self) -> str:
        """The schema's name in the form OpenAI and Anthropic accept: [A-Za-z0-9_-]{1,64}."""
        name = str(self.json_schema["name"]) if self.json_schema else "answer"
        return _NAME_UNSAFE.sub("_", name)[:64] or "answer"

    @property
    def schema(self) -> dict[str, Any] | None:
        return dict(self.json_schema["schema"]) if self.json_schema else None


@dataclass(frozen=True)
class ChatReply:
    """The model's answer: ``text`` is the structured JSON (or tool input) serialised.

    ``input_tokens`` counts every input token, those read from the provider's prompt cache
    included; ``cached_input_tokens`` is that cached part, billed at the cache price."""

    text: str
    model: str
    input_tokens: int
    output_tokens: int
    raw: dict[str, Any] = field(repr=False, default_factory=dict)
    cached_input_tokens: int = 0
