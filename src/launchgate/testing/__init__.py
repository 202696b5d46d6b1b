"""Helpers that tests, benchmarks and users may run: the fake LLM provider server.

See `launchgate.testing.fake_provider`.
"""
