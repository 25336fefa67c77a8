"""MedicationStatement / MedicationRequest -> treatments; MedicationAdministration of adrenaline -> an episode's doses.

Drugs are recognised by the one code table (:func:`codes.drug_for`: ATC,
RxNorm) or by mastcds's own drug name coding. An administration of
adrenaline (ATC C01CA24, RxNorm 1870230 or 1660014) counts as one dose of the
anaphylaxis episode it belongs to: the episode whose encounter it names
(``context``), else the one of the same day; an episode whose dose count was
given by an Observation (mastcds's export) keeps that count (the Observations are read after). Other administrations are counted as not read.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from mastcds.fhir import codes
from mastcds.fhir.dates import partial_date
from mastcds.fhir.read.context import (OBJECT, ImportContext, as_float, as_list, as_map, code_label, is_number, ref,
                                       shown, where)

MEDICATION_TYPES = ("MedicationStatement", "MedicationRequest")
_DOSE_RANGE = (0.0, 100000.0)  # mastcds-case/1 treatments[].dose_mg
_MG_PER_UNIT = {"mg": 1.0, "g": 1000.0, "ug": 0.001}
# timing.repeat (frequency, period, periodUnit) -> the case's interval words
_INTERVALS = {
    (1, 4, "wk"): "q4w", (1, 2, "wk"): "q2w", (1, 1, "wk"): "weekly", (1, 1, "d"): "daily",
    (2, 1, "d"): "bid", (3, 1, "d"): "tid", (4, 1, "d"): "qid",
}
_EPINEPHRINE = ("epinephrine", "epinephrine_autoinjector")


def medications(ctx: ImportContext, case: dict[str, Any]) -> None:
    if not any(kind in ctx.by_type for kind in MEDICATION_TYPES):
        return
    treatments: list[dict[str, Any]] = []
    for resource in ctx.resources:  # both kinds, in document order
        if resource.get("resourceType") not in MEDICATION_TYPES:
            continue
        if not ctx.usable(resource):
            continue
        concept = resource.get("medicationCodeableConcept")
        if concept is None:
            medication = ctx.resolve(ref(resource.get("medicationReference")))
            concept = as_map(medication).get("code")
        drug = drug_name(ctx, concept)
        if drug is None:
            ctx.out.unmapped[f"{resource['resourceType']} {code_label(concept)}"] += 1
            continue
        ctx.out.read[resource["resourceType"]] += 1
        item = treatment(ctx, resource, drug)
        if item is not None:
            treatments.append(item)
    if treatments:
        case["treatments"] = treatments


def drug_name(ctx: ImportContext, concept: Any) -> str | None:
    for coding in codes.codings_of(concept):
        if coding.get("system") == codes.MASTCDS_DRUG and isinstance(coding.get("code"), str):
            return coding["code"]
    text = concept.get("text") if isinstance(concept, OBJECT) else None
    return codes.drug_for(codes.codings_of(concept), text)


def treatment(ctx: ImportContext, resource: Mapping[str, Any], drug: str) -> dict[str, Any] | None:
    period = as_map(resource.get("effectivePeriod"))
    # the first of these the sender wrote is the start; an unreadable start or end leaves the
    # treatment out (with the Problem) rather than moving its start or making it ongoing
    for element, value in (("effectivePeriod.start", period.get("start")),
                           ("effectiveDateTime", resource.get("effectiveDateTime")), ("authoredOn", resource.get("authoredOn"))):
        if value is not None:
            break
    start, end = partial_date(value), partial_date(period.get("end"))
    if (start is None and ctx.unreadable(resource, element, value)) or \
            (end is None and ctx.unreadable(resource, "effectivePeriod.end", period.get("end"))):
        return None
    if start is None:
        ctx.out.notes.append(f"{where(resource)}: {drug} without a start date, not used")
        return None
    treatment: dict[str, Any] = {"drug": drug, "start_date": start}
    if end is not None:
        treatment["end_date"] = end
    dosage = first_dosage(resource)
    dose = dose_mg(ctx, resource, dosage)
    if dose is not None:
        treatment["dose_mg"] = dose
    interval = dosage_interval(dosage)
    if interval is not None:
        treatment["interval"] = interval
    for reason in as_list(resource.get("reasonCode")):
        if isinstance(reason, OBJECT) and (reason.get("text") or codes.codings_of(reason)):
            indication = reason.get("text") or codes.codings_of(reason)[0].get("display")
            if indication is not None and not isinstance(indication, str):
                ctx.out.notes.append(f"{where(resource)}.reasonCode: {shown(indication)} is no text; indication left unknown")
                indication = None
            treatment["indication"] = indication
            break
    return treatment


def dose_mg(ctx: ImportContext, resource: Mapping[str, Any], dosage: Mapping[str, Any]) -> float | None:
    dose, unread = dosage_dose_mg(dosage)
    if unread is not None:
        ctx.out.notes.append(f"{where(resource)}: dose {unread} is not a mass; dose left unknown")
    if dose is not None and not _DOSE_RANGE[0] <= dose <= _DOSE_RANGE[1]:
        element = "dosage" if "dosage" in resource else "dosageInstruction"
        ctx.problem(resource, f"{element}.doseAndRate.doseQuantity.value", dose,
                     f"a dose must lie in {_DOSE_RANGE[0]:g}-{_DOSE_RANGE[1]:g} mg")
        return None
    return dose


def first_dosage(resource: Mapping[str, Any]) -> Mapping[str, Any]:
    """The first Dosage of a MedicationStatement (dosage) or MedicationRequest (dosageInstruction)."""
    dosages = resource.get("dosage") or as_list(resource.get("dosageInstruction"))
    return dosages[0] if isinstance(dosages, list) and dosages and isinstance(dosages[0], OBJECT) else {}


def dosage_dose_mg(dosage: Mapping[str, Any]) -> tuple[float | None, str | None]:
    """(dose in mg, None), or (None, "value unit") for a dose that is not a mass, or (None, None)."""
    dose_and_rate = dosage.get("doseAndRate")
    if isinstance(dose_and_rate, OBJECT):  # seen in the CDS Hooks library's own order-select example
        dose_and_rate = [dose_and_rate]
    for item in as_list(dose_and_rate):
        quantity = item.get("doseQuantity") if isinstance(item, OBJECT) else None
        if not isinstance(quantity, OBJECT):
            continue
        unit = quantity.get("code") or quantity.get("unit")
        value = quantity.get("value")
        if isinstance(unit, str) and unit in _MG_PER_UNIT and is_number(value):
            return as_float(value) * _MG_PER_UNIT[unit], None
        return None, f"{value} {unit}"
    return None, None


def dosage_interval(dosage: Mapping[str, Any]) -> str | None:
    """The case's interval words (q4w, daily, prn...) for a Dosage, else its text."""
    if dosage.get("asNeededBoolean") is True:
        return "prn"
    repeat = as_map(as_map(dosage.get("timing")).get("repeat"))
    try:
        interval = _INTERVALS.get((repeat.get("frequency", 1), repeat.get("period"), repeat.get("periodUnit")))
    except TypeError:  # a list or object in the repeat: no interval of the table
        interval = None
    if interval is not None:
        return interval
    text = dosage.get("text")
    return text if isinstance(text, str) and text else None


def administrations(ctx: ImportContext) -> None:
    """Adds each administration of adrenaline to its episode's dose count; other drugs are counted as not read."""
    for resource in ctx.by_type.get("MedicationAdministration", []):
        if not ctx.usable(resource):
            continue
        concept = resource.get("medicationCodeableConcept")
        if concept is None:
            concept = as_map(ctx.resolve(ref(resource.get("medicationReference")))).get("code")
        if drug_name(ctx, concept) not in _EPINEPHRINE:
            ctx.out.unmapped[f"MedicationAdministration {code_label(concept)}"] += 1
            continue
        period = as_map(resource.get("effectivePeriod"))
        when = partial_date(resource.get("effectiveDateTime")) or partial_date(period.get("start"))
        episode = _episode_of(ctx, resource, when)
        if episode is None:
            ctx.out.notes.append(f"{where(resource)}: adrenaline given {when or 'on an unknown date'}, not linked to an "
                                 "anaphylaxis episode (by encounter or day); not used")
            continue
        ctx.out.read["MedicationAdministration"] += 1
        episode["epinephrine_doses"] = min(episode.get("epinephrine_doses", 0) + 1, _MAX_DOSES)


_MAX_DOSES = 50  # mastcds-case/1 episodes[].epinephrine_doses maximum


def _episode_of(ctx: ImportContext, resource: Mapping[str, Any], when: str | None) -> dict[str, Any] | None:
    encounter = ref(resource.get("context"))
    if encounter is not None and encounter in ctx.episode_by_encounter:
        return ctx.episodes[ctx.episode_by_encounter[encounter]]
    return ctx.same_day_episode(when)
