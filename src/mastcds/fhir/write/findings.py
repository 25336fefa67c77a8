"""The field table's findings -> one Observation each, and the bone-marrow DiagnosticReport grouping its results.

The mirror of :mod:`mastcds.fhir.read.findings`: each field of
:data:`mastcds.fhir.fields.FIELDS` that the case gives (not null) is written
as an Observation coded as the table says, its value typed as the table says.
An episode's fields point at the episode's Condition (``focus``). Two
Observations say that something is unknown, so that the import does not fill
it in: the organ of an extracutaneous biopsy (the section exists) and the age
when a birth date would give one.
"""

from __future__ import annotations

import copy
from typing import Any

from mastcds.fhir import codes, fields
from mastcds.fhir.fields import BONE_MARROW_REPORT

_UNKNOWN = {"coding": [{"system": codes.DATA_ABSENT_REASON, "code": "unknown", "display": "Unknown"}]}
_CATEGORY = {"coding": [{"system": codes.OBSERVATION_CATEGORY, "code": "exam", "display": "Exam"}]}
_LAB_CATEGORY = {"coding": [{"system": codes.OBSERVATION_CATEGORY, "code": "laboratory", "display": "Laboratory"}]}


def number(value: float) -> float | int:
    """A JSON number as FHIR shows it: 3.0 as 3."""
    return int(value) if float(value).is_integer() else value


def _value(field: fields.Field, value: Any) -> dict[str, Any]:
    kind = field.value
    if kind == "boolean":
        answer = codes.PRESENT if value else codes.ABSENT
        return {"valueCodeableConcept": {"coding": [answer.coding()]}}
    if kind == "quantity":
        return {"valueQuantity": {"value": number(value), "unit": field.unit, "system": codes.UCUM, "code": field.unit}}
    if kind == "integer":
        return {"valueInteger": value}
    if kind == "string":
        return {"valueString": value}
    if kind == "date":
        return {"valueDateTime": value}
    return {"valueCodeableConcept": {"coding": [{"system": fields.MASTCDS_VALUE, "code": value}], "text": value}}


def writable(field: fields.Field, value: Any) -> bool:
    """Whether FHIR can hold the value: not null, and a text not empty (FHIR strings have at least one character)."""
    return value is not None and not (field.value == "string" and value == "")


def observation(field: fields.Field, value: Any, subject: str, rid: str,
                focus: str | None = None) -> dict[str, Any]:
    """The Observation carrying ``value`` of ``field`` (``None``: unknown, as dataAbsentReason)."""
    category = _LAB_CATEGORY if field.path.startswith(("bone_marrow.", "molecular.")) else _CATEGORY
    resource: dict[str, Any] = {
        "resourceType": "Observation", "id": rid, "status": "final", "category": [copy.deepcopy(category)],
        "code": {"coding": [field.code.coding()], "text": field.code.display}, "subject": {"reference": subject},
    }
    if focus is not None:
        resource["focus"] = [{"reference": focus}]
    if value is None:
        resource["dataAbsentReason"] = copy.deepcopy(_UNKNOWN)
    else:
        resource.update(_value(field, value))
    return resource


def _get(document: dict[str, Any], keys: tuple[str, ...]) -> Any:
    for key in keys:
        if not isinstance(document, dict):
            return None
        document = document.get(key)  # type: ignore[assignment]
    return document


def write_case_findings(writer: Any, document: dict[str, Any], subject: str, skip: set[str]) -> None:
    """Adds an Observation for every case-level field of the table the case gives, and the bone-marrow report.

    ``document`` is the case as a JSON document; ``skip`` the paths another
    writer carries (a neoplasm written as a Condition).
    """
    marrow: list[str] = []
    for field in fields.FIELDS:
        if field.place != "case" or field.path in skip:
            continue
        value = _get(document, field.keys)
        if writable(field, value):
            reference = writer.add(observation(field, value, subject, field.path.replace("_", "-")))
        elif field.path == "other_extracutaneous_organ.organ" and document.get("other_extracutaneous_organ") is not None:
            reference = writer.add(observation(field, None, subject, field.path.replace("_", "-")))
        else:
            continue
        if field.path.startswith("bone_marrow."):
            marrow.append(reference)
    biopsy = _get(document, ("bone_marrow", "biopsy_date"))
    if marrow or biopsy is not None:
        report: dict[str, Any] = {
            "resourceType": "DiagnosticReport", "id": "bone-marrow", "status": "final",
            "code": {"coding": [BONE_MARROW_REPORT.coding()], "text": BONE_MARROW_REPORT.display},
            "subject": {"reference": subject},
        }
        if biopsy is not None:
            report["effectiveDateTime"] = biopsy
        if marrow:
            report["result"] = [{"reference": reference} for reference in marrow]
        writer.add(report)


def write_age_unknown(writer: Any, subject: str) -> None:
    """An age Observation saying "unknown": the case gives a birth date but no age, and the import must not compute one."""
    field = fields.BY_PATH["patient.age_years"]
    writer.add(observation(field, None, subject, "patient-age-years"))


def write_episode_findings(writer: Any, episode: dict[str, Any], subject: str, focus: str, prefix: str) -> None:
    """Adds an Observation, focus the episode's Condition, for every episode field of the table the episode gives."""
    for field in fields.FIELDS:
        if field.place != "episode":
            continue
        value = episode.get(field.keys[0])
        if writable(field, value):
            writer.add(observation(field, value, subject, f"{prefix}-{field.keys[0].replace('_', '-')}", focus))
