"""Why a store operation was refused, as problems a user can act on.

Every error carries :class:`mastcds.case.Problem` items (field, value, what is
accepted) so the command line and the web app print them the same way as a bad
case document. A refused write has changed nothing: each operation is one
transaction.
"""

from __future__ import annotations

from typing import Any

from mastcds.case import Problem


class StoreError(ValueError):
    """A store operation that could not be done; ``problems`` says why."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = problems
        super().__init__("; ".join(str(p) for p in problems))

    @classmethod
    def one(cls, path: str, value: Any, message: str) -> "StoreError":
        return cls([Problem(path, value, message)])


class PatientNotFound(StoreError):
    """No patient has that key."""


class PatientExists(StoreError):
    """The key is taken (an import may replace the record; the adapter says how)."""


class RecordNotFound(StoreError):
    """No episode, lab result, treatment or identifier of that patient has that id."""


class EvaluationNotFound(StoreError):
    """No stored evaluation has that id."""


class InvalidRecord(StoreError):
    """The write would leave a case that mastcds-case/1 rejects."""


class DatabaseUnavailable(StoreError):
    """The database cannot be reached, or its schema is not one this version knows."""


class IntegrityFailure(StoreError):
    """Stored data no longer matches its checksum: it was altered outside mastcds."""
