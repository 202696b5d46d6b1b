"""``context.bound`` binds the request id (and fields) for a block and restores exactly what
was bound before, nested or not, whatever the block raised."""

from __future__ import annotations

import pytest
import structlog

from launchgate.observability import context


def test_nested_blocks_restore_the_outer_binding() -> None:
    structlog.contextvars.clear_contextvars()
    structlog.contextvars.bind_contextvars(service="api")
    with context.bound("outer"):
        assert structlog.contextvars.get_contextvars() == {"service": "api", "request_id": "outer"}
        with context.bound("inner", job="run.execute"):
            assert context.current() == "inner"
            assert structlog.contextvars.get_contextvars() == {
                "service": "api",
                "request_id": "inner",
                "job": "run.execute",
            }
        assert context.current() == "outer"
        assert structlog.contextvars.get_contextvars() == {"service": "api", "request_id": "outer"}
    assert context.current() is None
    assert structlog.contextvars.get_contextvars() == {"service": "api"}
    structlog.contextvars.clear_contextvars()


def test_an_exception_in_the_block_still_restores() -> None:
    structlog.contextvars.clear_contextvars()
    with pytest.raises(RuntimeError), context.bound("gone", job="x"):
        raise RuntimeError("boom")
    assert context.current() is None
    assert structlog.contextvars.get_contextvars() == {}


def test_no_request_id_binds_only_the_fields() -> None:
    structlog.contextvars.clear_contextvars()
    with context.bound(None, job="sweep"):
        assert structlog.contextvars.get_contextvars() == {"job": "sweep"}
    assert structlog.contextvars.get_contextvars() == {}
