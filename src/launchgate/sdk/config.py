"""Where the SDK and ``launchgate run`` find their API key and base URL (SPEC §11).

Each of the two values is looked up on its own, first hit wins: the explicit argument,
the environment (``LAUNCHGATE_API_KEY`` / ``LAUNCHGATE_API_URL``), ``./.launchgaterc``,
then ``~/.launchgaterc`` (JSON ``{"apiKey": ..., "baseUrl": ...}``); the base URL falls
back to the hosted API. Empty strings count as absent, so a CI template that passes an
empty input does not shadow the next source.

Fail-open (a ``skipped`` run that counts as passed when a configured server stays
unreachable) is on unless the argument or ``LAUNCHGATE_FAIL_OPEN=false`` turns it off.

Messages name the explicit settings the way the caller wrote them: the SDK's keyword
arguments (``api_key=``), or the CLI's flags (``--api-key``) when it passes its own
``ArgumentNames``.
"""

from __future__ import annotations

import json
import math
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from launchgate.sdk.errors import ConfigError

DEFAULT_BASE_URL = "https://api.launchgate.ai"
RC_NAME = ".launchgaterc"
KEY_ENV = "LAUNCHGATE_API_KEY"
URL_ENV = "LAUNCHGATE_API_URL"
FAIL_OPEN_ENV = "LAUNCHGATE_FAIL_OPEN"
SELF_HOSTED_URL = "http://127.0.0.1:4001"  # where `launchgate serve` listens by default
_FALSE = frozenset({"false", "0", "no", "off"})
_TRUE = frozenset({"true", "1", "yes", "on"})


@dataclass(frozen=True)
class ArgumentNames:
    """How the caller spells its explicit settings, for messages that say what to change."""

    api_key: str = "api_key="
    base_url: str = "base_url="
    strict: str = "fail_open=False"
    allow_empty_output: str = "pass allow_empty_output=True"


SDK_NAMES = ArgumentNames()


@dataclass(frozen=True)
class ClientConfig:
    """The resolved settings, and where each came from (for error messages, never logs of
    the key itself)."""

    api_key: str
    base_url: str
    api_key_source: str
    base_url_source: str
    fail_open: bool = True
    names: ArgumentNames = SDK_NAMES

    def __repr__(self) -> str:
        return (
            f"ClientConfig(api_key='{self.api_key[:12]}…', base_url={self.base_url!r}, "
            f"api_key_source={self.api_key_source!r}, "
            f"base_url_source={self.base_url_source!r}, fail_open={self.fail_open!r})"
        )

    def where_the_url_came_from(self) -> str:
        """The base URL's source and how to change it, for a message about a URL that does
        not work. The hosted default is the usual culprit for a self-hosted user."""
        if self.base_url_source == "default":
            return (
                f"{DEFAULT_BASE_URL} is the default, the hosted service; for a server of your "
                f"own set {URL_ENV} (or {self.names.base_url}), e.g. {SELF_HOSTED_URL}, "
                "where `launchgate serve` listens by default"
            )
        return f"the base URL comes from {self.base_url_source}"


def resolve_config(
    api_key: str | None = None,
    base_url: str | None = None,
    *,
    fail_open: bool | None = None,
    env: Mapping[str, str] | None = None,
    cwd: Path | None = None,
    home: Path | None = None,
    names: ArgumentNames = SDK_NAMES,
) -> ClientConfig:
    """Resolve the key, the base URL and fail-open; ``env``, ``cwd`` and ``home`` default
    to the process's; ``fail_open=None`` reads ``LAUNCHGATE_FAIL_OPEN`` (default on).

    Raises ``ConfigError`` when no key is found anywhere, or a source is malformed.
    """
    env = os.environ if env is None else env
    rc_files = [(cwd or Path.cwd()) / RC_NAME, (home or Path.home()) / RC_NAME]
    sources = _Sources(rc_files)
    key, key_source = _first(
        [(names.api_key, api_key), (KEY_ENV, env.get(KEY_ENV))], sources, "apiKey"
    )
    if key is None:
        raise ConfigError(
            f"No LaunchGate API key: pass {names.api_key}, set {KEY_ENV}, "
            f'or put {{"apiKey": "lg_live_…"}} in ./{RC_NAME} or ~/{RC_NAME}',
            code="NO_API_KEY",
        )
    url, url_source = _first(
        [(names.base_url, base_url), (URL_ENV, env.get(URL_ENV))], sources, "baseUrl"
    )
    return ClientConfig(
        key.strip(),
        normalise_base_url(url or DEFAULT_BASE_URL, url_source),
        key_source or names.api_key,
        url_source or "default",
        _fail_open(fail_open, env.get(FAIL_OPEN_ENV)),
        names,
    )


def normalise_base_url(url: str, source: str | None = None) -> str:
    """``https://host/`` and ``https://host/v1`` both mean ``https://host``: the SDK adds
    ``/v1`` itself, and users paste either. Anything that is not an http(s) URL with a host
    (a space, no host, a port that is not a number, a query) is a ``ConfigError`` here,
    before any request: a gate that cannot be reached must not be mistaken for an outage."""
    url = url.strip().rstrip("/")
    problem = _url_problem(url)
    if problem:
        where = f" (from {source})" if source else ""
        raise ConfigError(
            f"Invalid LaunchGate base URL {url!r}{where}: {problem}", code="BAD_BASE_URL"
        )
    return url.removesuffix("/v1")


def _url_problem(url: str) -> str | None:
    if not url.startswith(("http://", "https://")):
        return "it must start with http:// or https://"
    if any(char.isspace() or ord(char) < 32 or ord(char) == 127 for char in url):
        return "it contains a space or a control character"
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        return f"it cannot be parsed ({exc})"
    if not parts.hostname:
        return "it has no host"
    if port == 0:
        return "port 0 is not a port a server listens on"
    if parts.query or parts.fragment:
        return "it must not carry a query (?…) or a fragment (#…)"
    return None


def _fail_open(argument: bool | None, value: str | None) -> bool:
    """The argument wins; then ``LAUNCHGATE_FAIL_OPEN`` (true/false, 1/0, yes/no, on/off)."""
    if argument is not None:
        return argument
    text = (value or "").strip().lower()
    if not text or text in _TRUE:
        return True
    if text in _FALSE:
        return False
    raise ConfigError(f"{FAIL_OPEN_ENV} must be true or false, not {value!r}", code="BAD_FAIL_OPEN")


def _first(
    explicit: list[tuple[str, str | None]], sources: _Sources, field: str
) -> tuple[str | None, str | None]:
    for name, value in explicit:
        if value and value.strip():
            return value, name
    for path in sources.paths:
        value = sources.read(path).get(field)
        if isinstance(value, str) and value.strip():
            return value, str(path)
        if value is not None and not isinstance(value, str):
            raise ConfigError(f"{path}: {field} must be a string", code="BAD_RC_FILE")
    return None, None


class _Sources:
    """Reads each rc file at most once, and only when an earlier source had no answer."""

    def __init__(self, paths: list[Path]) -> None:
        self.paths = paths
        self._cache: dict[Path, dict[str, Any]] = {}

    def read(self, path: Path) -> dict[str, Any]:
        if path not in self._cache:
            self._cache[path] = _read_rc(path)
        return self._cache[path]


def _read_rc(path: Path) -> dict[str, Any]:
    try:
        text = path.read_text(encoding="utf-8")
    except (FileNotFoundError, NotADirectoryError, IsADirectoryError):
        return {}
    except OSError as exc:
        raise ConfigError(f"{path}: cannot be read ({exc.strerror})", code="BAD_RC_FILE") from None
    try:
        data = json.loads(text) if text.strip() else {}
    except json.JSONDecodeError as exc:
        raise ConfigError(
            f"{path}: not valid JSON (line {exc.lineno}: {exc.msg})", code="BAD_RC_FILE"
        ) from None
    if not isinstance(data, dict):
        raise ConfigError(
            f'{path}: must hold a JSON object like {{"apiKey": "…", "baseUrl": "…"}}',
            code="BAD_RC_FILE",
        )
    return data


BACKOFF_ENV = "LAUNCHGATE_RETRY_BACKOFF"


def retry_backoff(value: str | None) -> float:
    """The first retry's wait in seconds from ``LAUNCHGATE_RETRY_BACKOFF`` (1 s unset), as
    ``launchgate run`` and the pytest plugin read it. NaN or infinity would make a retry
    crash or wait for ever, so they are refused like a negative number."""
    if not value:
        return 1.0
    try:
        seconds = float(value)
    except ValueError:
        raise ConfigError(
            f"{BACKOFF_ENV} must be a number of seconds, not {value!r}", code="BAD_BACKOFF"
        ) from None
    if seconds < 0 or not math.isfinite(seconds):
        raise ConfigError(
            f"{BACKOFF_ENV} must be a finite number of seconds ≥ 0", code="BAD_BACKOFF"
        )
    return seconds
