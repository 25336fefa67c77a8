"""Three-valued (Kleene) logic for clinical criteria.

A finding that was not examined is *unknown*, never *absent*. Every rule in
``mastcds.rules`` returns a :class:`Status`; these helpers combine them so
that an unknown input only leaves the answer unknown when it could change it.
"""

from __future__ import annotations

import operator
from collections.abc import Iterable
from dataclasses import dataclass
from enum import Enum
from typing import Any, Callable

from mastcds.rules.references import reference_dicts


class Status(str, Enum):
    MET = "met"
    NOT_MET = "not_met"
    UNKNOWN = "unknown"

    def __str__(self) -> str:  # JSON and text output use the value
        return self.value


MET = Status.MET
NOT_MET = Status.NOT_MET
UNKNOWN = Status.UNKNOWN
_STATUS_VALUES = {status: status.value for status in Status}  # ``.value`` without the enum descriptor per call


def from_bool(value: bool | None) -> Status:
    """``True`` → met, ``False`` → not met, ``None`` (not examined) → unknown."""
    if value is None:
        return UNKNOWN
    return MET if value else NOT_MET


def negate(status: Status) -> Status:
    if status is UNKNOWN:
        return UNKNOWN
    return NOT_MET if status is MET else MET


def all_of(*statuses: Status) -> Status:
    """Kleene AND: one not-met settles it; otherwise any unknown leaves it open."""
    unknown = False
    for s in statuses:
        if s is NOT_MET:
            return NOT_MET
        if s is UNKNOWN:
            unknown = True
    return UNKNOWN if unknown else MET


def any_of(*statuses: Status) -> Status:
    """Kleene OR: one met settles it; otherwise any unknown leaves it open."""
    unknown = False
    for s in statuses:
        if s is MET:
            return MET
        if s is UNKNOWN:
            unknown = True
    return UNKNOWN if unknown else NOT_MET


def count_range(statuses: Iterable[Status]) -> tuple[int, int]:
    """(fewest, most) criteria that can be met once the unknowns are filled in."""
    items = list(statuses)
    met = sum(1 for s in items if s is MET)
    unknown = sum(1 for s in items if s is UNKNOWN)
    return met, met + unknown


def at_least(n: int, statuses: Iterable[Status]) -> Status:
    """Whether at least ``n`` of the statuses are met, in three values."""
    low, high = count_range(statuses)
    if low >= n:
        return MET
    if high < n:
        return NOT_MET
    return UNKNOWN


_OPS: dict[str, Callable[[float, float], bool]] = {
    ">": operator.gt,
    ">=": operator.ge,
    "<": operator.lt,
    "<=": operator.le,
}


def compare(value: float | None, op: str, threshold: float) -> Status:
    """``value op threshold`` with the comparator exactly as the source states it.

    ``None`` (not measured) gives unknown.
    """
    if value is None:
        return UNKNOWN
    return MET if _OPS[op](value, threshold) else NOT_MET


@dataclass(frozen=True)
class Criterion:
    """One criterion's verdict with the reason and the source a clinician can check.

    ``source`` is the citation as text; ``references`` the bibliography keys
    behind it (:mod:`mastcds.rules.references`). A rule writes both at once
    from a :func:`~mastcds.rules.references.cite`: ``Criterion(id, status, reason, *citation)``.
    """

    id: str
    status: Status
    reason: str
    source: str
    references: tuple[str, ...] = ()

    def as_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "status": _STATUS_VALUES[self.status],
            "reason": self.reason,
            "source": self.source,
            "references": reference_dicts(self.references),
        }


def fmt(value: float | None, unit: str = "") -> str:
    """A number as a clinician writes it (50.9, not 50.900000001), or 'not recorded'."""
    if value is None:
        return "not recorded"
    text = f"{value:g}" if isinstance(value, float) else str(value)
    return f"{text} {unit}".strip()
