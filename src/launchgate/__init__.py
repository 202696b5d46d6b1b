"""LaunchGate: the release gate for LLM features."""

__version__ = "0.1.0"
