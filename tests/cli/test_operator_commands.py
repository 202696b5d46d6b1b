"""``launchgate`` operator commands as an operator types them: help, orgs, users, settings."""

from __future__ import annotations

import json
import re
import sqlite3
import uuid

from tests.cli.conftest import Cli, assert_one_clear_line

API_KEY = re.compile(r"^lg_live_[0-9A-Za-z]{32}$")


def test_help_lists_the_operator_commands(cli: Cli) -> None:
    done = cli.run("--help")
    assert done.returncode == 0, done.stderr
    for command in ("serve", "quickstart", "db", "orgs", "users"):
        assert command in done.stdout
    assert done.stderr == ""


def test_orgs_create_json_prints_exactly_one_object(cli: Cli) -> None:
    done = cli.run("orgs", "create", "Acme", "--json")
    assert done.returncode == 0, done.stderr
    assert done.stdout.count("\n") == 1 and done.stdout.endswith("\n")
    assert done.stderr == ""
    created = json.loads(done.stdout)
    assert set(created) == {"org_id", "api_key"}
    uuid.UUID(created["org_id"])
    assert API_KEY.match(created["api_key"])
    # The embedded database was created and migrated in the data dir.
    assert (cli.cwd / "data" / "launchgate.db").is_file()


def test_orgs_create_without_json_shows_the_key_once(cli: Cli) -> None:
    done = cli.run("orgs", "create", "Acme", "--plan", "pro")
    assert done.returncode == 0, done.stderr
    assert len(re.findall(r"lg_live_[0-9A-Za-z]{32}", done.stdout)) == 1
    assert "shown once" in done.stdout


def test_orgs_create_refuses_an_unknown_plan(cli: Cli) -> None:
    done = cli.run("orgs", "create", "Acme", "--plan", "platinum", "--json")
    assert done.returncode == 2
    assert done.stdout == ""
    assert_one_clear_line(done.stderr, "plan must be one of")


def test_users_create_reads_the_password_from_stdin(cli: Cli) -> None:
    org_id, _ = cli.create_org()
    password = "correct horse battery staple"
    done = cli.run(
        "users",
        "create",
        "--org",
        org_id,
        "--email",
        "Ada@Example.com",
        "--password-stdin",
        "--role",
        "owner",
        stdin=password + "\n",
    )
    assert done.returncode == 0, done.stderr
    assert "ada@example.com" in done.stdout.lower() and password not in done.stdout + done.stderr
    with sqlite3.connect(cli.cwd / "data" / "launchgate.db") as db:
        rows = db.execute("SELECT email, role, password_hash FROM users").fetchall()
    assert len(rows) == 1
    email, role, password_hash = rows[0]
    assert (email, role) == ("ada@example.com", "owner")
    assert password not in password_hash and password_hash.startswith("$argon2")


def test_users_create_refuses_a_bad_org_id(cli: Cli) -> None:
    # Square brackets are Rich markup: the id must be shown as typed, not rendered.
    done = cli.run(
        "users",
        "create",
        "--org",
        "[b]not-a-uuid",
        "--email",
        "a@example.com",
        "--password-stdin",
        stdin="long enough password\n",
    )
    assert done.returncode == 2
    assert_one_clear_line(done.stderr, "'[b]not-a-uuid' is not an organisation id")


def test_users_create_refuses_an_unknown_org(cli: Cli) -> None:
    missing = str(uuid.uuid4())
    done = cli.run(
        "users",
        "create",
        "--org",
        missing,
        "--email",
        "a@example.com",
        "--password-stdin",
        stdin="long enough password\n",
    )
    assert done.returncode == 2
    assert_one_clear_line(done.stderr, missing, "not found")


def test_users_create_refuses_a_short_password_and_a_taken_email(cli: Cli) -> None:
    org_id, _ = cli.create_org()
    args = ("users", "create", "--org", org_id, "--email", "a@example.com", "--password-stdin")
    short = cli.run(*args, stdin="short\n")
    assert short.returncode == 2
    assert_one_clear_line(short.stderr, "at least 8 characters")
    assert cli.run(*args, stdin="long enough password\n").returncode == 0
    # Login emails are unique across organisations, not only within one.
    other_org, _ = cli.create_org("Other")
    taken = cli.run(
        "users",
        "create",
        "--org",
        other_org,
        "--email",
        "A@example.com",
        "--password-stdin",
        stdin="long enough password\n",
    )
    assert taken.returncode == 2
    assert_one_clear_line(taken.stderr, "already exists")


def test_users_create_requires_password_stdin(cli: Cli) -> None:
    done = cli.run("users", "create", "--org", str(uuid.uuid4()), "--email", "a@example.com")
    assert done.returncode == 2
    assert_one_clear_line(done.stderr, "--password-stdin")


def test_a_bad_setting_stops_with_one_line_naming_it(cli: Cli) -> None:
    done = cli.run("orgs", "create", "Acme", "--json", LAUNCHGATE_RATE_LIMIT="banana")
    assert done.returncode == 2
    assert done.stdout == ""
    assert_one_clear_line(done.stderr, "LAUNCHGATE_RATE_LIMIT", "banana")


def test_every_command_checks_settings_first(cli: Cli) -> None:
    for args in (("serve", "--port", "1"), ("quickstart", "--no-serve"), ("db", "upgrade")):
        done = cli.run(*args, LAUNCHGATE_DEFAULT_PLAN="gold")
        assert done.returncode == 2, args
        assert_one_clear_line(done.stderr, "LAUNCHGATE_DEFAULT_PLAN")
    assert not (cli.cwd / "data").exists()


def test_orgs_set_plan_changes_the_plan_once_and_audits_it(cli: Cli) -> None:
    org_id, _ = cli.create_org()  # the default plan of a self-hosted install: enterprise
    done = cli.run("orgs", "set-plan", org_id, "free")
    assert done.returncode == 0, done.stderr
    assert "enterprise -> free" in done.stdout and "restart" in done.stdout
    again = cli.run("orgs", "set-plan", org_id, "free")
    assert again.returncode == 0 and "nothing changed" in again.stdout
    with sqlite3.connect(cli.cwd / "data" / "launchgate.db") as db:
        (plan,) = db.execute("SELECT plan FROM organisations").fetchone()
        audits = db.execute(
            "SELECT action, actor_type, details FROM audit_events WHERE action LIKE '%plan%'"
        ).fetchall()
    assert plan == "free"
    assert len(audits) == 1
    action, actor, details = audits[0]
    assert (action, actor) == ("organization.plan_changed", "system")
    assert json.loads(details)["plan"] == {"from": "enterprise", "to": "free"}


def test_orgs_set_plan_refuses_a_bad_plan_a_bad_id_and_an_unknown_org(cli: Cli) -> None:
    org_id, _ = cli.create_org()
    bad_plan = cli.run("orgs", "set-plan", org_id, "platinum")
    assert bad_plan.returncode == 2
    assert_one_clear_line(bad_plan.stderr, "plan must be one of")
    bad_id = cli.run("orgs", "set-plan", "[b]nope", "free")
    assert bad_id.returncode == 2
    assert_one_clear_line(bad_id.stderr, "'[b]nope' is not an organisation id")
    missing = str(uuid.uuid4())
    unknown = cli.run("orgs", "set-plan", missing, "free")
    assert unknown.returncode == 2
    assert_one_clear_line(unknown.stderr, missing, "not found")
    with sqlite3.connect(cli.cwd / "data" / "launchgate.db") as db:
        assert db.execute("SELECT plan FROM organisations").fetchone() == ("enterprise",)
