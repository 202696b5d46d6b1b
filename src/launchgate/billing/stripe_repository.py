"""All SQL of Stripe billing: the organisation's customer and the events received."""

from __future__ import annotations

import functools
import uuid
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Table, func, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession

from launchgate.models import Organisation, StripeEvent

# The outcomes that decided a plan: the newest of them is the organisation's billing state,
# which an older event arriving late must not undo.
DECIDED = ("plan_changed", "plan_kept")


async def locked_org(session: AsyncSession, org_id: uuid.UUID) -> Organisation | None:
    """The organisation, its row locked until the transaction ends (PostgreSQL; on SQLite
    the event's insert before this took the database's write lock): two events of one
    organisation are applied in turn."""
    found = await session.scalars(
        select(Organisation).where(Organisation.id == org_id).with_for_update()
    )
    return found.first()


async def org_id_by_customer(session: AsyncSession, customer: str) -> uuid.UUID | None:
    found = await session.scalar(
        select(Organisation.id).where(Organisation.stripe_customer_id == customer)
    )
    return cast("uuid.UUID | None", found)


async def customer_of(session: AsyncSession, org_id: uuid.UUID) -> str | None:
    found = await session.scalar(
        select(Organisation.stripe_customer_id).where(Organisation.id == org_id)
    )
    return cast("str | None", found)


async def store_customer(session: AsyncSession, org_id: uuid.UUID, customer: str) -> str:
    """Keep the first customer stored: if another request stored one meanwhile, that one
    stays and is returned (with Stripe's idempotency key it is the same customer)."""
    await session.execute(
        update(Organisation)
        .where(Organisation.id == org_id, Organisation.stripe_customer_id.is_(None))
        .values(stripe_customer_id=customer)
    )
    stored = await customer_of(session, org_id)
    return stored or customer


@functools.cache
def _insert_new(dialect: str) -> Any:
    insert = pg_insert if dialect == "postgresql" else sqlite_insert
    table = cast(Table, StripeEvent.__table__)
    # RETURNING, not rowcount: an INSERT's rowcount is -1 through the async drivers.
    return insert(table).on_conflict_do_nothing(index_elements=["id"]).returning(table.c.id)


async def record_event(session: AsyncSession, row: dict[str, Any]) -> bool:
    """Record an event once: False when its id is already recorded (a replay). Concurrent
    deliveries of one event: the second insert waits for the first and then does nothing."""
    dialect = session.bind.dialect.name if session.bind else "sqlite"
    result = await session.execute(_insert_new(dialect), row)
    return result.first() is not None


async def set_outcome(
    session: AsyncSession, event_id: str, org_id: uuid.UUID | None, outcome: str
) -> None:
    """What the event recorded by ``record_event`` turned out to do, and to whom."""
    await session.execute(
        update(StripeEvent).where(StripeEvent.id == event_id).values(org_id=org_id, outcome=outcome)
    )


async def is_recorded(session: AsyncSession, event_id: str) -> bool:
    found = await session.scalar(select(StripeEvent.id).where(StripeEvent.id == event_id))
    return found is not None


async def newest_decision(session: AsyncSession, org_id: uuid.UUID) -> datetime | None:
    found = await session.scalar(
        select(func.max(StripeEvent.created)).where(
            StripeEvent.org_id == org_id, StripeEvent.outcome.in_(DECIDED)
        )
    )
    return cast("datetime | None", found)
