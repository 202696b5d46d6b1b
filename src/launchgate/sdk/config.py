"""Where the SDK and ``launchgate run`` find their API key and base URL (SPEC §11).

Each of the two values is looked up on its own, first hit wins: the explicit argument,
the environment (``LAUNCHGATE_API_KEY`` / ``LAUNCHGATE_API_URL``), ``./.launchgaterc``,
then ``~/.launchgaterc`` (JSON ``{"apiKey": ..., "baseUrl": ...}``); the base URL falls
back to the hosted API. Empty strings count as absent, so a CI template that passes an
empty input does not shadow the next source.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from launchgate.sdk.errors import ConfigError

DEFAULT_BASE_URL = "https://api.launchgate.ai"
RC_NAME = ".launchgaterc"
KEY_ENV = "LAUNCHGATE_API_KEY"
URL_ENV = "LAUNCHGATE_API_URL"


@dataclass(frozen=True)
class ClientConfig:
    """The resolved settings, and where each came from (for error messages, never logs of
    the key itself)."""

    api_key: str
    base_url: str
    api_key_source: str
    base_url_source: str

    def __repr__(self) -> str:
        return (
            f"ClientConfig(api_key='{self.api_key[:12]}…', base_url={self.base_url!r}, "
            f"api_key_source={self.api_key_source!r}, "
            f"base_url_source={self.base_url_source!r})"
        )


def resolve_config(
    api_key: str | None = None,
    base_url: str | None = None,
    *,
    env: Mapping[str, str] | None = None,
    cwd: Path | None = None,
    home: Path | None = None,
) -> ClientConfig:
    """Resolve the key and base URL; ``env``, ``cwd`` and ``home`` default to the process's.

    Raises ``ConfigError`` when no key is found anywhere, or a source is malformed.
    """
    env = os.environ if env is None else env
    rc_files = [(cwd or Path.cwd()) / RC_NAME, (home or Path.home()) / RC_NAME]
    sources = _Sources(rc_files)
    key, key_source = _first(
        [("argument", api_key), (KEY_ENV, env.get(KEY_ENV))], sources, "apiKey"
    )
    if key is None:
        raise ConfigError(
            f"No LaunchGate API key: pass one as an argument (--api-key), set {KEY_ENV}, "
            f'or put {{"apiKey": "lg_live_…"}} in ./{RC_NAME} or ~/{RC_NAME}',
            code="NO_API_KEY",
        )
    url, url_source = _first(
        [("argument", base_url), (URL_ENV, env.get(URL_ENV))], sources, "baseUrl"
    )
    return ClientConfig(
        key.strip(),
        normalise_base_url(url or DEFAULT_BASE_URL, url_source),
        key_source or "argument",
        url_source or "default",
    )


def normalise_base_url(url: str, source: str | None = None) -> str:
    """``https://host/`` and ``https://host/v1`` both mean ``https://host``: the SDK adds
    ``/v1`` itself, and users paste either."""
    url = url.strip().rstrip("/")
    if not url.startswith(("http://", "https://")) or url in ("http:", "https:"):
        where = f" (from {source})" if source else ""
        raise ConfigError(
            f"Base URL must start with http:// or https://: {url!r}{where}", code="BAD_BASE_URL"
        )
    return url.removesuffix("/v1")


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
