"""Patient -> the case's patient section (sex at birth, birth date) and the case id."""

from __future__ import annotations

import copy
from typing import Any

from mastcds.fhir import codes
from mastcds.fhir.dates import partial_date
from mastcds.fhir.read.context import OBJECT, ImportContext, as_list, where


def patient_section(ctx: ImportContext) -> dict[str, Any]:
    section: dict[str, Any] = {}
    if ctx.patient is None:
        return section
    ctx.out.read["Patient"] += 1
    gender = ctx.patient.get("gender")
    if gender in ("male", "female"):
        section["sex"] = gender
    elif gender is not None:
        ctx.out.notes.append(f"{where(ctx.patient)}: gender {gender!r} is not a sex at birth; sex left unknown")
    birth = partial_date(ctx.patient.get("birthDate"))
    if birth is not None:
        section["birth_date"] = birth
    else:
        ctx.unreadable(ctx.patient, "birthDate", ctx.patient.get("birthDate"))
    return section


_NO_ID = object()


def case_id(ctx: ImportContext) -> Any:
    """The case id: the mastcds case-id identifier's value (absent when it has none), else Patient.id.

    mastcds's export writes the identifier without a value for a case that has
    no id, so that the import does not give it one.
    """
    if ctx.patient is None or not isinstance(ctx.patient.get("id"), str):
        return _NO_ID
    for identifier in as_list(ctx.patient.get("identifier")):
        if isinstance(identifier, OBJECT) and identifier.get("system") == codes.MASTCDS_CASE_ID:
            return copy.deepcopy(identifier["value"]) if "value" in identifier else _NO_ID
    return ctx.patient["id"]


def has_id(value: Any) -> bool:
    return value is not _NO_ID
