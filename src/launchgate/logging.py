"""structlog set-up with a scrubber: anything that looks like a key never reaches a log.

Two formats (LAUNCHGATE_LOG_FORMAT): ``text``, one readable line per event, and ``json``,
one JSON object per line — structlog's events and the standard library's records
(uvicorn, SQLAlchemy warnings…) alike — for log shippers. Either way a line written while
serving a request or running its job carries that request's ``request_id``
(observability/context.py) and, when tracing is on, the ``trace_id`` and ``span_id``.
"""

from __future__ import annotations

import contextlib
import json
import logging
import re
import sys
from collections.abc import Callable, Iterator, Mapping, MutableMapping
from datetime import UTC, datetime
from typing import Any, Literal


@contextlib.contextmanager
def _rich_tracebacks_hidden() -> Iterator[None]:
    """Within: ``rich.traceback`` cannot be imported, for structlog's first import.

    ``import structlog`` imports ``structlog.dev``, which imports ``rich.traceback`` (and
    with it ``rich.syntax`` and pygments' lexers: ~2.5 MB resident, 39 modules) to offer
    colourful tracebacks. We never use them: ``configure`` renders tracebacks with
    ``plain_traceback``, without locals, whatever structlog's default. So structlog's first
    import sees ``rich.traceback`` as missing (a ``None`` entry in ``sys.modules`` is
    Python's documented way to say so) and falls back to its plain formatter; the entry is
    removed on leaving, so anything else (typer's error pages) can still import rich's
    tracebacks. When structlog or rich's tracebacks are already loaded, nothing is hidden."""
    if "structlog" in sys.modules or "rich.traceback" in sys.modules:
        yield
        return
    sys.modules["rich.traceback"] = None  # type: ignore[assignment]
    try:
        yield
    finally:
        del sys.modules["rich.traceback"]


with _rich_tracebacks_hidden():
    import structlog

# Fields every line gains (the current span's ids, when tracing is on): set by configure.
_enrich: Callable[[], Mapping[str, Any]] | None = None

# LaunchGate keys, and the shapes of provider keys (OpenAI sk-…, Anthropic sk-ant-…,
# Google AIza…), and bearer tokens.
_SECRET = re.compile(
    r"(lg_(?:live|test)_[A-Za-z0-9]{8,}|sk-[A-Za-z0-9_\-]{8,}|AIza[0-9A-Za-z_\-]{20,}"
    r"|(?i:bearer)\s+[A-Za-z0-9._\-]{8,})"
)


def scrub(text: str) -> str:
    return _SECRET.sub(lambda m: m.group(0)[:8] + "…[redacted]", text)


def _scrub_event(_logger: Any, _name: str, event: MutableMapping[str, Any]) -> Mapping[str, Any]:
    return {k: scrub(v) if isinstance(v, str) else v for k, v in event.items()}


class _ScrubFilter(logging.Filter):
    """The same scrubbing for the standard library's loggers (uvicorn, httpx, sqlalchemy)."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        cleaned = scrub(message)
        if cleaned != message:
            record.msg, record.args = cleaned, None
        return True


# The database stack logs what it is given: SQLAlchemy's engine logs every statement with
# its parameters at INFO (and rows at DEBUG), aiosqlite every call with its arguments at
# DEBUG, psycopg likewise. Parameters are ciphertexts, key hashes, outputs and inputs, which
# the scrubber cannot recognise, so these loggers stay at WARNING whatever
# LAUNCHGATE_LOG_LEVEL says, unless LAUNCHGATE_SQL_LOG_LEVEL asks for them.
SQL_LOGGERS = (
    "sqlalchemy",
    "sqlalchemy.engine",
    "sqlalchemy.pool",
    "sqlalchemy.orm",
    "aiosqlite",
    "psycopg",
    "psycopg.pool",
    "alembic",
)
# Other libraries whose DEBUG lines are event-loop or wire internals, never ours to read:
# at most INFO. httpx logs one line per provider call at INFO: noise at volume (and CPU on
# the judge path), so WARNING.
_QUIET_LOGGERS = {
    "asyncio": logging.INFO,
    "httpcore": logging.INFO,
    "httpx": logging.WARNING,
    "redis": logging.INFO,
    "taskiq": logging.INFO,
}


def _level(name: str) -> int:
    value = logging.getLevelName(name.upper())
    if not isinstance(value, int):
        raise ValueError(f"'{name}' is not a log level: DEBUG, INFO, WARNING or ERROR")
    return value


def _trace_ids(_logger: Any, _name: str, event: MutableMapping[str, Any]) -> Mapping[str, Any]:
    """The current span's ids, so a log line leads to its trace (only while tracing)."""
    if _enrich is not None:
        event.update(_enrich())
    return event


class JsonFormatter(logging.Formatter):
    """A standard library record as one JSON object, shaped like structlog's JSON lines.
    The message is already scrubbed by ``_ScrubFilter``; a traceback is plain text."""

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "event": record.getMessage(),
            "level": record.levelname.lower(),
            "logger": record.name,
            "timestamp": datetime.fromtimestamp(record.created, UTC).isoformat(),
        }
        # The request being served (bound by observability/context.py), if any.
        if (request_id := structlog.contextvars.get_contextvars().get("request_id")) is not None:
            line["request_id"] = request_id
        if _enrich is not None:
            line.update(_enrich())
        if record.exc_info:
            line["exception"] = scrub(self.formatException(record.exc_info))
        return json.dumps(line, default=str)


# Loggers whose records reach handlers of their own: uvicorn's (it installs them when a
# server is configured, and does not propagate to the root).
_OWN_HANDLERS = ("uvicorn", "uvicorn.error", "uvicorn.access")


def format_handlers(fmt: Literal["text", "json"] = "text") -> None:
    """Scrub, and in ``json`` format, every handler of the root and of uvicorn. Called by
    ``configure`` and again once the server started (uvicorn adds its handlers later)."""
    for name in ("", *_OWN_HANDLERS):
        for handler in logging.getLogger(name).handlers:
            if not any(isinstance(f, _ScrubFilter) for f in handler.filters):
                handler.addFilter(_ScrubFilter())
            if fmt == "json" and isinstance(handler, logging.StreamHandler):
                # Not a test harness's own (pytest's capture): the stock ones and uvicorn's.
                kind = type(handler.formatter).__module__ if handler.formatter else "logging"
                if kind.startswith(("logging", "uvicorn")):
                    handler.setFormatter(JsonFormatter())
            elif fmt == "text" and isinstance(handler.formatter, JsonFormatter):
                handler.setFormatter(logging.Formatter("%(message)s"))


def configure(
    level: str = "INFO",
    sql_level: str | None = None,
    fmt: Literal["text", "json"] = "text",
    enrich: Callable[[], Mapping[str, Any]] | None = None,
) -> None:
    """Log set-up for the server. Tracebacks are rendered as plain text, never with local
    variables (a local may be an opened provider key), and every line is scrubbed. The
    database loggers stay at WARNING unless ``sql_level`` (LAUNCHGATE_SQL_LOG_LEVEL) is
    given: at INFO and below they print query parameters, i.e. stored data. ``fmt``:
    ``text`` or ``json`` (one object per line); ``enrich``: fields for every line."""
    global _enrich
    _enrich = enrich
    logging.basicConfig(level=level.upper(), format="%(message)s")
    root = _level(level)
    for name in SQL_LOGGERS:
        logging.getLogger(name).setLevel(_level(sql_level) if sql_level else logging.WARNING)
    for name, floor in _QUIET_LOGGERS.items():
        logging.getLogger(name).setLevel(max(floor, root))
    format_handlers(fmt)
    renderer: Any = (
        structlog.processors.JSONRenderer()
        if fmt == "json"
        else structlog.dev.ConsoleRenderer(
            colors=False, exception_formatter=structlog.dev.plain_traceback
        )
    )
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            structlog.processors.format_exc_info,
            _trace_ids,
            _scrub_event,
            renderer,
        ],
        wrapper_class=structlog.make_filtering_bound_logger(logging.getLevelName(level.upper())),
        cache_logger_on_first_use=False,
    )
