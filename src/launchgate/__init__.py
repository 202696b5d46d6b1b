"""LaunchGate: the release gate for LLM features."""

from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

if TYPE_CHECKING:
    from launchgate.sdk import AsyncLaunchGate, LaunchGate

__all__ = ["AsyncLaunchGate", "LaunchGate", "__version__"]


def __getattr__(name: str) -> Any:
    """``from launchgate import LaunchGate`` loads the SDK (and httpx) on first use only,
    so importing a server module never pays for the client."""
    if name in ("LaunchGate", "AsyncLaunchGate"):
        from launchgate import sdk

        return getattr(sdk, name)
    raise AttributeError(f"module 'launchgate' has no attribute {name!r}")
