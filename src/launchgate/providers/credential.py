"""What a provider call needs besides the HTTP client: an opened key and the settings.

``Credential`` holds a plaintext provider key for the length of a call. It is built by the
worker-side resolver and passed down; it refuses to show the key in ``repr``/``str``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # only for the annotation: providers never read settings themselves
    from launchgate.config import Settings

PROVIDERS = ("openai", "anthropic", "google", "azure_openai")
AZURE_DEFAULT_API_VERSION = "2024-10-21"
_SHOWN = 8


@dataclass(frozen=True)
class Credential:
    """An opened provider key and its non-secret config.

    ``config`` keys: openai ``base_url``, ``organization``; azure_openai ``endpoint``,
    ``api_version`` (default ``2024-10-21``).
    """

    provider: str
    secret: str = field(repr=False)
    config: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.provider not in PROVIDERS:
            raise ValueError(f"unknown provider {self.provider!r}: one of {', '.join(PROVIDERS)}")
        if not isinstance(self.secret, str) or not self.secret.strip():
            raise ValueError("a credential needs a non-empty key")

    @property
    def masked(self) -> str:
        """The first 8 characters and a mask; only a mask when the key is too short to spare 8."""
        if len(self.secret) < 3 * _SHOWN:
            return "***"
        return self.secret[:_SHOWN] + "***"

    def __repr__(self) -> str:
        return (
            f"Credential(provider={self.provider!r}, secret={self.masked!r}, "
            f"config={dict(self.config)!r})"
        )

    __str__ = __repr__

    def option(self, name: str) -> str | None:
        """A config value as a stripped string, or None when absent or blank."""
        value = self.config.get(name)
        if value is None:
            return None
        text = str(value).strip()
        return text or None


@dataclass(frozen=True)
class ProviderSettings:
    """Operator settings of the provider layer (see ``provider_settings``)."""

    openai_base_url: str = "https://api.openai.com/v1"
    anthropic_base_url: str = "https://api.anthropic.com"
    google_base_url: str = "https://generativelanguage.googleapis.com"
    anthropic_version: str = "2023-06-01"
    timeout_s: float = 60.0
    # Whether a key's own base_url / Azure endpoint may be http or a private address.
    allow_private_urls: bool = False


def provider_settings(settings: Settings) -> ProviderSettings:
    """The provider layer's settings, taken from the server's ``Settings``."""
    return ProviderSettings(
        openai_base_url=settings.openai_base_url.rstrip("/"),
        anthropic_base_url=settings.anthropic_base_url.rstrip("/"),
        google_base_url=settings.google_base_url.rstrip("/"),
        timeout_s=settings.provider_timeout_s,
        allow_private_urls=settings.allow_private_provider_urls,
    )
