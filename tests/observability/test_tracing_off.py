"""Without OTEL_EXPORTER_OTLP_ENDPOINT tracing stays off, the extra installed or not, and
every helper is a no-op: nothing is exported, no context rides in a job envelope."""

from __future__ import annotations

import pytest

from launchgate.observability import context, tracing


def test_tracing_is_off_without_an_endpoint(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("OTEL_EXPORTER_OTLP_ENDPOINT", raising=False)
    assert not tracing.active()  # no other module left it on
    assert tracing.available() and not tracing.setup("launchgate")
    assert not tracing.active() and tracing.inject() == {} and tracing.current_ids() == {}
    with tracing.span("nothing") as span:
        assert span is None
    with context.bound("req-9"):
        assert context.envelope() == {"request_id": "req-9"}
    assert context.envelope() == {}
