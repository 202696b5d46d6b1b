"""At LAUNCHGATE_LOG_LEVEL=DEBUG the logs hold no stored data: the database loggers stay at
WARNING (aiosqlite printed every call's parameters at DEBUG — outputs, ciphertexts, key
hashes — and SQLAlchemy's engine does from INFO), unless LAUNCHGATE_SQL_LOG_LEVEL asks."""

from __future__ import annotations

import logging
import secrets
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from sqlalchemy import select

from launchgate.app import create_app
from launchgate.db import unit_of_work
from launchgate.logging import SQL_LOGGERS, configure
from launchgate.models import ByokKey
from tests.conftest import make_settings, started
from tests.factories import Api


@pytest.fixture(autouse=True)
def restore_log_levels() -> Iterator[None]:
    yield
    configure("INFO")  # the levels are process-wide: leave them as the other tests expect


async def _exercise(url: str, data_dir: Path, **overrides: object) -> tuple[list[str], str]:
    """Create a BYOK key and make a run carrying canaries; return them and the ciphertext."""
    output_canary = "OUTPUTCANARY" + secrets.token_hex(8)
    input_canary = "INPUTCANARY" + secrets.token_hex(8)
    byok_canary = "sk-BYOKCANARY" + secrets.token_hex(12)
    app = create_app(make_settings(url, data_dir, log_level="DEBUG", **overrides))
    async for running in started(app):
        transport = httpx.ASGITransport(app=running)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as c:
            api = Api(c, running.state.runtime)
            org = await api.org()
            key = await api.ok(
                "POST",
                "/v1/byok-keys",
                org,
                201,
                json={"provider": "openai", "name": "canary", "key": byok_canary},
            )
            _, suite = await api.gated_suite(org, values=("hello",))
            await api.run(org, suite["slug"], f"hello {output_canary}", input={"q": input_canary})
            async with unit_of_work(running.state.runtime.sessions) as session:
                ciphertext = await session.scalar(
                    select(ByokKey.ciphertext).where(ByokKey.id == uuid.UUID(key["data"]["id"]))
                )
    assert ciphertext
    return [output_canary, input_canary, byok_canary[8:], ciphertext.split(".")[-1]], ciphertext


async def test_debug_logs_hold_no_stored_data(
    database_url: str,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
    capsys: pytest.CaptureFixture[str],
) -> None:
    caplog.set_level(logging.DEBUG)
    hidden, _ = await _exercise(database_url, tmp_path)
    printed = capsys.readouterr()
    logs = caplog.text + printed.out + printed.err
    # Captured at DEBUG: anything not held back would be in ``logs``.
    assert logging.getLogger().isEnabledFor(logging.DEBUG)
    for canary in hidden:
        assert canary not in logs
    for name in SQL_LOGGERS:
        assert logging.getLogger(name).getEffectiveLevel() == logging.WARNING


async def test_the_sql_log_level_shows_queries_when_asked(
    database_url: str, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """The escape hatch works (and is documented as printing parameters)."""
    caplog.set_level(logging.DEBUG)
    hidden, _ = await _exercise(database_url, tmp_path, sql_log_level="INFO")
    assert logging.getLogger("sqlalchemy.engine").getEffectiveLevel() == logging.INFO
    assert "SELECT" in caplog.text and hidden[0] in caplog.text
