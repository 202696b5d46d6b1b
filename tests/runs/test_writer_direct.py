"""The run writer's one-run batches on PostgreSQL: the row and its usage count in one
statement that psycopg runs in autocommit (runs/repository.py's ``insert_row_direct``).
What it stores must read back exactly as the SQLAlchemy path's transaction stores it; the
count goes with the row or not at all; and the writer's connection goes back to the pool
out of autocommit."""

from __future__ import annotations

import asyncio
import logging
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone
from typing import Any, cast

import pytest
from sqlalchemy import Table, event, select

from launchgate.db import unit_of_work
from launchgate.kit.ids import new_run_id
from launchgate.kit.time import month_key
from launchgate.models import Run, UsageCounter
from launchgate.runs import repository
from launchgate.runs.writer import RunWriter
from tests.factories import Api, Org

# psycopg's own connection and a data-modifying CTE are PostgreSQL's: these tests run on
# that backend only (the suite's database_url, narrowed), not skipped on SQLite.
POSTGRES_ONLY = pytest.mark.parametrize("database_url", ["postgres"], indirect=True)
pytestmark = POSTGRES_ONLY

KOLKATA = timezone(timedelta(hours=5, minutes=30))


def _whole_row(org: Org, project: dict[str, Any], suite: dict[str, Any]) -> dict[str, Any]:
    """Every column of a run, with values a column type must convert on the way in: JSON
    with an integer past 64 bits, non-ASCII text and a nested null, SQL NULL JSON, and
    datetimes away from UTC."""
    started = datetime(2026, 12, 6, 16, 30, 0, 123456, tzinfo=KOLKATA)
    return {
        "id": new_run_id(),
        "org_id": org.id,
        "project_id": uuid.UUID(project["id"]),
        "suite_id": uuid.UUID(suite["id"]),
        "api_key_id": None,
        "batch_id": None,
        "item_key": None,
        "status": "cleared",
        "trigger": "api",
        "trigger_meta": {"branch": "main", "commit": "abc"},
        "output": "naïve ☃ output",
        "input": {"big": 2**70, "text": "naïve ☃", "nested": {"none": None}, "list": [1.5]},
        "snapshot": {"suite": {"slug": suite["slug"]}, "cases": [{"name": "c", "weight": 1.0}]},
        "scores": [{"case": "c", "passed": True, "score": 1.0, "details": None}],
        "pass_rate": 1.0,
        "total_cases": 1,
        "passed_cases": 1,
        "failed_cases": 0,
        "error_cases": 0,
        "inconclusive_cases": 0,
        "verdict_detail": None,
        "duration_ms": 0.25,
        "cost_usd": None,
        "billable": True,
        "created_at": started,
        "started_at": started.replace(tzinfo=None),  # naive: taken as UTC, as the type does
        "lease_expires_at": None,
        "completed_at": started + timedelta(milliseconds=3),
    }


@dataclass
class Rows:
    """Whole rows of runs of one suite of one organisation (``changes`` over the values)."""

    org: Org
    project: dict[str, Any]
    suite: dict[str, Any]

    def __call__(self, **changes: Any) -> dict[str, Any]:
        return {**_whole_row(self.org, self.project, self.suite), **changes}


@pytest.fixture
async def rows(api: Api) -> Rows:
    org = await api.org()
    project, suite = await api.gated_suite(org)
    return Rows(org, project, suite)


async def _stored(api: Api, run_id: str) -> dict[str, Any]:
    async with unit_of_work(api.runtime.sessions) as session:
        row = (await session.execute(select(Run.__table__).where(Run.id == run_id))).one()
    return dict(row._mapping)


async def _count(api: Api, org: Org, period: str) -> int:
    async with unit_of_work(api.runtime.sessions) as session:
        runs = await session.scalar(
            select(UsageCounter.runs).where(
                UsageCounter.org_id == org.id, UsageCounter.period == period
            )
        )
    return int(runs or 0)


class _Writer:
    """A started ``RunWriter`` on the test's database, and the direct writes it made
    (the real function, wrapped to count its calls)."""

    def __init__(self, api: Api, monkeypatch: pytest.MonkeyPatch) -> None:
        self.writer = RunWriter(api.runtime.settings.resolved_database_url)
        self.direct: list[str] = []
        real = repository.insert_row_direct

        def counted(connection: Any, row: dict[str, Any], then: Any) -> None:
            self.direct.append(row["id"])
            real(connection, row, then)

        monkeypatch.setattr(repository, "insert_row_direct", counted)

    async def __aenter__(self) -> _Writer:
        self.writer.start()
        return self

    async def __aexit__(self, *_: object) -> None:
        await self.writer.stop()

    def driver_in_autocommit(self) -> bool:
        with self.writer._engine.connect() as connection:
            driver = connection.connection.driver_connection
            assert driver is not None  # a pooled connection holds its driver's connection
            return bool(driver.autocommit)


async def test_a_lone_run_reads_back_as_the_transaction_writes_it(
    api: Api, rows: Rows, monkeypatch: pytest.MonkeyPatch
) -> None:
    direct = rows()
    async with _Writer(api, monkeypatch) as w:
        await w.writer.write(dict(direct))
        assert w.direct == [direct["id"]]
        # The same values through SQLAlchemy's executemany in a transaction.
        through_sqlalchemy = rows(id=new_run_id())

        def transaction() -> None:
            with w.writer._engine.begin() as connection:
                repository.insert_rows(connection, [through_sqlalchemy])

        await asyncio.to_thread(transaction)
        assert not w.driver_in_autocommit()
    one, other = await _stored(api, direct["id"]), await _stored(api, through_sqlalchemy["id"])
    assert {**one, "id": None} == {**other, "id": None}
    assert one["input"]["big"] == 2**70 and one["input"]["text"] == "naïve ☃"
    assert one["verdict_detail"] is None and one["lease_expires_at"] is None
    assert one["created_at"] == direct["created_at"] and one["created_at"].tzinfo == UTC
    assert one["started_at"] == direct["started_at"].replace(tzinfo=UTC)


async def test_the_count_goes_with_the_row_or_not_at_all(
    api: Api, rows: Rows, monkeypatch: pytest.MonkeyPatch
) -> None:
    org, billed = rows.org, rows()
    period = month_key(billed["created_at"])
    unbilled = rows(billable=False)
    no_such_suite = rows(suite_id=uuid.uuid4())
    async with _Writer(api, monkeypatch) as w:
        await w.writer.write(billed)
        assert await _count(api, org, period) == 1
        await w.writer.write(unbilled)
        assert await _count(api, org, period) == 1
        with pytest.raises(RuntimeError, match="could not be stored"):
            await w.writer.write(no_such_suite)
        assert w.direct == [billed["id"], unbilled["id"], no_such_suite["id"]]
        assert not w.driver_in_autocommit()  # a failed statement too
        await w.writer.write(rows())  # the connection still works
    assert await _count(api, org, period) == 2
    async with unit_of_work(api.runtime.sessions) as session:
        stored = set(await session.scalars(select(Run.id).where(Run.org_id == org.id)))
    assert no_such_suite["id"] not in stored and len(stored) == 3


async def test_a_listener_on_the_statements_keeps_the_sqlalchemy_path(
    api: Api, rows: Rows, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Tracing or a test that counts statements sees the writer's INSERT, as before."""
    row = rows()
    async with _Writer(api, monkeypatch) as w:
        seen: list[str] = []
        event.listen(
            w.writer._engine,
            "before_cursor_execute",
            lambda _c, _cur, statement, *_: seen.append(statement),
        )
        await w.writer.write(row)
        assert w.direct == []
    assert any(s.startswith(f"INSERT INTO {Run.__tablename__}") for s in seen), seen
    assert (await _stored(api, row["id"]))["status"] == "cleared"


async def test_with_the_sql_log_on_the_insert_is_logged(
    api: Api, rows: Rows, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """LAUNCHGATE_SQL_LOG_LEVEL=INFO shows every statement: the run's INSERT too."""
    row = rows()
    async with _Writer(api, monkeypatch) as w:
        with caplog.at_level(logging.INFO, logger="sqlalchemy.engine"):
            await w.writer.write(row)
        assert w.direct == []
    assert f"INSERT INTO {Run.__tablename__}" in caplog.text
    assert (await _stored(api, row["id"]))["status"] == "cleared"


async def test_only_a_whole_row_of_one_run_goes_direct(
    api: Api, rows: Rows, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Several runs queued together are one executemany in a transaction, and a row that
    leaves a column to its default is written by SQLAlchemy, which knows the default."""
    partial = rows()
    del partial["inconclusive_cases"]
    assert not repository.whole_row(partial)
    assert repository.whole_row(rows())
    assert {c.name for c in cast(Table, Run.__table__).columns} == set(partial) | {
        "inconclusive_cases"
    }
    async with _Writer(api, monkeypatch) as w:
        await w.writer.write(partial)
        together = [rows() for _ in range(3)]
        await asyncio.gather(*(w.writer.write(row) for row in together))
        assert w.direct == []  # queued together: one batch, not three lone runs
    assert (await _stored(api, partial["id"]))["inconclusive_cases"] == 0
