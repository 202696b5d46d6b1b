"""What each provider's wire format must supply, and the helpers the dialects share.

A `Dialect` knows one provider's auth header, header checks, body validation, success
bodies and error bodies. `app.py` runs the same request pipeline for all of them.
"""

from __future__ import annotations

import math
import re
import secrets
import string
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from launchgate.testing.fake_provider.state import Answer, Scripted, State

ALPHANUMERIC = string.ascii_letters + string.digits


def random_id(length: int, alphabet: str = ALPHANUMERIC) -> str:
    return "".join(secrets.choice(alphabet) for _ in range(length))


def count_tokens(text: str) -> int:
    """A tokenizer-free estimate, about four characters a token like English BPE text."""
    return max(1, math.ceil(len(text) / 4))


_CACHED = re.compile(r"FAKE_CACHED\s*=\s*(\d+)")


def cached_tokens(prompt: str, prompt_tokens: int) -> int:
    """How many of the prompt's tokens to report as read from the provider's prompt cache:
    the last ``FAKE_CACHED=N`` marker in the prompt (at most ``prompt_tokens``), else 0.
    Deterministic, so a test can price the cached part exactly."""
    found = _CACHED.findall(prompt)
    return min(int(found[-1]), prompt_tokens) if found else 0


def seconds_text(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else str(value)


def text_of(content: Any) -> str:
    """The text inside a message `content`: a string, or a list of text parts/blocks."""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "\n".join(text_of(part) for part in content)
    if isinstance(content, dict):
        return str(content.get("text") or "") + text_of(content.get("content"))
    return ""


class Dialect:
    """One provider's wire format. Subclasses override what differs."""

    provider: str = ""
    sends_retry_after_header = True

    def __init__(self, state: State) -> None:
        self.state = state

    def json(self, status: int, body: Any, headers: dict[str, str] | None = None) -> Response:
        return JSONResponse(body, status_code=status, headers={**self.headers(), **(headers or {})})

    def headers(self) -> dict[str, str]:
        """Headers every response of this provider carries (request ids and the like)."""
        return {}

    # -- request checks, in pipeline order -----------------------------------------------

    def credential(self, request: Request) -> str | None:
        raise NotImplementedError

    def precheck(self, request: Request) -> Response | None:
        """A check the real service makes before it looks at the key."""
        return None

    def missing_key(self) -> Response:
        raise NotImplementedError

    def invalid_key(self, key: str) -> Response:
        raise NotImplementedError

    def check_headers(self, request: Request) -> Response | None:
        return None

    def bad_json(self) -> Response:
        raise NotImplementedError

    def validate(self, body: dict[str, Any]) -> Response | None:
        return None

    # -- answers -------------------------------------------------------------------------

    def models(self, request: Request, name: str | None = None) -> Response:
        raise NotImplementedError

    def prompt_text(self, body: dict[str, Any]) -> str:
        raise NotImplementedError

    def chat(self, body: dict[str, Any], model: str, answer: Answer, prompt: str) -> Response:
        raise NotImplementedError

    # -- scheduled errors ----------------------------------------------------------------

    def scripted(self, item: Scripted, request: Request, model: str, key: str | None) -> Response:
        if item.kind == "custom":
            return self.json(item.status, item.body, item.headers)
        if item.kind == "auth":
            return self.invalid_key(key or "")
        builders = {
            "rate_limit": self.rate_limited,
            "quota": self.quota_exhausted,
            "server_error": self.server_error,
            "overloaded": self.overloaded,
        }
        response = builders[item.kind](item, request, model)
        if item.retry_after is not None and self.sends_retry_after_header:
            response.headers["retry-after"] = seconds_text(item.retry_after)
        response.headers.update(item.headers)
        return response

    def rate_limited(self, item: Scripted, request: Request, model: str) -> Response:
        raise NotImplementedError

    def quota_exhausted(self, item: Scripted, request: Request, model: str) -> Response:
        raise NotImplementedError

    def server_error(self, item: Scripted, request: Request, model: str) -> Response:
        raise NotImplementedError

    def overloaded(self, item: Scripted, request: Request, model: str) -> Response:
        raise NotImplementedError
