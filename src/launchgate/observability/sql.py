"""A span per SQL statement (the database calls of a traced request or job): its
operation and text, never its parameters (outputs, inputs, ciphertexts, key hashes).

SQLAlchemy's own events, rather than opentelemetry-instrumentation-sqlalchemy: that
package instruments once per process and patches ``create_engine``, while a process here
may hold several engines (tests) made by ``launchgate.db`` before tracing is known.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from sqlalchemy import event

from launchgate.observability import tracing

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncEngine

_SQL_CHARS = 2000


def instrument_engine(engine: AsyncEngine) -> None:
    """A span per SQL statement on ``engine``: its operation and text, never parameters."""
    if not tracing.active() or getattr(engine.sync_engine, "_launchgate_traced", False):
        return
    sync = engine.sync_engine
    system = sync.dialect.name

    def before(_conn: Any, _cursor: Any, statement: str, _p: Any, ctx: Any, _m: bool) -> None:
        tracer = tracing.tracer()
        if tracer is None or ctx is None:
            return
        operation = statement.lstrip().split(" ", 1)[0].upper()
        current = tracer.start_span(
            f"{operation} {system}",
            attributes={
                "db.system.name": system,
                "db.operation.name": operation,
                "db.query.text": statement[:_SQL_CHARS],
            },
        )
        ctx._launchgate_span = current

    def after(_conn: Any, _cursor: Any, _s: str, _p: Any, ctx: Any, _m: bool) -> None:
        current = getattr(ctx, "_launchgate_span", None)
        if current is not None:
            current.end()
            ctx._launchgate_span = None

    def failed(exception_context: Any) -> None:
        ctx = exception_context.execution_context
        current = getattr(ctx, "_launchgate_span", None)
        if current is not None:
            from opentelemetry.trace import Status, StatusCode

            error = type(exception_context.original_exception).__name__
            current.set_status(Status(StatusCode.ERROR, error))
            current.end()
            ctx._launchgate_span = None

    event.listen(sync, "before_cursor_execute", before)
    event.listen(sync, "after_cursor_execute", after)
    event.listen(sync, "handle_error", failed)
    sync._launchgate_traced = True  # type: ignore[attr-defined]
