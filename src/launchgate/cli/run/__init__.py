"""Client-side commands: ``launchgate run`` and the GitHub Action's entry point.

Everything in this package talks to the API through ``launchgate.sdk`` only, so it works
on the light install and starts fast (an import-linter contract holds it to that).
"""

from __future__ import annotations

import typer

from launchgate.cli.run.command import RUN_HELP, run


def github_action() -> None:
    """Run the GitHub Action (action.yml): reads its inputs from the environment."""
    from launchgate.cli.run.github_batch import main

    raise typer.Exit(main())


def register(app: typer.Typer) -> None:
    app.command("run", help=RUN_HELP)(run)
    app.command("github-action", hidden=True)(github_action)
