"""An organisation's facts (plan, config version) on the run path: read with the caller's
API key in one query when the database is shared, from the in-memory cache when embedded,
and never kept across requests when shared."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import event, insert, select, update
from sqlalchemy.ext.asyncio import AsyncEngine

from launchgate.api_keys.service import KeyCaller, authenticate, runs_read_with
from launchgate.db import unit_of_work
from launchgate.errors import NotFound, Unauthorized
from launchgate.kit.auth_context import AuthContext
from launchgate.kit.time import month_key, utcnow
from launchgate.models import ApiKey, Organisation, UsageCounter
from launchgate.orgs.cache import FactsCache
from launchgate.orgs.service import OrgFacts, get_facts
from tests.factories import Api


@pytest.fixture
def statements(api: Api) -> Iterator[list[str]]:
    """Every SQL statement the app's pool sends while the test runs."""
    seen: list[str] = []

    def sent(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        seen.append(statement)

    engine: AsyncEngine = api.runtime.engine
    event.listen(engine.sync_engine, "before_cursor_execute", sent)
    yield seen
    event.remove(engine.sync_engine, "before_cursor_execute", sent)


async def _set_plan(api: Api, org_id: uuid.UUID, plan: str) -> None:
    async with unit_of_work(api.runtime.sessions) as session:
        await session.execute(
            update(Organisation).where(Organisation.id == org_id).values(plan=plan)
        )


async def test_the_key_and_its_orgs_facts_are_one_statement(
    api: Api, statements: list[str]
) -> None:
    org = await api.org("pro")
    statements.clear()
    caller = await authenticate(api.runtime.engine, org.key)
    assert isinstance(caller, KeyCaller)
    assert (caller.org_id, caller.plan, caller.key_mode) == (org.id, "pro", "live")
    reads = [s for s in statements if s.lstrip().upper().startswith("SELECT")]
    assert len(reads) == 1 and "organisations" in reads[0] and "api_keys" in reads[0]
    statements.clear()
    async with unit_of_work(api.runtime.sessions) as session:
        facts = await get_facts(session, org.id, None, caller)
    assert facts == OrgFacts("pro", caller.config_version)
    assert statements == []  # taken from the caller: no second round trip


async def test_each_authentication_reads_the_facts_anew(api: Api) -> None:
    org = await api.org("free")
    before = await authenticate(api.runtime.engine, org.key)
    await _set_plan(api, org.id, "scale")
    await api.project(org)  # a config change bumps the version
    after = await authenticate(api.runtime.engine, org.key)
    assert isinstance(before, KeyCaller) and isinstance(after, KeyCaller)
    assert (before.plan, after.plan) == ("free", "scale")
    assert after.config_version > before.config_version


async def test_facts_of_another_org_or_a_plain_caller_are_read(api: Api) -> None:
    org, other = await api.org("pro"), await api.org("scale")
    caller = await authenticate(api.runtime.engine, org.key)
    plain = AuthContext(org_id=other.id, auth_mode="jwt")
    async with unit_of_work(api.runtime.sessions) as session:
        # A caller's facts are its own organisation's only.
        assert (await get_facts(session, other.id, None, caller)).plan == "scale"
        assert (await get_facts(session, other.id, None, plain)).plan == "scale"
        assert (await get_facts(session, org.id)).plan == "pro"
        with pytest.raises(NotFound):
            await get_facts(session, uuid.uuid4(), None, plain)


async def test_the_embedded_cache_wins_and_keeps_plain_contexts(api: Api) -> None:
    """The embedded mode's caches outlive requests: what they hold must carry no facts of
    its own, and the facts cache (invalidated on commit) is the one that answers."""
    from launchgate.api_keys.cache import KeyCache

    org = await api.org("pro")
    keys, facts = KeyCache(), FactsCache()
    first = await authenticate(api.runtime.engine, org.key, keys)
    assert type(first) is AuthContext
    assert await authenticate(api.runtime.engine, org.key, keys) is first
    caller = await authenticate(api.runtime.engine, org.key)
    assert isinstance(caller, KeyCaller)
    facts.put(org.id, OrgFacts("enterprise", 7), facts.generation)
    async with unit_of_work(api.runtime.sessions) as session:
        assert await get_facts(session, org.id, facts, caller) == OrgFacts("enterprise", 7)


async def test_the_first_use_is_recorded_without_the_callers_transaction(api: Api) -> None:
    """The touch of ``last_used_at`` commits on its own (autocommit): nothing of the
    request's has to commit for it."""
    org = await api.org()
    await authenticate(api.runtime.engine, org.key)
    async with unit_of_work(api.runtime.sessions) as session:
        used = await session.scalar(select(ApiKey.last_used_at).where(ApiKey.org_id == org.id))
    assert used is not None


async def test_a_revoked_or_unknown_key_is_refused(api: Api) -> None:
    org = await api.org()
    keys = (await api.ok("GET", "/v1/api-keys", org))["data"]
    await api.ok("DELETE", f"/v1/api-keys/{keys[0]['id']}", org, 204)
    with pytest.raises(Unauthorized, match="Invalid API key"):
        await authenticate(api.runtime.engine, org.key)
    with pytest.raises(Unauthorized, match="Invalid API key"):
        await authenticate(api.runtime.engine, "lg_live_" + "x" * 32)


async def test_the_months_runs_are_read_with_the_key_for_that_month_only(api: Api) -> None:
    org, other = await api.org("pro"), await api.org("pro")
    period = month_key(utcnow())
    async with unit_of_work(api.runtime.sessions) as session:
        await session.execute(
            insert(UsageCounter),
            [
                {"org_id": org.id, "period": period, "runs": 42},
                {"org_id": org.id, "period": "1999-12", "runs": 7},
            ],
        )
    caller = await authenticate(api.runtime.engine, org.key)
    assert runs_read_with(caller, org.id, period) == 42
    assert runs_read_with(caller, org.id, "2999-01") is None  # the month turned: read again
    assert runs_read_with(caller, other.id, period) is None  # another org's
    assert runs_read_with(AuthContext(org_id=org.id, auth_mode="jwt"), org.id, period) is None
    fresh = await authenticate(api.runtime.engine, other.key)
    assert runs_read_with(fresh, other.id, period) == 0  # no counter yet


def test_facts_read_before_an_invalidation_are_not_kept_after_it() -> None:
    """A run missed the cache and read the plan; a plan change committed and invalidated
    meanwhile; the run's stale facts must not be stored (they would outlive the change)."""
    cache = FactsCache()
    org_id = uuid.uuid4()
    generation = cache.generation  # the run's read starts
    cache.invalidate({org_id})  # a webhook's plan change commits meanwhile
    cache.put(org_id, OrgFacts("free", 1), generation)
    assert cache.get(org_id) is None
    fresh = cache.generation
    cache.put(org_id, OrgFacts("pro", 1), fresh)
    assert cache.get(org_id) == OrgFacts("pro", 1)
