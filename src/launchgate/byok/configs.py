"""Per-provider ``config`` of a BYOK key: non-secret settings, validated when written."""

from __future__ import annotations

import asyncio
from typing import Any

from launchgate.errors import ValidationFailed
from launchgate.providers.urls import UnsafeProviderUrl, check_public_https_url

AZURE_API_VERSION = "2024-10-21"
_ALLOWED: dict[str, tuple[str, ...]] = {
    "openai": ("base_url", "organization"),
    "anthropic": (),
    "google": (),
    "azure_openai": ("endpoint", "api_version"),
}
_URL_KEYS = ("base_url", "endpoint")


def _invalid(field: str, message: str) -> ValidationFailed:
    return ValidationFailed(
        f"config.{field}: {message}", details=[{"field": f"config.{field}", "message": message}]
    )


async def normalise(
    provider: str, config: dict[str, Any] | None, *, allow_private: bool
) -> dict[str, Any]:
    """Unknown keys, a missing Azure endpoint, and URLs that are not public https
    (SPEC §6: no private, loopback or link-local targets unless the operator allows it)
    are refused; defaults are filled in."""
    config = dict(config or {})
    for key in config:
        if key not in _ALLOWED[provider]:
            raise _invalid(key, f"not a setting of {provider} keys")
    if provider == "azure_openai":
        if "endpoint" not in config:
            raise _invalid("endpoint", "required for azure_openai keys")
        config.setdefault("api_version", AZURE_API_VERSION)
    for key in _URL_KEYS:
        if key in config:
            try:
                # Resolving a name blocks: off the event loop.
                checked = await asyncio.to_thread(
                    check_public_https_url, config[key], allow_private=allow_private
                )
                config[key] = checked.url
            except UnsafeProviderUrl as exc:
                raise _invalid(key, str(exc)) from None
    return config
