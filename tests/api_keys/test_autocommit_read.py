"""The key is read on a pooled connection in autocommit (db.autocommit): that connection
goes back to the pool in the default isolation level, so the next session that takes it
is a real transaction again."""

from __future__ import annotations

from pathlib import Path
from typing import cast

from sqlalchemy import func, select, update
from sqlalchemy.pool import QueuePool

from launchgate.api_keys.service import authenticate
from launchgate.db import create_engine, create_sessionmaker
from launchgate.models import ApiKey
from tests.factories import Api


async def test_the_connection_goes_back_transactional(
    api: Api, database_url: str, tmp_path: Path
) -> None:
    org = await api.org()
    engine = create_engine(database_url, pool_size=1)  # one connection, reused throughout
    sessions = create_sessionmaker(engine)
    try:
        for _ in range(2):
            await authenticate(engine, org.key)
            async with sessions() as session:
                await session.execute(
                    update(ApiKey).where(ApiKey.org_id == org.id).values(name="renamed")
                )
                await session.rollback()
            async with sessions() as session:
                renamed = await session.scalar(
                    select(func.count()).where(ApiKey.org_id == org.id, ApiKey.name == "renamed")
                )
            assert renamed == 0  # rolled back: the update was inside a transaction
        # And it was the one connection all along.
        assert cast(QueuePool, engine.pool).checkedin() == 1
    finally:
        await engine.dispose()
