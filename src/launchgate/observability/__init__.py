"""What an operator watches the server with (docs/observability.md): Prometheus metrics
(metrics.py, the hooks every part calls), OpenTelemetry traces (tracing.py), request ids
carried from a request into its jobs (context.py), JSON log lines (launchgate/logging.py),
the HTTP middleware and ``/metrics`` page (http.py) and a worker's own metrics port
(worker_endpoint.py).

``setup_process`` is each process's one call: the API's ``create_app`` and a
``launchgate worker``'s queue at start.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from launchgate.logging import configure as configure_logging
from launchgate.observability import metrics, tracing

if TYPE_CHECKING:
    from launchgate.config import Settings

__all__ = ["setup_process", "worker_metrics_port"]


def setup_process(settings: Settings, service: str) -> None:
    """Logs (level, format, trace ids), metrics when LAUNCHGATE_METRICS=on, traces when
    the ``otel`` extra and OTEL_EXPORTER_OTLP_ENDPOINT are there."""
    tracing.setup(service)
    configure_logging(
        settings.log_level, settings.sql_log_level, settings.log_format, tracing.current_ids
    )
    if settings.metrics == "on":
        metrics.enable()


def worker_metrics_port(settings: Settings) -> int | None:
    """The port a ``launchgate worker`` serves ``/metrics`` on
    (LAUNCHGATE_WORKER_METRICS_PORT; 0 takes a free one), when metrics are on; else None."""
    return settings.worker_metrics_port if settings.metrics == "on" else None
