"""Refused input of the web application, as problems naming field, value and what is accepted."""

from __future__ import annotations

from mastcds.case import Problem


class InputError(ValueError):
    """Input the web application refuses; ``problems`` says why, field by field."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = problems
        super().__init__("; ".join(str(p) for p in problems))

    @classmethod
    def one(cls, path: str, value: object, message: str) -> "InputError":
        return cls([Problem(path, value, message)])


class NotFoundError(InputError):
    """The thing named does not exist (HTTP 404)."""
