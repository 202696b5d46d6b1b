"""OpenTelemetry traces, when the ``launchgate[otel]`` extra is installed and
``OTEL_EXPORTER_OTLP_ENDPOINT`` is set; otherwise every helper here is a no-op costing a
global read, and ``opentelemetry`` is not imported.

The spans: each HTTP request (observability/http.py), each database statement
(observability/sql.py), each job a worker runs, continuing the trace of the request that
sent it (``inject``/``extract`` through the job envelope, worker/queue.py), the run and
each case (``run_span``/``case_span``, called by runs/*), each judge attempt
(providers/retry.py) and its HTTP call (providers/http.py).

What a span carries is chosen here, never passed through: ids, names, counts, statuses.
Never a key, a key prefix, a prompt, an input or an output — and SQL statements go without
their parameters. The provider is this module's own (not the global one), so tests can
install an in-memory exporter and take it away again.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator, Mapping
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import SpanExporter
    from opentelemetry.trace import Span, Tracer

_provider: TracerProvider | None = None
_tracer: Tracer | None = None
Attributes = Mapping[str, str | int | float | bool]


def available() -> bool:
    """The extra is installed (the SDK, not only the API that FastAPI brings along)."""
    try:
        import opentelemetry.sdk.trace  # noqa: F401
    except ImportError:
        return False
    return True


def setup(service_name: str, exporter: SpanExporter | None = None) -> bool:
    """Start tracing in this process; True when it is on. Without ``exporter`` (tests pass
    an in-memory one) it is on only with the extra installed and the OTLP endpoint set,
    and spans go there over OTLP/HTTP (the standard ``OTEL_*`` variables configure it).
    Idempotent: a second call keeps the first set-up."""
    global _provider, _tracer
    if _tracer is not None:
        return True
    if exporter is None and not (os.environ.get("OTEL_EXPORTER_OTLP_ENDPOINT") and available()):
        return False
    from opentelemetry.sdk.resources import Resource
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import BatchSpanProcessor, SimpleSpanProcessor

    if exporter is None:
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

        processor: Any = BatchSpanProcessor(OTLPSpanExporter())
    else:
        processor = SimpleSpanProcessor(exporter)
    name = os.environ.get("OTEL_SERVICE_NAME") or service_name
    _provider = TracerProvider(resource=Resource.create({"service.name": name}))
    _provider.add_span_processor(processor)
    _tracer = _provider.get_tracer("launchgate")
    return True


def shutdown() -> None:
    """Flush and stop (a process's end; tests, to turn tracing off again)."""
    global _provider, _tracer
    if _provider is not None:
        _provider.shutdown()
    _provider, _tracer = None, None


def active() -> bool:
    return _tracer is not None


def tracer() -> Tracer | None:
    """This module's tracer while tracing is on (observability/sql.py starts spans on it)."""
    return _tracer


@contextlib.contextmanager
def span(name: str, attributes: Attributes | None = None, kind: str = "internal") -> Iterator[Any]:
    """A span around the block, child of the current one; yields it (None when off).
    An exception leaving the block marks the span as an error, by its class name only."""
    if _tracer is None:
        yield None
        return
    from opentelemetry.trace import SpanKind, Status, StatusCode

    with _tracer.start_as_current_span(
        name,
        kind=getattr(SpanKind, kind.upper()),
        attributes=dict(attributes or {}),
        record_exception=False,  # an exception's text may quote what it was given
        set_status_on_exception=False,
    ) as current:
        try:
            yield current
        except BaseException as exc:
            current.set_status(Status(StatusCode.ERROR, type(exc).__name__))
            raise


def set_attributes(current: Span | None, attributes: Attributes) -> None:
    """Add attributes to a span that ``span`` yielded (nothing when tracing is off)."""
    if current is not None:
        current.set_attributes(dict(attributes))


def run_span(run_id: str, suite_id: str, trigger: str) -> contextlib.AbstractContextManager[Any]:
    """The span of one run's scoring (runs/execution.py wraps the run in it)."""
    return span(
        "launchgate.run",
        {
            "launchgate.run_id": run_id,
            "launchgate.suite_id": suite_id,
            "launchgate.trigger": trigger,
        },
    )


def case_span(case_id: str, scorer_type: str) -> contextlib.AbstractContextManager[Any]:
    """The span of one case of a run (runs/engine.py wraps each case's scoring in it)."""
    return span(
        "launchgate.case", {"launchgate.case_id": case_id, "launchgate.scorer_type": scorer_type}
    )


def inject() -> dict[str, str]:
    """The current trace context as W3C headers (``traceparent``, ``tracestate``), for a
    job envelope; empty when tracing is off or there is no span."""
    if _tracer is None:
        return {}
    from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator

    carrier: dict[str, str] = {}
    TraceContextTextMapPropagator().inject(carrier)
    return carrier


@contextlib.contextmanager
def extract(carrier: Mapping[str, str] | None) -> Iterator[None]:
    """Make the trace context of ``carrier`` (W3C headers) the current one in the block:
    the spans inside continue that trace (a job continues its request's)."""
    if _tracer is None or not carrier:
        yield
        return
    from opentelemetry import context
    from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator

    token = context.attach(TraceContextTextMapPropagator().extract(dict(carrier)))
    try:
        yield
    finally:
        context.detach(token)


def current_ids() -> dict[str, str]:
    """The current span's trace and span ids in hex, for log lines; empty when off."""
    if _tracer is None:
        return {}
    from opentelemetry.trace import get_current_span

    found = get_current_span().get_span_context()
    if not found.is_valid:
        return {}
    return {"trace_id": f"{found.trace_id:032x}", "span_id": f"{found.span_id:016x}"}
