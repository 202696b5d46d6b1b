"""All SQL of Stripe billing: the organisation's customer, subscription and open checkout
session, and the events received."""

from __future__ import annotations

import functools
import uuid
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Table, and_, delete, func, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from launchgate.models import Organisation, StripeCheckout, StripeEvent

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


async def stripe_ids(session: AsyncSession, org_id: uuid.UUID) -> tuple[str | None, str | None]:
    """The organisation's Stripe customer and live subscription, in one read."""
    found = (
        await session.execute(
            select(Organisation.stripe_customer_id, Organisation.stripe_subscription_id).where(
                Organisation.id == org_id
            )
        )
    ).one_or_none()
    return (found[0], found[1]) if found is not None else (None, None)


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


async def prune_events(session: AsyncSession, received_before: datetime) -> int:
    """Forget the events received before ``received_before``, except, per organisation,
    the deciding events of its newest decision: an older event arriving late is compared
    with that one (``stale``), and a replay of it is a ``duplicate``; an event older than
    it needs no row of its own to lose. Returns how many rows went."""
    newer = aliased(StripeEvent)
    newest = (
        select(func.max(newer.created))
        .where(newer.org_id == StripeEvent.org_id, newer.outcome.in_(DECIDED))
        .scalar_subquery()
    )
    kept = and_(
        StripeEvent.org_id.is_not(None),
        StripeEvent.outcome.in_(DECIDED),
        StripeEvent.created >= newest,
    )
    result = await session.execute(
        delete(StripeEvent).where(StripeEvent.received_at < received_before, ~kept)
    )
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


# --- the open checkout session and the live subscription ----------------------------------


async def open_checkout(session: AsyncSession, org_id: uuid.UUID) -> StripeCheckout | None:
    return await session.get(StripeCheckout, org_id, populate_existing=True)


async def store_checkout(
    session: AsyncSession, row: dict[str, Any], replacing: str | None
) -> str | None:
    """Make ``row`` the organisation's open checkout, if the one stored is still
    ``replacing`` (None: none stored); returns the session id stored afterwards — another
    one when a concurrent checkout stored its own first."""
    org_id = row["org_id"]
    if replacing is None:
        dialect = session.bind.dialect.name if session.bind else "sqlite"
        insert = pg_insert if dialect == "postgresql" else sqlite_insert
        await session.execute(
            insert(StripeCheckout).values(row).on_conflict_do_nothing(index_elements=["org_id"])
        )
    else:
        await session.execute(
            update(StripeCheckout)
            .where(StripeCheckout.org_id == org_id, StripeCheckout.session_id == replacing)
            .values(row)
        )
    found = await session.scalar(
        select(StripeCheckout.session_id).where(StripeCheckout.org_id == org_id)
    )
    return cast("str | None", found)


async def retire_checkout(
    session: AsyncSession, org_id: uuid.UUID, session_id: str, at: datetime
) -> None:
    """Checkout session ``session_id`` can no longer be paid (it was, or it expired): if it
    is still the organisation's, it is kept as the one the next session replaces, but
    never handed back again."""
    await session.execute(
        update(StripeCheckout)
        .where(StripeCheckout.org_id == org_id, StripeCheckout.session_id == session_id)
        .values(expires_at=at)
    )
