"""Observations of the field table (:mod:`mastcds.fhir.fields`) -> the case field each one carries.

A field of a case section (skin, bone marrow, organs, mediator symptoms...)
is set in that section; an episode's field is set in the episode the
Observation points at (``focus`` or ``encounter``). The value must be of the
field's type: a boolean (``valueBoolean``, or Present / Absent coded in LOINC
or SNOMED CT), a quantity in the field's unit, an integer, a text, a date, or
a code of the schema's enumeration. ``dataAbsentReason`` means unknown. Any
other value makes that one Observation unusable, with a Problem naming it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from mastcds.case import case_schema
from mastcds.fhir import codes, fields
from mastcds.fhir.dates import partial_date
from mastcds.fhir.read.context import OBJECT, ImportContext, as_float, is_number, listed, where

_PRESENT = frozenset({codes.PRESENT.code, codes.PRESENT_SNOMED.code})
_ABSENT = frozenset({codes.ABSENT.code, codes.ABSENT_SNOMED.code})
# Quantity units read as a field's unit: UCUM codes and the spellings senders use
_UNIT_SPELLINGS = {"%": {"%"}, "cm": {"cm"}, "min": {"min", "minutes"}, "mm[Hg]": {"mm[Hg]", "mmHg"}, "a": {"a", "yr", "years"}}
_ABSENT_MARK = object()


def field_for(codings: Iterable[Mapping[str, Any]]) -> fields.Field | None:
    """The table field an Observation code names, or None."""
    for coding in codings:
        found = fields.BY_CODE.get((coding.get("system"), coding.get("code")))  # type: ignore[arg-type]
        if found is not None:
            return found
    return None


def _schema_of(field: fields.Field) -> dict[str, Any]:
    node = case_schema()
    for key in field.path.replace("[]", "").split("."):
        node = node["properties"][key] if "properties" in node else node["items"]["properties"][key]
    return node


def _enum(field: fields.Field) -> list[Any]:
    return [value for value in _schema_of(field).get("enum", []) if value is not None]


def _bounds(field: fields.Field) -> tuple[float, float]:
    schema = _schema_of(field)
    return schema.get("minimum", float("-inf")), schema.get("maximum", float("inf"))


def value_of(ctx: ImportContext, resource: Mapping[str, Any], field: fields.Field) -> Any:
    """The field's value from the Observation, ``_ABSENT_MARK`` for dataAbsentReason, or None after a Problem."""
    kind = field.value
    if "dataAbsentReason" in resource and not any(key.startswith("value") for key in resource):
        return _ABSENT_MARK
    if kind == "boolean":
        value = resource.get("valueBoolean")
        if isinstance(value, bool):
            return value
        try:
            answers = {c.get("code") for c in codes.codings_of(resource.get("valueCodeableConcept"))}
        except TypeError:  # a list or object as a code
            answers = ctx.codes_in(resource, "valueCodeableConcept")
        if answers & _PRESENT:
            return True
        if answers & _ABSENT:
            return False
        ctx.problem(resource, "value[x]", listed(answers),
                    f"{field.path}: expected {codes.PRESENT.code} Present, {codes.ABSENT.code} Absent or a boolean")
        return None
    if kind == "quantity":
        quantity = resource.get("valueQuantity")
        number = quantity.get("value") if isinstance(quantity, OBJECT) else None
        unit = (quantity.get("code") or quantity.get("unit")) if isinstance(quantity, OBJECT) else None
        if not is_number(number) or not isinstance(unit, str) or unit not in _UNIT_SPELLINGS.get(field.unit or "", {field.unit}):
            ctx.problem(resource, "valueQuantity", quantity, f"{field.path}: expected a number in {field.unit}")
            return None
        return _bounded(ctx, resource, field, as_float(number), "valueQuantity.value")
    if kind == "integer":
        number = resource.get("valueInteger")
        if not isinstance(number, int) or isinstance(number, bool):
            ctx.problem(resource, "valueInteger", number, f"{field.path}: expected an integer")
            return None
        return _bounded(ctx, resource, field, number, "valueInteger")
    if kind == "string":
        text = resource.get("valueString")
        if not isinstance(text, str):
            ctx.problem(resource, "valueString", text, f"{field.path}: expected a text")
            return None
        return text
    if kind == "date":
        text = resource.get("valueDateTime")
        date = partial_date(text)
        if date is None:
            ctx.problem(resource, "valueDateTime", text, f"{field.path}: expected a date YYYY, YYYY-MM or YYYY-MM-DD")
        return date
    accepted = _enum(field)
    for coding in codes.codings_of(resource.get("valueCodeableConcept")):
        if coding.get("system") == fields.MASTCDS_VALUE and isinstance(coding.get("code"), str) \
                and coding["code"] in accepted:
            return coding["code"]
    ctx.problem(resource, "valueCodeableConcept", resource.get("valueCodeableConcept"),
                f"{field.path}: expected one of {', '.join(accepted)} ({fields.MASTCDS_VALUE})")
    return None


def _bounded(ctx: ImportContext, resource: Mapping[str, Any], field: fields.Field, number: float, element: str) -> Any:
    low, high = _bounds(field)
    if not low <= number <= high:
        ctx.problem(resource, element, number, f"{field.path} must lie in {low:g}-{high:g}" +
                    (f" {field.unit}" if field.unit else ""))
        return None
    return number


def finding(ctx: ImportContext, resource: Mapping[str, Any], field: fields.Field, case: dict[str, Any]) -> None:
    """Sets the field the Observation carries, in its section or in its episode."""
    episode = None
    if field.place == "episode":
        episode = ctx.linked_episode(resource)
        if episode is None:
            ctx.out.notes.append(f"{where(resource)}: {field.name} not linked to an anaphylaxis episode, not used")
            return
    value = value_of(ctx, resource, field)
    if value is None:
        return  # the Problem says why
    ctx.out.read["Observation"] += 1
    if field.path == "evaluation_date" and ctx.evaluation_date_given:
        ctx.out.notes.append(f"{where(resource)}: evaluation date {value} of the Bundle; the one asked for is kept")
        return
    if value is _ABSENT_MARK:
        ctx.explicitly_unknown.add(field.path)
        if field.path != SECTION_MARK:
            return
    target = episode if episode is not None else case
    for key in field.parents:
        target = target.setdefault(key, {})
    if value is not _ABSENT_MARK:
        target[field.name] = value
        if field.path == "evaluation_date":
            ctx.evaluation_date = value


# The field whose Observation says that the section exists even when the field itself is unknown
SECTION_MARK = "other_extracutaneous_organ.organ"
