"""Every command's --help fits 80 and 100 columns without cutting a word, and says what each option takes."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from typer.main import get_command
from typer.testing import CliRunner

from mastcds.cli import app


def command_paths(command: Any = None, path: tuple[str, ...] = ()) -> Iterator[tuple[str, ...]]:
    command = command or get_command(app)
    yield path
    for name, sub in getattr(command, "commands", {}).items():
        yield from command_paths(sub, (*path, name))


COMMANDS = list(command_paths())


def help_text(path: tuple[str, ...], columns: int) -> str:
    done = CliRunner().invoke(app, [*path, "--help"], env={"COLUMNS": str(columns)})
    assert done.exit_code == 0, done.output
    return done.output


@pytest.mark.parametrize("columns", [80, 100])
@pytest.mark.parametrize("path", COMMANDS, ids=lambda p: " ".join(p) or "mastcds")
def test_help_is_whole_and_names_what_each_option_takes(path: tuple[str, ...], columns: int) -> None:
    text = help_text(path, columns)
    assert "…" not in text, "a name or word cut short"
    for typer_type in ("<bool>", "<str>", "<float>", "<int>"):
        assert typer_type not in text
    assert max(len(line) for line in text.splitlines()) <= columns


def test_numbers_and_flags_read_as_such() -> None:
    text = help_text(("dose", "omalizumab"), 100)
    assert "--ige" in text and "NUMBER" in text
    flags = help_text(("rema",), 80)
    assert "--no-syncope" in flags and "--urticaria-angioedema" in flags
