"""Shared ways of ending a command: bad input exits 2 with one line per problem, never a traceback."""

from __future__ import annotations

import sys
from collections.abc import Iterable
from typing import Any, NoReturn

import typer
from rich.console import Console

from mastcds.case import Problem

EXIT_BAD_INPUT = 2


class TerminalConsole:
    """A Rich console built when it prints, not when its module is imported.

    A :class:`rich.console.Console` fixes its width from ``$COLUMNS`` when it
    is constructed: one built at import kept the width of whatever imported
    the command line first (a test runner's 80 columns, another test's
    setting) for every later command in that process. This one reads the
    environment and the current ``sys.stdout``/``sys.stderr`` on every use.
    """

    def __init__(self, **options: Any) -> None:
        self._options = {"highlight": False, **options}

    def now(self) -> Console:
        """A console for the terminal as it is now."""
        return Console(**self._options)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.now(), name)


stderr = TerminalConsole(stderr=True, soft_wrap=True)


def fail(problems: Iterable[Problem | str], *, source: str | None = None) -> NoReturn:
    """Print every problem on its own line (prefixed with the input's name) and exit 2."""
    prefix = f"{source}: " if source else ""
    for problem in problems:
        stderr.print(f"error: {prefix}{problem}", markup=False)
    raise typer.Exit(EXIT_BAD_INPUT)


def read_text_or_fail(path: str) -> str:
    """The file's text ('-' is standard input), or exit 2 saying why it cannot be read."""
    if path == "-":
        return sys.stdin.read()
    try:
        with open(path, encoding="utf-8") as handle:
            return handle.read()
    except FileNotFoundError:
        fail([f"{path}: no such file"])
    except IsADirectoryError:
        fail([f"{path}: is a directory, expected a file"])
    except UnicodeDecodeError:
        fail([f"{path}: not UTF-8 text"])
    except OSError as error:
        fail([f"{path}: cannot be read ({error.strerror})"])
