"""Entry point. Server commands import the server stack lazily, so ``launchgate --help``
and the client commands work on the light install."""

from __future__ import annotations

import sys

from launchgate.cli import admin
from launchgate.cli import run as client_commands
from launchgate.cli.help import App

app = App(
    name="launchgate",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    help="LaunchGate: score an AI output against an eval suite — cleared for launch, or aborted.",
)
admin.register(app)
client_commands.register(app)


def main() -> None:
    try:
        app()
    except KeyboardInterrupt:
        sys.exit(130)
