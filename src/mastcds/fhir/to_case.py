"""FHIR R4 resources -> a mastcds-case/1 document: the entry point over the per-resource mappers of ``read/``.

Each resource type has its mapper (``read/patient.py``, ``condition.py``,
``observation.py`` with the field table's ``findings.py``, ``medication.py``,
``allergy.py``, ``report.py``), and every code comes from the one table of
:mod:`mastcds.fhir.codes`. What FHIR does not carry may come from an optional
case document that the FHIR values are laid over. Every resource is accounted
for (:class:`FhirImport`): used, a Problem, counted as not read, or a note.
Nothing is dropped silently. Patients sharing an id are one patient (a CDS
client may send it twice). ``docs/fhir.md`` describes the mapping.
"""

from __future__ import annotations

import copy
from collections.abc import Iterable, Mapping
from typing import Any

from mastcds.case import CASE_SCHEMA_ID, Problem, load_case
from mastcds.fhir.dates import completed_years
from mastcds.fhir.read.allergy import allergies
from mastcds.fhir.read.condition import conditions
from mastcds.fhir.read.context import COMPUTED_TAG, OBJECT, FhirImport, ImportContext, resources_in
from mastcds.fhir.read.medication import (administrations, dosage_dose_mg, dosage_interval, first_dosage,
                                          medications)
from mastcds.fhir.read.observation import observations
from mastcds.fhir.read.patient import case_id as patient_case_id
from mastcds.fhir.read.patient import has_id, patient_section
from mastcds.fhir.read.report import reports

__all__ = ["COMPUTED_TAG", "FhirImport", "case_from_bundle", "case_from_resources", "dosage_dose_mg",
           "dosage_interval", "first_dosage", "resources_in"]


def _overlay(merged: dict[str, Any], fhir: dict[str, Any], notes: list[str]) -> dict[str, Any]:
    """The case document with the FHIR values laid over it (FHIR wins; each replaced value is noted).

    ``merged`` is changed in place: the caller passes a document of its own.
    """
    for key, value in fhir.items():
        if key == "episodes":
            by_id = {e.get("id"): e for e in merged.get("episodes", []) if isinstance(e, dict)}
            for episode in value:
                if episode.get("id") is not None and episode["id"] in by_id:
                    target = by_id[episode["id"]]
                    for field_name, item in episode.items():
                        if target.get(field_name) not in (None, item):
                            notes.append(f"episodes[{episode['id']}].{field_name}: FHIR {item!r} replaces {target[field_name]!r}")
                        target[field_name] = item
                else:
                    merged.setdefault("episodes", []).append(episode)
        elif isinstance(value, dict) and isinstance(merged.get(key), dict):
            for field_name, item in value.items():
                if merged[key].get(field_name) not in (None, item):
                    notes.append(f"{key}.{field_name}: FHIR {item!r} replaces {merged[key][field_name]!r}")
                merged[key][field_name] = item
        else:
            if key in ("lab_results", "treatments") and merged.get(key):
                notes.append(f"{key}: the {len(value)} from FHIR replace the case document's {len(merged[key])}")
            elif merged.get(key) not in (None, value) and not isinstance(value, list):
                notes.append(f"{key}: FHIR {value!r} replaces {merged[key]!r}")
            merged[key] = value
    return merged


def case_from_resources(
    resources: Iterable[Mapping[str, Any]],
    *,
    patient_id: str | None = None,
    base_case: Mapping[str, Any] | None = None,
    evaluation_date: str | None = None,
    today: str | None = None,
) -> FhirImport:
    """A mastcds-case/1 document from FHIR resources, laid over ``base_case`` when given.

    ``evaluation_date`` (default: the base case's) bounds which lab row is the
    current value (one that is no date is a Problem and bounds nothing);
    ``today`` (a full date) is the day the age is computed on when the case
    has no evaluation date (the CDS service passes it).
    Raises :class:`mastcds.case.CaseError` only if ``base_case`` itself is invalid.
    """
    if base_case is not None:
        load_case(dict(base_case))  # the base must be valid on its own
    evaluation_date = evaluation_date or (base_case or {}).get("evaluation_date")
    ctx = ImportContext(resources, patient_id, evaluation_date)
    fhir: dict[str, Any] = {}
    found = patient_section(ctx)
    if found:
        fhir["patient"] = found
    conditions(ctx, fhir)
    administrations(ctx)  # before the Observations: a dose count an Observation gives replaces the administrations'
    reports(ctx, fhir)
    observations(ctx, fhir)
    medications(ctx, fhir)
    episodes = [e for key, e in ctx.episodes.items() if key.startswith("Condition/")] + allergies(ctx)
    if episodes:
        fhir["episodes"] = episodes
    if "molecular" in fhir:
        fhir["molecular"].pop("_date", None)
    ctx.count_unread_types()
    out = ctx.out
    # the returned case shares nothing with the caller's objects: the base case, the
    # identifier value and the evaluation date go in as copies (a new base needs none)
    base = copy.deepcopy(dict(base_case)) if base_case is not None else {"schema": CASE_SCHEMA_ID, "patient": {}}
    if base.get("id") is None:
        case_id = patient_case_id(ctx)
        if has_id(case_id):
            base["id"] = case_id
    if evaluation_date is not None:
        base["evaluation_date"] = copy.deepcopy(evaluation_date)
    case = _overlay(base, fhir, out.notes)
    section = case.setdefault("patient", {})
    if section.get("age_years") is None and "patient.age_years" not in ctx.explicitly_unknown:
        on = ctx.evaluation_date if case.get("evaluation_date") else today  # no age on an unreadable date
        age = completed_years(section.get("birth_date"), on)
        if age is not None:
            section["age_years"] = age
    out.case = case
    return out


def case_from_bundle(bundle: Mapping[str, Any], **options: Any) -> FhirImport:
    """:func:`case_from_resources` over the resources of a Bundle."""
    if not isinstance(bundle, OBJECT) or bundle.get("resourceType") != "Bundle":
        found = bundle.get("resourceType") if isinstance(bundle, OBJECT) else type(bundle).__name__
        result = FhirImport(case={})
        result.fatal.append(Problem("resourceType", found, "expected a FHIR Bundle"))
        return result
    return case_from_resources(resources_in(bundle), **options)
