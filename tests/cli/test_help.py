"""Every command's ``--help`` reads like the Python ecosystem's CLIs: ``Usage: launchgate run
[OPTIONS] SUITE``, flags without a value placeholder, values named in upper case; never
Typer 0.27+'s ``{suite}``, ``<str>`` or ``<bool>`` (cli/help.py says why).

The commands are read from the app, so one added later is checked too; the help itself is
the real console script's, in both of Typer's renderers (rich panels, and plain text with
``TYPER_USE_RICH=0``).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest
import typer
from typer.core import TyperArgument, TyperOption

from launchgate.cli.main import app
from tests.cli.conftest import Cli

# The usage lines a user reads most, word for word.
USAGE = {
    "": "launchgate [OPTIONS] COMMAND [ARGS]...",
    "run": "launchgate run [OPTIONS] SUITE",
    "serve": "launchgate serve [OPTIONS]",
    "worker": "launchgate worker [OPTIONS]",
    "quickstart": "launchgate quickstart [OPTIONS]",
    "db upgrade": "launchgate db upgrade [OPTIONS]",
    "orgs create": "launchgate orgs create [OPTIONS] NAME",
    "users create": "launchgate users create [OPTIONS]",
    "byok rotate": "launchgate byok rotate [OPTIONS]",
}
# Typer 0.27+'s own forms: a type in angle brackets, a name in braces.
TYPER_PLACEHOLDER = re.compile(r"<[a-z][\w |,\[\]]*>|\{\w+\}")


def commands() -> Iterator[tuple[str, Any]]:
    """Every visible command and group of ``launchgate``, by the words that name it (Typer's
    own Click-like command objects)."""

    def walk(command: Any, words: list[str]) -> Iterator[tuple[str, Any]]:
        yield " ".join(words), command
        for name, sub in sorted(getattr(command, "commands", {}).items()):
            if not sub.hidden:
                yield from walk(sub, [*words, name])

    yield from walk(typer.main.get_command(app), [])


ALL = dict(commands())


def test_the_commands_the_issue_names_are_all_found() -> None:
    assert set(USAGE) <= set(ALL), sorted(ALL)


def help_text(cli: Cli, words: str, plain: bool) -> str:
    args = [*words.split(), "--help"]
    done = cli.run(*args, TYPER_USE_RICH="0") if plain else cli.run(*args)
    assert done.returncode == 0, done.stderr
    assert done.stderr == ""
    return done.stdout


def option_line(text: str, opt: str) -> str:
    """What follows ``opt`` (and its short form) on the line that starts with it, in either
    renderer: ``│ --concurrency  -c  N ...`` or ``  -c, --concurrency N ...``."""
    for line in text.splitlines():
        match = re.match(rf"^[│\s*]*(?:-\w,\s*)?{re.escape(opt)}(?:\s+-\w\b)?(\s.*|)$", line)
        if match:
            return match[1].strip(" │").strip()
    raise AssertionError(f"{opt} is not in the help:\n{text}")


@pytest.mark.parametrize("plain", [False, True], ids=["rich", "plain"])
@pytest.mark.parametrize("words", sorted(ALL))
def test_help_reads_like_python_clis(cli: Cli, words: str, plain: bool) -> None:
    command = ALL[words]
    text = help_text(cli, words, plain)
    usage = re.search(r"Usage: (.*\S)", text)
    assert usage, text
    if words in USAGE:
        assert usage[1] == USAGE[words]
    assert not TYPER_PLACEHOLDER.search(text), text

    params = [*command.params, command.get_help_option(typer.Context(command))]
    for param in params:
        if isinstance(param, TyperArgument):
            name = param.name.upper()
            assert re.search(rf"\b{name}\b", usage[1]), usage[1]
            continue
        assert isinstance(param, TyperOption)
        after = option_line(text, param.opts[0])
        if param.is_flag:
            # The help text comes straight after the flag: no "<bool>", no placeholder.
            assert after.startswith((param.help or "")[:20]), (param.opts[0], after)
        else:
            placeholder = after.split()[0]
            assert re.fullmatch(r"[A-Z][A-Z_]*", placeholder), (param.opts[0], after)


def test_a_missing_argument_is_named_as_the_help_names_it(cli: Cli) -> None:
    done = cli.run("run")
    assert done.returncode == 2
    assert "Missing argument 'SUITE'" in done.stderr
    assert "Usage: launchgate run [OPTIONS] SUITE" in done.stderr
