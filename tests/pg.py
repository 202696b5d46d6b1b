"""The PostgreSQL the tests use: ``LAUNCHGATE_TEST_POSTGRES_URL`` (default: the local
server on 127.0.0.1:5432), and throwaway databases on it."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

import psycopg
import pytest

PG_URL = os.environ.get(
    "LAUNCHGATE_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres"
)
# scripts/test sets this: there, an unreachable server is a failure, never a skip.
REQUIRE_PG = os.environ.get("LAUNCHGATE_TEST_REQUIRE_POSTGRES") == "1"


def pg_reachable() -> bool:
    try:
        with psycopg.connect(PG_URL, connect_timeout=3):
            return True
    except psycopg.Error:
        return False


def require_postgres() -> None:
    if not pg_reachable():
        if REQUIRE_PG:
            pytest.fail(f"PostgreSQL is required but unreachable at {PG_URL}")
        pytest.skip(f"PostgreSQL unreachable at {PG_URL}")


@contextmanager
def empty_database(prefix: str) -> Iterator[str]:
    """A new, empty database; yields its plain ``postgresql://`` URL and drops it after."""
    require_postgres()
    name = f"{prefix}_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(PG_URL, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    try:
        yield f"{PG_URL.rpartition('/')[0]}/{name}"
    finally:
        with psycopg.connect(PG_URL, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
