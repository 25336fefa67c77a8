"""Shared ways of ending a command: bad input exits 2 with one line per problem, never a traceback."""

from __future__ import annotations

import sys
from collections.abc import Iterable
from typing import NoReturn

import typer
from rich.console import Console

from mastcds.case import Problem

stderr = Console(stderr=True, highlight=False, soft_wrap=True)
EXIT_BAD_INPUT = 2


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
