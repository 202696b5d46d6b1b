"""``launchgate db upgrade`` and the operator commands against an external PostgreSQL."""

from __future__ import annotations

import psycopg

from tests.cli.conftest import Cli, assert_one_clear_line, free_port


def test_db_upgrade_then_orgs_create(cli: Cli, fresh_postgres: str) -> None:
    database = {"LAUNCHGATE_DATABASE_URL": fresh_postgres}
    on_postgres = cli.with_settings(**database)
    upgraded = on_postgres.run("db", "upgrade")
    assert upgraded.returncode == 0, upgraded.stderr
    assert "up to date" in upgraded.stdout
    # Idempotent: a second upgrade is a no-op.
    assert on_postgres.run("db", "upgrade").returncode == 0

    # No LAUNCHGATE_SECRET_KEY is needed to create organisations and users.
    org_id, key = cli.create_org("Acme", **database)
    created = on_postgres.run(
        "users",
        "create",
        "--org",
        org_id,
        "--email",
        "ops@example.com",
        "--password-stdin",
        "--role",
        "owner",
        stdin="long enough password\n",
    )
    assert created.returncode == 0, created.stderr

    with psycopg.connect(fresh_postgres) as db:
        orgs = db.execute("SELECT id::text, name, plan FROM organisations").fetchall()
        keys = db.execute("SELECT key_prefix, mode FROM api_keys").fetchall()
        users = db.execute("SELECT email, role FROM users").fetchall()
    assert orgs == [(org_id, "Acme", "enterprise")]
    assert keys == [(key[:12], "live")]
    assert users == [("ops@example.com", "owner")]
    # Nothing was written to the embedded data dir.
    assert not (cli.cwd / "data" / "launchgate.db").exists()


def test_orgs_create_on_an_unmigrated_database_says_what_to_run(
    cli: Cli, fresh_postgres: str
) -> None:
    done = cli.run("orgs", "create", "Acme", "--json", LAUNCHGATE_DATABASE_URL=fresh_postgres)
    assert done.returncode == 1
    assert done.stdout == ""
    assert_one_clear_line(done.stderr, "launchgate db upgrade")


def test_db_upgrade_against_a_closed_port_is_one_line(cli: Cli) -> None:
    url = f"postgresql://postgres@127.0.0.1:{free_port()}/postgres"
    done = cli.run("db", "upgrade", LAUNCHGATE_DATABASE_URL=url)
    assert done.returncode == 1
    assert_one_clear_line(done.stderr, "Database error")


def test_serve_on_an_external_database_needs_a_secret_key(cli: Cli, fresh_postgres: str) -> None:
    done = cli.run("serve", "--port", str(free_port()), LAUNCHGATE_DATABASE_URL=fresh_postgres)
    assert done.returncode == 2
    assert_one_clear_line(done.stderr, "LAUNCHGATE_SECRET_KEY")
