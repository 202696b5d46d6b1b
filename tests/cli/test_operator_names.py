"""Names an operator types are held to the API's rule: no control characters or line
breaks (a NUL cannot be passed in an argument; the API refuses it in bodies)."""

from __future__ import annotations

import pytest

from tests.cli.conftest import Cli, assert_one_clear_line


@pytest.mark.parametrize("name", ["Acme\nInc", "Acme\x07", "Acme\u2028Inc", "Ac\x85me"])
def test_orgs_create_refuses_control_characters(cli: Cli, name: str) -> None:
    done = cli.run("orgs", "create", name, "--json")
    assert done.returncode == 2, done.stdout
    assert done.stdout == ""
    assert_one_clear_line(done.stderr, "organisation name must not contain control characters")


def test_users_create_refuses_control_characters_in_the_email(cli: Cli) -> None:
    org_id, _ = cli.create_org()
    done = cli.run(
        "users",
        "create",
        "--org",
        org_id,
        "--email",
        "a\x01@example.com",
        "--password-stdin",
        stdin="correct horse battery staple\n",
    )
    assert done.returncode == 2, done.stdout
    assert_one_clear_line(done.stderr, "the email address must not contain control characters")
