"""A case -> FHIR R4 resources: Patient, Observations, Conditions, MedicationStatements.

The conventions are those :mod:`mastcds.fhir.to_case` reads, so that
exporting and importing again gives back every coded finding. Findings FHIR
cannot code (skin, bone-marrow histology, organs, most episode details) are
not written; they stay in the case document.
"""

from __future__ import annotations

import copy
import re
import uuid
from typing import Any

from mastcds.case import Case, Episode, LabResult
from mastcds.fhir import codes
from mastcds.fhir.dates import current_row, usable_rows
from mastcds.units import LAB_SPECS, to_canonical

_NAMESPACE = uuid.UUID("5d1c3f62-7f0e-4b5c-9d0a-6b3e2f1a9c47")  # mastcds export ids
_INTERVAL_TIMING = {
    "q4w": (1, 4, "wk"), "q2w": (1, 2, "wk"), "weekly": (1, 1, "wk"), "daily": (1, 1, "d"),
    "bid": (2, 1, "d"), "tid": (3, 1, "d"), "qid": (4, 1, "d"),
}
_LAB_FIELDS = {
    "tryptase": "baseline_tryptase_ng_ml",
    "ige_total": "ige_total_iu_ml",
    "hemoglobin": "hemoglobin_g_dl",
    "platelets": "platelets_10e9_l",
    "neutrophils": "neutrophils_10e9_l",
    "alkaline_phosphatase": "alkaline_phosphatase_u_l",
    "albumin": "albumin_g_l",
    "beta2_microglobulin": "beta2_microglobulin_mg_l",
    "leukocytes": "leukocytes_10e9_l",
    "eosinophils": "eosinophils_10e9_l",
    "monocytes": "monocytes_10e9_l",
    "urine_n_methylhistamine": "urine_n_methylhistamine_ug_g_creatinine",
    "urine_11b_pgf2a": "urine_11b_pgf2a_ng_g_creatinine",
    "urine_lte4": "urine_lte4_pg_mg_creatinine",
}
_UCUM_SPELLING = (("µ", "u"), ("μ", "u"), ("mcg", "ug"), ("^", "*"), ("IU", "[IU]"))
_LAB_CATEGORY = {"coding": [{"system": codes.OBSERVATION_CATEGORY, "code": "laboratory", "display": "Laboratory"}]}
_VITALS_CATEGORY = {"coding": [{"system": codes.OBSERVATION_CATEGORY, "code": "vital-signs", "display": "Vital Signs"}]}
_EXAM_CATEGORY = {"coding": [{"system": codes.OBSERVATION_CATEGORY, "code": "exam", "display": "Exam"}]}


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

    The importer may not know the evaluation date, so the rows must give the
    value back without one (the latest row); otherwise an undated Observation
    carries it.
    """
    row = current_row(usable_rows(test, [r.model_dump() for r in case.lab_results]), None)
    if row is None:
        return value is not None
    return to_canonical(test, row["value"], row["unit"]) != value


def _current_value(rid: str, test: str, value: float | None, subject: str, category: dict[str, Any]) -> dict[str, Any]:
    """An undated Observation: the value the criteria use, or that it is unknown although rows exist."""
    if value is None:
        absent = {"coding": [{"system": codes.DATA_ABSENT_REASON, "code": "unknown", "display": "Unknown"}]}
        return _observation(rid, codes.LAB_TESTS[test], subject, category, dataAbsentReason=absent)
    return _observation(rid, codes.LAB_TESTS[test], subject, category,
                        valueQuantity=_quantity(value, LAB_SPECS[test].canonical))


def _episode_resources(writer: Writer, episode: Episode, n: int, subject: str) -> str:
    episode_id = episode.id or f"episode-{n}"
    condition: dict[str, Any] = {
        "resourceType": "Condition", "id": f"episode-{episode_id}",
        "identifier": [{"system": codes.MASTCDS_EPISODE_ID, "value": episode_id}],
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
    for field_name, code in codes.EPISODE_FINDINGS.items():
        value = getattr(episode, field_name)
        if value is not None:
            answer = codes.PRESENT if value else codes.ABSENT
            writer.add(_observation(f"episode-{episode_id}-{field_name}", code, subject, _EXAM_CATEGORY,
                                    focus=focus(), valueCodeableConcept={"coding": [answer.coding()]}, **dated))
    return reference


def _kit_variant(case: Case, subject: str) -> dict[str, Any] | None:
    molecular = case.molecular
    if molecular.kit_d816v is None:
        return None
    answer = codes.PRESENT if molecular.kit_d816v == "detected" else codes.ABSENT
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
    resource = _observation("kit-d816v", codes.VARIANT_ASSESSMENT, subject, _LAB_CATEGORY,
                            valueCodeableConcept={"coding": [answer.coding()]}, component=components)
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
    if treatment.interval and treatment.interval.strip():
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
    if treatment.indication and treatment.indication.strip():
        resource["reasonCode"] = [{"text": treatment.indication}]
    return resource


def write_case(writer: Writer, case: Case) -> str:
    """Adds the case's coded findings to ``writer``; returns the Patient's full URL."""
    patient: dict[str, Any] = {"resourceType": "Patient", "id": case.id or "patient"}
    if case.id and case.id.strip():
        patient["identifier"] = [{"system": codes.MASTCDS_CASE_ID, "value": case.id}]
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
    for test, name in _LAB_FIELDS.items():
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
            "code": {"coding": [neoplasm[1].coding()], "text": case.associated_hematologic_neoplasm},
            "subject": {"reference": subject},
        })
    for n, treatment in enumerate(case.treatments, start=1):
        writer.add(_medication(treatment, n, subject))
    return subject


def bundle_from_case(case: Case) -> dict[str, Any]:
    """A collection Bundle with the case's coded findings (no evaluation)."""
    writer = Writer(case.id or "case")
    write_case(writer, case)
    return writer.bundle()
