"""FHIR date/dateTime values <-> the case's partial dates, and the one rule for "current" lab values."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any

from mastcds.case import date_key, date_key_latest

_PARTIAL = re.compile(r"^[0-9]{4}(-[0-9]{2}(-[0-9]{2})?)?$")


def partial_date(value: Any) -> str | None:
    """The calendar part of a FHIR date or dateTime (``2011-09-15T10:00:00Z`` -> ``2011-09-15``).

    The date is taken as written, in the sender's time zone: shifting it to
    UTC could move an evening sample to the next day.
    """
    if not isinstance(value, str):
        return None
    text = value.partition("T")[0]
    return text if _PARTIAL.match(text) else None


def effective_date(resource: Mapping[str, Any]) -> str | None:
    """When an Observation applies: effectiveDateTime, effectiveInstant or effectivePeriod.start."""
    if "effectiveDateTime" in resource:
        return partial_date(resource["effectiveDateTime"])
    if "effectiveInstant" in resource:
        return partial_date(resource["effectiveInstant"])
    period = resource.get("effectivePeriod")
    if isinstance(period, (dict, Mapping)):
        return partial_date(period.get("start"))
    return None


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
    """Age in completed years when the partial dates leave only one possible answer."""
    if birth is None or on is None:
        return None

    def years(born: tuple[int, int, int], day: tuple[int, int, int]) -> int:
        return day[0] - born[0] - ((day[1], day[2]) < (born[1], born[2]))

    youngest = years(date_key_latest(birth), date_key(on))
    oldest = years(date_key(birth), date_key_latest(on))
    return youngest if youngest == oldest and youngest >= 0 else None
