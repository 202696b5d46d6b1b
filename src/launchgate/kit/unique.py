"""Turn a unique-constraint race into the conflict the caller was already checking for.

Services check "is this slug taken?" before writing, but two requests can both pass the
check; the database's unique constraint then refuses the second insert. That is a 409, not
a 500 (STYLE: a business conflict is never a 500).
"""

from __future__ import annotations

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from launchgate.errors import Conflict


async def flush_or_conflict(session: AsyncSession, conflict: Conflict) -> None:
    try:
        await session.flush()
    except IntegrityError:
        raise conflict from None
