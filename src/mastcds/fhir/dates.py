"""FHIR date/dateTime values <-> the case's partial dates, and the one rule for "current" lab values."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any

from mastcds.case import calendar_problem, date_key, date_key_latest

_PARTIAL = re.compile(r"[0-9]{4}(-[0-9]{2}(-[0-9]{2})?)?")  # the case's DatePattern, by fullmatch ($ would pass a final "\n")
# A shortcut, not a second rule: dates no calendar refuses (1900-2099, months 01-12, days 01-28),
# most of those an EHR sends, need no arithmetic; every other text goes through calendar_problem.
_SURELY_REAL = re.compile(r"(19|20)[0-9]{2}(-(0[1-9]|1[0-2])(-(0[1-9]|1[0-9]|2[0-8]))?)?")
EXPECTED = "expected a FHIR date YYYY, YYYY-MM or YYYY-MM-DD"


def partial_date(value: Any) -> str | None:
    """The calendar part of a FHIR date or dateTime (``2011-09-15T10:00:00Z`` -> ``2011-09-15``).

    None when the value is absent or is not a real calendar date (month 13,
    30 February, a year outside the case's range): :func:`date_problem` says
    why. The date is taken as written, in the sender's time zone: shifting it
    to UTC could move an evening sample to the next day.
    """
    if not isinstance(value, str):
        return None
    text = value.partition("T")[0]
    if _SURELY_REAL.fullmatch(text) or (_PARTIAL.fullmatch(text) and calendar_problem(text) is None):
        return text
    return None


def date_problem(value: Any) -> str | None:
    """Why a present date element gives no :func:`partial_date`, in words for a Problem; None when it gives one or is absent."""
    if value is None or partial_date(value) is not None:
        return None
    text = value.partition("T")[0] if isinstance(value, str) else ""
    reason = calendar_problem(text) if _PARTIAL.fullmatch(text) else None
    return EXPECTED if reason is None else f"{EXPECTED} ({reason})"


def effective_element(resource: Mapping[str, Any]) -> tuple[str, Any]:
    """The element an Observation's date is read from and its value (None when undated).

    effectiveDateTime, else effectiveInstant, else effectivePeriod.start; an
    effectivePeriod that is not an object is itself the (unreadable) value.
    """
    if "effectiveDateTime" in resource:
        return "effectiveDateTime", resource["effectiveDateTime"]
    if "effectiveInstant" in resource:
        return "effectiveInstant", resource["effectiveInstant"]
    period = resource.get("effectivePeriod")
    if period is None or isinstance(period, (dict, Mapping)):
        return "effectivePeriod.start", None if period is None else period.get("start")
    return "effectivePeriod", period


def effective_date(resource: Mapping[str, Any]) -> str | None:
    """When an Observation applies (see :func:`effective_element`), or None when undated or unreadable."""
    if "effectiveDateTime" in resource:  # the common case, without building the pair
        return partial_date(resource["effectiveDateTime"])
    return partial_date(effective_element(resource)[1])


def on_or_before(when: str, limit: str | None) -> bool:
    """Whether a partial date may lie on or before ``limit`` (no limit: always)."""
    return limit is None or date_key(when) <= date_key_latest(limit)


def usable_rows(test: str, rows: Iterable[Mapping[str, Any]]) -> list[Mapping[str, Any]]:
    """The rows of ``test`` a current value may come from: never an acute sample; for tryptase, baseline only."""
    return [r for r in rows if r["test"] == test and r.get("context") != "acute"
            and (test != "tryptase" or r.get("context") == "baseline")]


def current_row(rows: Iterable[Mapping[str, Any]], evaluation_date: str | None) -> Mapping[str, Any] | None:
    """The lab row the criteria use: the latest dated row on or before the evaluation date.

    Shared by import and export so that the export writes an undated
    "current value" Observation exactly when the rows would not give it back.
    """
    candidates = [r for r in rows if on_or_before(r["date"], evaluation_date)]
    if not candidates:
        return None
    # latest by the latest possible day, ties kept in document order (last wins)
    best = None
    for row in candidates:
        if best is None or date_key_latest(row["date"]) >= date_key_latest(best["date"]):
            best = row
    return best


def completed_years(birth: str | None, on: str | None) -> int | None:
    """Age in completed years when the partial dates leave only one possible answer (None when either is no date)."""
    if birth is None or on is None or partial_date(on) != on or partial_date(birth) != birth:
        return None

    def years(born: tuple[int, int, int], day: tuple[int, int, int]) -> int:
        return day[0] - born[0] - ((day[1], day[2]) < (born[1], born[2]))

    youngest = years(date_key_latest(birth), date_key(on))
    oldest = years(date_key(birth), date_key_latest(on))
    return youngest if youngest == oldest and youngest >= 0 else None
