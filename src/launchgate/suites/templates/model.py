"""The shape of a template, and small builders for the configs templates use."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

# The provider written into template judge configs; the org's default key is used at run time.
DEFAULT_JUDGE_PROVIDER = "openai"


@dataclass(frozen=True)
class TemplateScorer:
    """A scorer a template creates; cases refer to it by `key`."""

    key: str
    name: str
    type: str
    config: dict[str, Any]
    dual_sided: bool = False
    precision_threshold: float | None = None
    recall_threshold: float | None = None


@dataclass(frozen=True)
class TemplateCase:
    """An eval case a template creates, scored by the template scorer named `scorer`."""

    name: str
    scorer: str
    input: dict[str, Any] = field(default_factory=dict)
    expected: Any = None
    threshold: float = 0.5
    weight: float = 1.0


@dataclass(frozen=True)
class Template:
    """A ready-to-run suite: metadata, scorers and cases, in case order."""

    slug: str
    name: str
    description: str
    category: str
    pass_threshold: float
    scorers: tuple[TemplateScorer, ...]
    cases: tuple[TemplateCase, ...]

    @property
    def uses_llm(self) -> bool:
        """True when running it needs a provider key (any `llm_judge` scorer)."""
        return any(scorer.type == "llm_judge" for scorer in self.scorers)


def judge(rubric: str) -> dict[str, Any]:
    return {"rubric": rubric, "_provider": DEFAULT_JUDGE_PROVIDER, "temperature": 0, "samples": 1}


def any_of(values: list[str]) -> dict[str, Any]:
    """A case-insensitive contains config: at least one of the values occurs."""
    return {"values": values, "mode": "any", "case_sensitive": False, "should_contain": True}


def none_of(values: list[str]) -> dict[str, Any]:
    """A case-insensitive contains config: none of the values occurs."""
    return {"values": values, "mode": "any", "case_sensitive": False, "should_contain": False}


def regex_config(pattern: str, *, flags: str = "", should_match: bool = True) -> dict[str, Any]:
    return {"pattern": pattern, "flags": flags, "should_match": should_match}
