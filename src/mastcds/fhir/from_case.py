"""A case -> FHIR R4 resources: Patient, Observations, Conditions, a DiagnosticReport, MedicationStatements.

The conventions are those :mod:`mastcds.fhir.to_case` reads, so that
exporting and importing again gives back the case (``docs/fhir.md`` lists
the few normalisations). The fields of the field table
(:mod:`mastcds.fhir.fields`: skin, bone marrow, organs, mediator symptoms,
episode details...) are written by :mod:`mastcds.fhir.write.findings`.
"""

from __future__ import annotations

import copy
import re
import uuid
from typing import Any

from mastcds.case import Case, Episode, LabResult
from mastcds.fhir import codes
from mastcds.fhir.fields import LAB_FIELDS
from mastcds.fhir.dates import completed_years, current_row, usable_rows
from mastcds.fhir.write.findings import write_age_unknown, write_case_findings, write_episode_findings
from mastcds.units import LAB_SPECS, to_canonical

_NAMESPACE = uuid.UUID("5d1c3f62-7f0e-4b5c-9d0a-6b3e2f1a9c47")  # mastcds export ids
_INTERVAL_TIMING = {
    "q4w": (1, 4, "wk"), "q2w": (1, 2, "wk"), "weekly": (1, 1, "wk"), "daily": (1, 1, "d"),
    "bid": (2, 1, "d"), "tid": (3, 1, "d"), "qid": (4, 1, "d"),
}
_UCUM_SPELLING = (("µ", "u"), ("μ", "u"), ("mcg", "ug"), ("^", "*"), ("IU", "[IU]"))
_LAB_CATEGORY = {"coding": [{"system": codes.OBSERVATION_CATEGORY, "code": "laboratory", "display": "Laboratory"}]}
_VITALS_CATEGORY = {"coding": [{"system": codes.OBSERVATION_CATEGORY, "code": "vital-signs", "display": "Vital Signs"}]}


def ucum(unit: str) -> str:
    """The UCUM spelling of a unit the case accepts (IU/mL -> [IU]/mL, 10^9/L -> 10*9/L)."""
    text = unit.strip()
    if text in ("lb", "lbs"):
        return "[lb_av]"
    if "[" in text:
        return text
    for old, new in _UCUM_SPELLING:
        text = text.replace(old, new)
    return text


def resource_id(text: str) -> str:
    """A FHIR id (``[A-Za-z0-9-.]{1,64}``) from any label."""
    cleaned = re.sub(r"[^A-Za-z0-9.\-]", "-", text).strip("-") or "x"
    return cleaned[:64]


class Writer:
    """Collects resources with stable urn:uuid full URLs, for one case."""

    def __init__(self, case_key: str) -> None:
        self.case_key = case_key
        self.entries: list[dict[str, Any]] = []
        self.used: set[str] = set()

    def add(self, resource: dict[str, Any]) -> str:
        """Adds the resource (its id made unique) and returns its full URL for references."""
        base = resource_id(resource["id"])
        rid, n = base, 1
        while f"{resource['resourceType']}/{rid}" in self.used:
            n += 1
            rid = resource_id(f"{base}-{n}")
        resource["id"] = rid
        self.used.add(f"{resource['resourceType']}/{rid}")
        key = f"{self.case_key}/{resource['resourceType']}/{rid}"
        full_url = f"urn:uuid:{uuid.uuid5(_NAMESPACE, key)}"
        self.entries.append({"fullUrl": full_url, "resource": resource})
        return full_url

    def bundle(self) -> dict[str, Any]:
        return {"resourceType": "Bundle", "type": "collection", "entry": self.entries}


def _quantity(value: float, unit: str) -> dict[str, Any]:
    number: float | int = int(value) if float(value).is_integer() else value
    return {"value": number, "unit": unit, "system": codes.UCUM, "code": ucum(unit)}


def _observation(rid: str, code: codes.Code, subject: str, category: dict[str, Any], **elements: Any) -> dict[str, Any]:
    return {
        "resourceType": "Observation", "id": rid, "status": "final", "category": [copy.deepcopy(category)],
        "code": {"coding": [code.coding()], "text": code.display}, "subject": {"reference": subject}, **elements,
    }


def _lab_row(row: LabResult, subject: str, episodes: dict[str, str], n: int) -> dict[str, Any]:
    elements: dict[str, Any] = {
        "extension": [{"url": codes.EXT_SAMPLE_CONTEXT, "valueCode": row.context or "unknown"}],
        "effectiveDateTime": row.date,
        "valueQuantity": _quantity(row.value, row.unit),
    }
    if row.episode_id is not None and row.episode_id in episodes:
        elements["focus"] = [{"reference": episodes[row.episode_id]}]
    category = _VITALS_CATEGORY if row.test == "weight" else _LAB_CATEGORY
    return _observation(f"lab-{n}-{row.test}", codes.LAB_TESTS[row.test], subject, category, **elements)


def _needs_current_value(case: Case, test: str, value: float | None) -> bool:
    """Whether the rows alone would not give back ``value`` as the current value on import.

    The import reads the case's evaluation date from the Bundle, but a reader
    that asks a server for some codes only (a CDS Hooks prefetch) does not
    get it: the rows must give the value back both with and without that
    date; otherwise an undated Observation carries it.
    """
    rows = usable_rows(test, [r.model_dump() for r in case.lab_results])
    for limit in {case.evaluation_date, None}:
        row = current_row(rows, limit)
        if (value is not None) if row is None else to_canonical(test, row["value"], row["unit"]) != value:
            return True
    return False


def _current_value(rid: str, test: str, value: float | None, subject: str, category: dict[str, Any]) -> dict[str, Any]:
    """An undated Observation: the value the criteria use, or that it is unknown although rows exist."""
    if value is None:
        absent = {"coding": [{"system": codes.DATA_ABSENT_REASON, "code": "unknown", "display": "Unknown"}]}
        return _observation(rid, codes.LAB_TESTS[test], subject, category, dataAbsentReason=absent)
    return _observation(rid, codes.LAB_TESTS[test], subject, category,
                        valueQuantity=_quantity(value, LAB_SPECS[test].canonical))


def _episode_resources(writer: Writer, episode: Episode, n: int, subject: str) -> str:
    episode_id = episode.id if episode.id else f"episode-{n}"
    identifier = {"system": codes.MASTCDS_EPISODE_ID}  # without a value: the episode has no id
    if episode.id:
        identifier["value"] = episode.id
    condition: dict[str, Any] = {
        "resourceType": "Condition", "id": f"episode-{episode_id}",
        "identifier": [identifier],
        "clinicalStatus": {"coding": [{"system": codes.CONDITION_CLINICAL, "code": "resolved"}]},
        "category": [{"coding": [{"system": codes.CONDITION_CATEGORY, "code": "encounter-diagnosis"}]}],
        "code": {"coding": [codes.ANAPHYLAXIS.coding()], "text": "Anaphylaxis"},
        "subject": {"reference": subject},
    }
    if episode.trigger in (None, "none_identified", "other"):
        condition["code"]["coding"].append(codes.ANAPHYLAXIS_ICD10CM.coding())
    if episode.date is not None:
        condition["onsetDateTime"] = episode.date
    reference = writer.add(condition)

    def focus() -> list[dict[str, str]]:  # a fresh list per resource: no shared, aliased JSON
        return [{"reference": reference}]

    dated = {"effectiveDateTime": episode.date} if episode.date is not None else {}
    if episode.systolic_bp_mmhg is not None:
        writer.add(_observation(f"episode-{episode_id}-sbp", codes.SYSTOLIC_BP, subject, _VITALS_CATEGORY,
                                focus=focus(), valueQuantity=_quantity(episode.systolic_bp_mmhg, codes.MMHG), **dated))
    if episode.acute_tryptase_ng_ml is not None:
        # undated on purpose: the episode's own acute value, not a row of the series
        writer.add(_observation(f"episode-{episode_id}-acute-tryptase", codes.LAB_TESTS["tryptase"], subject,
                                _LAB_CATEGORY, focus=focus(),
                                valueQuantity=_quantity(episode.acute_tryptase_ng_ml, "ng/mL")))
    write_episode_findings(writer, episode.model_dump(), subject, reference, f"episode-{episode_id}")
    return reference


def _kit_variant(case: Case, subject: str) -> dict[str, Any] | None:
    molecular = case.molecular
    if molecular.kit_d816v is None and molecular.kit_d816v_vaf_percent is None and molecular.kit_d816v_sample is None:
        return None
    components: list[dict[str, Any]] = [
        {"code": {"coding": [codes.GENE_STUDIED.coding()]},
         "valueCodeableConcept": {"coding": [codes.KIT_GENE.coding()]}},
        {"code": {"coding": [codes.AMINO_ACID_CHANGE.coding()]},
         "valueCodeableConcept": {"coding": [{"system": "http://varnomen.hgvs.org", "code": codes.KIT_D816V_PROTEIN_CHANGE}]}},
        {"code": {"coding": [codes.GENOMIC_SOURCE_CLASS.coding()]},
         "valueCodeableConcept": {"coding": [codes.SOMATIC.coding()]}},
    ]
    if molecular.kit_d816v_vaf_percent is not None:
        components.append({"code": {"coding": [codes.LAB_TESTS["kit_d816v_vaf"].coding()]},
                           "valueQuantity": _quantity(molecular.kit_d816v_vaf_percent, "%")})
    if molecular.kit_d816v is None:  # the result unknown, its sample or allele fraction given
        value: dict[str, Any] = {"dataAbsentReason": {"coding": [{"system": codes.DATA_ABSENT_REASON, "code": "unknown",
                                                                  "display": "Unknown"}]}}
    else:
        answer = codes.PRESENT if molecular.kit_d816v == "detected" else codes.ABSENT
        value = {"valueCodeableConcept": {"coding": [answer.coding()]}}
    resource = _observation("kit-d816v", codes.VARIANT_ASSESSMENT, subject, _LAB_CATEGORY, component=components, **value)
    if molecular.kit_d816v_sample is not None:
        specimen = codes.SPECIMEN_TYPES[molecular.kit_d816v_sample]
        resource["contained"] = [{"resourceType": "Specimen", "id": "sample", "type": {"coding": [specimen.coding()]}}]
        resource["specimen"] = {"reference": "#sample"}
    if case.bone_marrow.biopsy_date is not None and molecular.kit_d816v_sample == "bone_marrow":
        resource["effectiveDateTime"] = case.bone_marrow.biopsy_date
    return resource


def _medication(treatment: Any, n: int, subject: str) -> dict[str, Any]:
    coding = [{"system": codes.MASTCDS_DRUG, "code": treatment.drug}]
    coding += [c.coding() for c in codes.DRUG_CODES.get(treatment.drug, ())]
    text = treatment.drug.replace("_", " ")
    if treatment.drug == "epinephrine_autoinjector":
        text = "epinephrine auto-injector"
    period = {"start": treatment.start_date}
    if treatment.end_date is not None:
        period["end"] = treatment.end_date
    resource: dict[str, Any] = {
        "resourceType": "MedicationStatement", "id": f"treatment-{n}-{treatment.drug}",
        "status": "completed" if treatment.end_date is not None else "active",
        "medicationCodeableConcept": {"coding": coding, "text": text},
        "subject": {"reference": subject}, "effectivePeriod": period,
    }
    dosage: dict[str, Any] = {}
    if treatment.interval:
        dosage["text"] = treatment.interval
        if treatment.interval == "prn":
            dosage["asNeededBoolean"] = True
        elif treatment.interval in _INTERVAL_TIMING:
            frequency, period_value, unit = _INTERVAL_TIMING[treatment.interval]
            dosage["timing"] = {"repeat": {"frequency": frequency, "period": period_value, "periodUnit": unit}}
    if treatment.dose_mg is not None:
        dosage["doseAndRate"] = [{"doseQuantity": _quantity(treatment.dose_mg, "mg")}]
    if dosage:
        resource["dosage"] = [dosage]
    if treatment.indication:
        resource["reasonCode"] = [{"text": treatment.indication}]
    return resource


def write_case(writer: Writer, case: Case) -> str:
    """Adds the case's coded findings to ``writer``; returns the Patient's full URL."""
    patient: dict[str, Any] = {"resourceType": "Patient", "id": case.id or "patient",
                               "identifier": [{"system": codes.MASTCDS_CASE_ID}]}  # no value: the case has no id
    if case.id:
        patient["identifier"][0]["value"] = case.id
    if case.patient.sex is not None:
        patient["gender"] = case.patient.sex
    if case.patient.birth_date is not None:
        patient["birthDate"] = case.patient.birth_date
    subject = writer.add(patient)

    episodes: dict[str, str] = {}
    for n, episode in enumerate(case.episodes, start=1):
        reference = _episode_resources(writer, episode, n, subject)
        if episode.id is not None:
            episodes[episode.id] = reference
    for n, row in enumerate(case.lab_results, start=1):
        writer.add(_lab_row(row, subject, episodes, n))
    for test, name in LAB_FIELDS.items():
        value = getattr(case.labs, name)
        if _needs_current_value(case, test, value):
            writer.add(_current_value(f"current-{test}", test, value, subject, _LAB_CATEGORY))
    if _needs_current_value(case, "weight", case.patient.weight_kg):
        writer.add(_current_value("current-weight", "weight", case.patient.weight_kg, subject, _VITALS_CATEGORY))
    variant = _kit_variant(case, subject)
    if variant is not None:
        writer.add(variant)
    neoplasm = codes.HEMATOLOGIC_NEOPLASMS.get(case.associated_hematologic_neoplasm or "")
    if neoplasm is not None:
        writer.add({
            "resourceType": "Condition", "id": "associated-neoplasm",
            "category": [{"coding": [{"system": codes.CONDITION_CATEGORY, "code": "problem-list-item"}]}],
            "code": {"coding": [neoplasm[1].coding(), neoplasm[2].coding()], "text": case.associated_hematologic_neoplasm},
            "subject": {"reference": subject},
        })
    write_case_findings(writer, case.to_document(), subject,
                        {"associated_hematologic_neoplasm"} if neoplasm is not None else set())
    if case.patient.age_years is None and completed_years(case.patient.birth_date, case.evaluation_date) is not None:
        write_age_unknown(writer, subject)
    for n, treatment in enumerate(case.treatments, start=1):
        writer.add(_medication(treatment, n, subject))
    return subject


def bundle_from_case(case: Case) -> dict[str, Any]:
    """A collection Bundle with the case's coded findings (no evaluation)."""
    writer = Writer(case.id or "case")
    write_case(writer, case)
    return writer.bundle()
