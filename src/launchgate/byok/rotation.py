"""Re-encrypting stored BYOK keys under the current master key (``launchgate byok rotate``).

Safe to interrupt and run again: each batch commits on its own, and rows already sealed under
the current master key are skipped, so a second run carries on where the first stopped. A row
that does not open under any accepted master key is reported by id, never skipped silently.
Plaintexts stay inside ``Vault.reseal``: this module never opens a key itself.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from launchgate.byok import repository
from launchgate.byok.vault import Vault, VaultError
from launchgate.db import unit_of_work

BATCH_SIZE = 100


@dataclass(frozen=True)
class RotationFailure:
    key_id: uuid.UUID
    message: str


@dataclass
class RotationReport:
    resealed: int = 0
    current: int = 0
    # Revoked or sealed again by the server while the batch ran: left as the server wrote it.
    changed: int = 0
    failed: list[RotationFailure] = field(default_factory=list)


async def rotate_batch(
    session: AsyncSession,
    vault: Vault,
    report: RotationReport,
    *,
    after: uuid.UUID | None = None,
    limit: int = BATCH_SIZE,
) -> uuid.UUID | None:
    """Reseal one page of keys (ids after ``after``) into ``report``; never commits.

    Returns the id the next page starts after, or None when this page was the last.
    """
    rows = await repository.sealed_after(session, after, limit)
    for row in rows:
        await _rotate_row(session, vault, row, report)
    return rows[-1].id if len(rows) == limit else None


async def rotate_all(
    sessions: async_sessionmaker[AsyncSession], vault: Vault, batch_size: int = BATCH_SIZE
) -> RotationReport:
    """Every organisation's keys, one committed batch at a time."""
    report = RotationReport()
    after: uuid.UUID | None = None
    while True:
        async with unit_of_work(sessions) as session:
            after = await rotate_batch(session, vault, report, after=after, limit=batch_size)
        if after is None:
            return report


async def _rotate_row(
    session: AsyncSession, vault: Vault, row: repository.SealedRow, report: RotationReport
) -> None:
    if vault.is_current(row.ciphertext):
        report.current += 1
        return
    try:
        resealed = vault.reseal(
            row.ciphertext, org_id=row.org_id, key_id=row.id, provider=row.provider
        )
    except VaultError as exc:
        report.failed.append(RotationFailure(row.id, exc.message))
        return
    if await repository.replace_ciphertext(session, row.id, row.ciphertext, resealed):
        report.resealed += 1
    else:
        report.changed += 1
