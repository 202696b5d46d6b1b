"""Rotation over real rows: every key resealed under the current master key, batch by batch,
safe to interrupt and run again, and a key that does not open reported by id.

Rotation reads every organisation's keys, and the test database is shared, so assertions
look at this test's own rows; rows other tests left, sealed under keys these vaults do not
know, can only show up as failures, which are checked by id.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator
from datetime import datetime
from typing import Any

import pytest
from sqlalchemy import delete, select

from launchgate.byok import repository
from launchgate.byok.rotation import RotationReport, rotate_all, rotate_batch
from launchgate.byok.vault import Vault
from launchgate.db import unit_of_work
from launchgate.models import ByokKey
from launchgate.runtime import ApiRuntime
from tests.factories import Api

PROVIDERS = ("openai", "anthropic", "google", "azure_openai")


class Interrupted(Exception):
    """Stands in for a crash or Ctrl-C in the middle of a run."""


class InterruptingVault(Vault):
    """A vault that gives up when asked to reseal after ``allowed`` successful reseals."""

    def __init__(self, current: bytes, previous: list[bytes], allowed: int) -> None:
        super().__init__(current, previous)
        self.allowed = allowed

    def reseal(self, ciphertext: str, **binding: Any) -> str:
        if self.allowed == 0:
            raise Interrupted
        resealed = super().reseal(ciphertext, **binding)
        self.allowed -= 1
        return resealed


class Keys:
    """This test's organisations and rows; deleted afterwards so no other test sees them."""

    def __init__(self, api: Api, runtime: ApiRuntime) -> None:
        self.api = api
        self.runtime = runtime
        self.org_ids: list[uuid.UUID] = []
        self.plaintexts: dict[uuid.UUID, str] = {}

    async def org(self) -> uuid.UUID:
        org_id = (await self.api.org()).id
        self.org_ids.append(org_id)
        return org_id

    async def add(
        self,
        vault: Vault,
        org_id: uuid.UUID,
        provider: str = "openai",
        plaintext: str | None = None,
        status: str = "active",
    ) -> ByokKey:
        key_id = uuid.uuid4()
        plaintext = plaintext or f"sk-test-{uuid.uuid4().hex}"
        sealed = vault.seal(plaintext, org_id=org_id, key_id=key_id, provider=provider)
        row = ByokKey(
            id=key_id,
            org_id=org_id,
            provider=provider,
            name=f"key {key_id.hex[:6]}",
            key_prefix=plaintext[:8],
            ciphertext=None if status == "revoked" else sealed,
            status=status,
            config={},
        )
        async with unit_of_work(self.runtime.sessions) as session:
            session.add(row)
        self.plaintexts[key_id] = plaintext
        return row

    async def spread(self, vault: Vault, count: int) -> list[ByokKey]:
        """``count`` keys over two organisations and all four providers."""
        orgs = [await self.org(), await self.org()]
        return [await self.add(vault, orgs[i % 2], PROVIDERS[i % 4]) for i in range(count)]

    async def rows(self) -> dict[uuid.UUID, ByokKey]:
        async with self.runtime.sessions() as session:
            found = await session.scalars(select(ByokKey).where(ByokKey.org_id.in_(self.org_ids)))
            return {row.id: row for row in found}

    async def ciphertexts(self) -> dict[uuid.UUID, str | None]:
        return {key_id: row.ciphertext for key_id, row in (await self.rows()).items()}

    async def delete(self) -> None:
        async with unit_of_work(self.runtime.sessions) as session:
            await session.execute(delete(ByokKey).where(ByokKey.org_id.in_(self.org_ids)))


@pytest.fixture
async def keys(api: Api, runtime: ApiRuntime) -> AsyncIterator[Keys]:
    made = Keys(api, runtime)
    yield made
    await made.delete()


def failed_ids(report: RotationReport) -> set[uuid.UUID]:
    return {failure.key_id for failure in report.failed}


async def assert_all_open_under(keys: Keys, vault: Vault) -> None:
    """Every live row of this test is sealed under the vault's key and opens to its text."""
    for key_id, row in (await keys.rows()).items():
        if row.status == "revoked":
            continue
        assert row.ciphertext is not None and vault.is_current(row.ciphertext)
        opened = vault.open(row.ciphertext, org_id=row.org_id, key_id=row.id, provider=row.provider)
        assert opened == keys.plaintexts[key_id]


async def test_rotation_reseals_every_row_under_the_new_key(
    keys: Keys, runtime: ApiRuntime
) -> None:
    old, new = os.urandom(32), os.urandom(32)
    made = await keys.spread(Vault(old), 7)
    before: dict[uuid.UUID, datetime] = {k: r.updated_at for k, r in (await keys.rows()).items()}

    report = await rotate_all(runtime.sessions, Vault(new, [old]), batch_size=3)

    assert report.resealed == 7 and report.current == 0 and report.changed == 0
    assert not failed_ids(report) & {row.id for row in made}
    # Only the new key is needed from now on; and rotation changes no visible fact of a key.
    await assert_all_open_under(keys, Vault(new))
    assert {k: r.updated_at for k, r in (await keys.rows()).items()} == before


async def test_rotation_is_idempotent(keys: Keys, runtime: ApiRuntime) -> None:
    old, new = os.urandom(32), os.urandom(32)
    await keys.spread(Vault(old), 5)
    vault = Vault(new, [old])
    await rotate_all(runtime.sessions, vault)
    after_first = await keys.ciphertexts()

    again = await rotate_all(runtime.sessions, vault)

    assert again.resealed == 0 and again.current == 5
    assert await keys.ciphertexts() == after_first  # nothing rewritten


async def test_an_interrupted_rotation_keeps_its_progress_and_a_rerun_completes(
    keys: Keys, runtime: ApiRuntime
) -> None:
    old, new = os.urandom(32), os.urandom(32)
    await keys.spread(Vault(old), 9)

    with pytest.raises(Interrupted):
        await rotate_all(runtime.sessions, InterruptingVault(new, [old], allowed=5), batch_size=2)

    # Finished batches stayed committed; the batch that was cut short (the sixth reseal, and
    # at most one before it) was rolled back.
    ciphertexts = await keys.ciphertexts()
    done = [c for c in ciphertexts.values() if c is not None and Vault(new).is_current(c)]
    assert 4 <= len(done) <= 5
    assert all(
        c is not None and (Vault(old).is_current(c) or c in done) for c in ciphertexts.values()
    )

    rerun = await rotate_all(runtime.sessions, Vault(new, [old]), batch_size=2)

    assert rerun.current == len(done) and rerun.resealed == 9 - len(done)
    await assert_all_open_under(keys, Vault(new))


async def test_a_single_batch_then_the_rest(keys: Keys, runtime: ApiRuntime) -> None:
    """``rotate_batch`` alone, committed, then a full run carries on after it."""
    old, new = os.urandom(32), os.urandom(32)
    await keys.spread(Vault(old), 4)
    vault = Vault(new, [old])
    first = RotationReport()
    async with unit_of_work(runtime.sessions) as session:
        await rotate_batch(session, vault, first, limit=10_000)
    assert first.resealed == 4

    rest = await rotate_all(runtime.sessions, vault)

    assert rest.resealed == 0 and rest.current == 4
    await assert_all_open_under(keys, Vault(new))


async def test_a_row_no_accepted_key_opens_is_reported_by_id(
    keys: Keys, runtime: ApiRuntime
) -> None:
    old, new, lost = os.urandom(32), os.urandom(32), os.urandom(32)
    made = await keys.spread(Vault(old), 3)
    orphan = await keys.add(Vault(lost), made[0].org_id)

    report = await rotate_all(runtime.sessions, Vault(new, [old]), batch_size=2)

    assert orphan.id in failed_ids(report)
    assert not failed_ids(report) & {row.id for row in made}
    assert report.resealed == 3
    failure = next(f for f in report.failed if f.key_id == orphan.id)
    assert str(orphan.id) in failure.message and "cannot be decrypted" in failure.message
    assert orphan.ciphertext is not None and orphan.ciphertext.split(".")[2][:12] not in (
        failure.message
    )
    # The orphan is left exactly as it was, for the operator to deal with.
    assert (await keys.ciphertexts())[orphan.id] == orphan.ciphertext
    # Reported again on every run until someone supplies its key.
    again = await rotate_all(runtime.sessions, Vault(new, [old]))
    assert orphan.id in failed_ids(again)
    final = await rotate_all(runtime.sessions, Vault(new, [old, lost]))
    assert orphan.id not in failed_ids(final) and final.resealed == 1
    await assert_all_open_under(keys, Vault(new))


async def test_a_ciphertext_copied_to_another_organisation_is_reported(
    keys: Keys, runtime: ApiRuntime
) -> None:
    old, new = os.urandom(32), os.urandom(32)
    original = await keys.add(Vault(old), await keys.org())
    copy = await keys.add(Vault(old), await keys.org())
    async with unit_of_work(runtime.sessions) as session:
        stored = await session.get(ByokKey, copy.id)
        assert stored is not None
        stored.ciphertext = original.ciphertext

    report = await rotate_all(runtime.sessions, Vault(new, [old]))

    assert copy.id in failed_ids(report) and original.id not in failed_ids(report)


async def test_revoked_rows_are_left_alone(keys: Keys, runtime: ApiRuntime) -> None:
    old, new = os.urandom(32), os.urandom(32)
    org_id = await keys.org()
    live = await keys.add(Vault(old), org_id)
    revoked = await keys.add(Vault(old), org_id, status="revoked")

    report = await rotate_all(runtime.sessions, Vault(new, [old]))

    assert report.resealed == 1 and revoked.id not in failed_ids(report)
    rows = await keys.rows()
    assert rows[revoked.id].ciphertext is None and rows[revoked.id].status == "revoked"
    assert Vault(new).is_current(rows[live.id].ciphertext or "")


async def test_a_row_changed_meanwhile_is_not_overwritten(keys: Keys, runtime: ApiRuntime) -> None:
    old, new = os.urandom(32), os.urandom(32)
    row = await keys.add(Vault(old), await keys.org())
    assert row.ciphertext is not None
    stale = row.ciphertext
    newer = Vault(new).seal("sk-newer", org_id=row.org_id, key_id=row.id, provider=row.provider)
    async with unit_of_work(runtime.sessions) as session:
        assert await repository.replace_ciphertext(session, row.id, stale, newer)
    async with unit_of_work(runtime.sessions) as session:
        # A rotation that read the row before that write must not undo it.
        assert not await repository.replace_ciphertext(session, row.id, stale, "v1.x.y")
    assert (await keys.ciphertexts())[row.id] == newer


async def test_sealed_rows_hide_their_ciphertext(keys: Keys, runtime: ApiRuntime) -> None:
    row = await keys.add(Vault(os.urandom(32)), await keys.org())
    async with runtime.sessions() as session:
        page = await repository.sealed_after(session, None, 100_000)
    mine = next(sealed for sealed in page if sealed.id == row.id)
    assert mine.ciphertext == row.ciphertext and mine.ciphertext not in repr(mine)
    # Keyset pages: in id order, the same order Python gives UUIDs.
    assert [sealed.id for sealed in page] == sorted(sealed.id for sealed in page)
