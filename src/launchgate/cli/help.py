"""``--help`` as Python's command-line tools write it (argparse, pip, Click before Typer 0.27):
``Usage: launchgate run [OPTIONS] SUITE``, a flag with no value placeholder (``--json``), and
a value named by what it holds (``--port PORT``, ``--api-url URL``).

Why this module exists: Typer 0.27 changed its help on purpose (fastapi/typer#1863) to show
Python type names in angle brackets (``--output <str>``) and arguments in braces in the usage
line (``launchgate run [OPTIONS] {suite}``), and from 0.29 its rich help prints a type after
every flag too (``--json <bool>``, ``--help <bool>``), which reads as if the flag took a
value. Our declarations named no metavar, so all of it reached the user. Pinning an old
Typer would also stop its fixes; instead every command of ``launchgate`` is built from the
classes below (``App`` makes them the default), which decide these three things from the
parameters' public attributes, whatever Typer's defaults are. Everything else (panels,
colours, wrapping) stays Typer's.
"""

from __future__ import annotations

from typing import Any

import typer
from typer.core import TyperArgument, TyperCommand, TyperGroup, TyperOption


class _Argument(TyperArgument):
    """An argument reads ``SUITE``: upper case, in the usage line, its panel and errors."""

    @property
    def display_name_raw(self) -> str:
        return self.metavar or (self.name or "").upper()

    def display_type_rich(self, ctx: Any) -> str | None:
        return None  # the name says what it is; "<str>" beside it says nothing more

    def get_usage_pieces(self, ctx: Any) -> list[str]:
        name = self.display_name_raw
        if not self.required:
            name = f"[{name}]"
        return [name + ("..." if self.nargs != 1 else "")]


class _Option(TyperOption):
    """A flag shows no placeholder; an option with a value shows its metavar, by default
    the option's name in upper case as argparse does (``--batch-size BATCH_SIZE``)."""

    def display_type_rich(self, ctx: Any) -> str | None:
        if self.is_flag or self.count:
            return None
        return self.metavar or (self.name or "").upper()


def _classic(param: Any) -> None:
    """Give a parameter Typer built the behaviour above. Typer offers no way to choose the
    parameter classes, and the subclasses add methods only (no state), so the instance
    changes class in place."""
    if type(param) is TyperArgument:
        param.__class__ = _Argument
    elif type(param) is TyperOption:
        param.__class__ = _Option


class _ClassicHelp:
    """Makes a command's or group's parameters, ``--help`` included, read the classic way."""

    params: list[Any]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for param in self.params:
            _classic(param)

    def get_help_option(self, ctx: Any) -> Any:
        option = super().get_help_option(ctx)  # type: ignore[misc]  # Click's Command, next in the MRO
        if option is not None:
            _classic(option)
        return option


class Command(_ClassicHelp, TyperCommand):
    """A command whose help reads the classic way (module docstring)."""


class Group(_ClassicHelp, TyperGroup):
    """A command group whose help reads the classic way (module docstring)."""


class App(typer.Typer):
    """``typer.Typer`` whose groups and commands are the classes above unless a command
    names its own, so a command added later reads like the others without remembering to."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("cls", Group)
        super().__init__(**kwargs)

    def command(self, *args: Any, **kwargs: Any) -> Any:
        kwargs.setdefault("cls", Command)
        return super().command(*args, **kwargs)
