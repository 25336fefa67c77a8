"""The Typer application every command module registers on, with help that says what each option takes."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import typer
from typer.core import TyperCommand, TyperGroup

# What an option's value is, in the help's type column (Typer's own would print
# <str> or <float>; a flag would show <bool> although it takes no value).
METAVARS = {float: "NUMBER", int: "INTEGER", str: "TEXT", Path: "PATH"}


def _value_name(param: Any) -> str | None:
    """NUMBER, INTEGER, TEXT or PATH for a plain value; ``None`` for a choice (Typer lists its values)."""
    described = param.type_descriptor
    if described.is_choice:
        return None
    annotation = described.annotation
    element = getattr(annotation, "__args__", (annotation,))[0] if described.is_list else annotation
    return METAVARS.get(element)


def _name_values(params: list[Any]) -> list[Any]:
    for param in params:
        if param.param_type_name == "argument":
            # the argument's own name (ID, CASE.json) says what it is; a number says so
            shown = _value_name(param)
            param.display_type_rich = lambda ctx, shown=shown: None if shown in (None, "TEXT", "PATH") else shown
        elif param.metavar is None:
            param.metavar = "" if param.is_flag else _value_name(param)
    return params


class HelpfulCommand(TyperCommand):
    """A command whose --help names each option's value (NUMBER, TEXT, a choice) and shows none for a flag."""

    def get_params(self, ctx: Any) -> list[Any]:
        return _name_values(super().get_params(ctx))


class HelpfulGroup(TyperGroup):
    """A command group with the help of :class:`HelpfulCommand`."""

    def get_params(self, ctx: Any) -> list[Any]:
        return _name_values(super().get_params(ctx))


def use_helpful_help(application: typer.Typer) -> None:
    """Give every command and group registered so far the help of :class:`HelpfulCommand`."""
    for command in application.registered_commands:
        if command.cls in (None, TyperCommand):
            command.cls = HelpfulCommand
    for group in application.registered_groups:
        group.cls = HelpfulGroup
        if group.typer_instance is not None:
            use_helpful_help(group.typer_instance)


app = typer.Typer(
    name="mastcds",
    help="Clinical decision support for systemic mastocytosis and recurrent anaphylaxis.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
    cls=HelpfulGroup,
)
