"""``launchgate byok rotate`` as an operator runs it: counts on stdout, failures by id on
stderr, exit 1 when a key did not open, exit 2 with one line for a bad master key."""

from __future__ import annotations

import base64
import os
import re
import stat
import uuid
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from launchgate.byok.vault import Vault
from launchgate.db import create_sync_engine
from launchgate.models import ByokKey
from tests.cli.conftest import Cli, assert_one_clear_line

MAKE_ONE = 'python -c "import secrets; print(secrets.token_hex(32))"'


def database_url(cli: Cli) -> str:
    return f"sqlite:///{cli.cwd / 'data' / 'launchgate.db'}"


def seed(cli: Cli, vault: Vault, count: int, org_id: str | None = None) -> dict[uuid.UUID, str]:
    """``count`` keys sealed by ``vault`` in the embedded database; their plaintexts by id."""
    org = uuid.UUID(org_id or cli.create_org()[0])
    plaintexts: dict[uuid.UUID, str] = {}
    engine = create_sync_engine(database_url(cli))
    try:
        with Session(engine) as session, session.begin():
            for index in range(count):
                key_id, provider = uuid.uuid4(), ("openai", "anthropic", "google")[index % 3]
                plaintext = f"sk-canary-{uuid.uuid4().hex}"
                session.add(
                    ByokKey(
                        id=key_id,
                        org_id=org,
                        provider=provider,
                        name=f"key {index}",
                        key_prefix=plaintext[:8],
                        config={},
                        ciphertext=vault.seal(
                            plaintext, org_id=org, key_id=key_id, provider=provider
                        ),
                    )
                )
                plaintexts[key_id] = plaintext
    finally:
        engine.dispose()
    return plaintexts


def stored(cli: Cli) -> list[ByokKey]:
    engine = create_sync_engine(database_url(cli))
    try:
        with Session(engine) as session:
            return list(session.scalars(select(ByokKey)))
    finally:
        engine.dispose()


def assert_all_open_under(cli: Cli, vault: Vault, plaintexts: dict[uuid.UUID, str]) -> None:
    rows = {row.id: row for row in stored(cli)}
    for key_id, plaintext in plaintexts.items():
        row = rows[key_id]
        assert row.ciphertext is not None and vault.is_current(row.ciphertext)
        assert (
            vault.open(row.ciphertext, org_id=row.org_id, key_id=row.id, provider=row.provider)
            == plaintext
        )


def counts(stdout: str) -> tuple[int, int]:
    match = re.search(
        r"Re-encrypted (\d+) BYOK key\(s\) under master key [0-9a-f]{8}; "
        r"(\d+) already current",
        stdout,
    )
    assert match, stdout
    return int(match.group(1)), int(match.group(2))


def assert_nothing_secret(output: str, plaintexts: dict[uuid.UUID, str], *raws: bytes) -> None:
    for plaintext in plaintexts.values():
        assert plaintext not in output
    for raw in raws:
        assert raw.hex() not in output and base64.b64encode(raw).decode() not in output


def test_help_lists_byok_rotate(cli: Cli) -> None:
    assert "byok" in cli.run("--help").stdout
    done = cli.run("byok", "--help")
    assert done.returncode == 0 and "rotate" in done.stdout


def test_rotate_reseals_every_key_and_a_second_run_does_nothing(cli: Cli) -> None:
    old, new = os.urandom(32), os.urandom(32)
    plaintexts = seed(cli, Vault(old), 5)
    env: dict[str, Any] = {
        "BYOK_ENCRYPTION_KEY": new.hex(),
        "BYOK_ENCRYPTION_KEY_PREVIOUS": base64.b64encode(old).decode(),
    }

    done = cli.run("byok", "rotate", "--batch-size", "2", **env)

    assert done.returncode == 0, done.stderr
    assert counts(done.stdout) == (5, 0)
    assert Vault(new).current_kid in done.stdout
    assert done.stderr == ""
    assert_nothing_secret(done.stdout + done.stderr, plaintexts, old, new)
    assert_all_open_under(cli, Vault(new), plaintexts)

    again = cli.run("byok", "rotate", **env)
    assert again.returncode == 0, again.stderr
    assert counts(again.stdout) == (0, 5)


def test_the_prefixed_variable_names_work_too(cli: Cli) -> None:
    old, new = os.urandom(32), os.urandom(32)
    plaintexts = seed(cli, Vault(old), 2)
    done = cli.run(
        "byok",
        "rotate",
        LAUNCHGATE_BYOK_ENCRYPTION_KEY=new.hex(),
        LAUNCHGATE_BYOK_ENCRYPTION_KEY_PREVIOUS=old.hex(),
    )
    assert done.returncode == 0, done.stderr
    assert counts(done.stdout) == (2, 0)
    assert_all_open_under(cli, Vault(new), plaintexts)


def test_a_key_that_does_not_open_is_reported_by_id_and_exits_1(cli: Cli) -> None:
    old, new, lost = os.urandom(32), os.urandom(32), os.urandom(32)
    org_id, _ = cli.create_org()
    plaintexts = seed(cli, Vault(old), 3, org_id)
    orphans = seed(cli, Vault(lost), 1, org_id)
    (orphan_id,) = orphans
    env: dict[str, Any] = {
        "BYOK_ENCRYPTION_KEY": new.hex(),
        "BYOK_ENCRYPTION_KEY_PREVIOUS": old.hex(),
    }

    done = cli.run("byok", "rotate", "--batch-size", "1", **env)

    assert done.returncode == 1
    assert counts(done.stdout) == (3, 0)  # the others were finished all the same
    errors = [line for line in done.stderr.splitlines() if line.strip()]
    assert len(errors) == 2 and "Traceback" not in done.stderr
    assert str(orphan_id) in errors[0] and "cannot be decrypted" in errors[0]
    assert "BYOK_ENCRYPTION_KEY_PREVIOUS" in errors[1]
    assert_nothing_secret(done.stdout + done.stderr, {**plaintexts, **orphans}, old, new, lost)
    assert_all_open_under(cli, Vault(new), plaintexts)

    # Still reported on the next run; with the lost key supplied, the run completes.
    assert cli.run("byok", "rotate", **env).returncode == 1
    fixed = cli.run(
        "byok",
        "rotate",
        BYOK_ENCRYPTION_KEY=new.hex(),
        BYOK_ENCRYPTION_KEY_PREVIOUS=f"{old.hex()},{lost.hex()}",
    )
    assert fixed.returncode == 0, fixed.stderr
    assert counts(fixed.stdout) == (1, 3)


def test_without_the_previous_key_every_old_row_is_reported(cli: Cli) -> None:
    old, new = os.urandom(32), os.urandom(32)
    plaintexts = seed(cli, Vault(old), 2)
    done = cli.run("byok", "rotate", BYOK_ENCRYPTION_KEY=new.hex())
    assert done.returncode == 1
    assert counts(done.stdout) == (0, 0)
    for key_id in plaintexts:
        assert str(key_id) in done.stderr


def test_a_malformed_master_key_stops_in_one_line(cli: Cli) -> None:
    value = "hunter2-" + "x" * 20
    done = cli.run("byok", "rotate", BYOK_ENCRYPTION_KEY=value)
    assert done.returncode == 2
    assert done.stdout == ""
    assert_one_clear_line(done.stderr, "BYOK_ENCRYPTION_KEY", MAKE_ONE)
    assert value not in done.stderr


def test_a_malformed_previous_key_stops_in_one_line(cli: Cli) -> None:
    done = cli.run(
        "byok",
        "rotate",
        BYOK_ENCRYPTION_KEY=os.urandom(32).hex(),
        BYOK_ENCRYPTION_KEY_PREVIOUS="00" * 31,
    )
    assert done.returncode == 2
    assert_one_clear_line(done.stderr, "BYOK_ENCRYPTION_KEY_PREVIOUS", "62 hex characters")


def test_production_without_the_master_key_is_refused(cli: Cli) -> None:
    done = cli.run("byok", "rotate", LAUNCHGATE_ENV="production")
    assert done.returncode == 2
    assert_one_clear_line(done.stderr, "BYOK_ENCRYPTION_KEY is not set", MAKE_ONE)
    assert not (cli.cwd / "data" / "byok.key").exists()


def test_embedded_mode_without_the_variable_uses_the_generated_key_file(cli: Cli) -> None:
    first = cli.run("byok", "rotate")
    assert first.returncode == 0, first.stderr
    assert counts(first.stdout) == (0, 0)
    path = cli.cwd / "data" / "byok.key"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert "byok.master_key_generated" in first.stdout + first.stderr
    raw = bytes.fromhex(path.read_text().strip())
    assert_nothing_secret(first.stdout + first.stderr, {}, raw)

    # Keys sealed under the file's key are current; moving to a variable is a rotation.
    plaintexts = seed(cli, Vault(raw), 2)
    second = cli.run("byok", "rotate")
    assert second.returncode == 0, second.stderr
    assert counts(second.stdout) == (0, 2)
    assert "byok.master_key_generated" not in second.stdout + second.stderr
    new = os.urandom(32)
    moved = cli.run(
        "byok", "rotate", BYOK_ENCRYPTION_KEY=new.hex(), BYOK_ENCRYPTION_KEY_PREVIOUS=raw.hex()
    )
    assert moved.returncode == 0, moved.stderr
    assert counts(moved.stdout) == (2, 0)
    assert_all_open_under(cli, Vault(new), plaintexts)
