"""Case -> FHIR -> case: every coded finding comes back; bad FHIR values are reported, never dropped silently."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest
from fhir.resources.R4B.bundle import Bundle
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mastcds.case import load_case
from mastcds.fhir import codes, fields
from mastcds.fhir.from_case import bundle_from_case, ucum
from mastcds.fhir.to_case import case_from_bundle, case_from_resources, resources_in
from tests.schema_strategy import valid_cases

SEED = json.loads((Path(__file__).parents[2] / "examples" / "seed-case.json").read_text())

EPISODE_CODED = ("date", "systolic_bp_mmhg", "acute_tryptase_ng_ml", *codes.EPISODE_FINDINGS)


def coded(document: dict[str, Any]) -> dict[str, Any]:
    """The part of a case FHIR carries, in canonical units, for comparison."""
    case = load_case(document)
    episodes = []
    for n, e in enumerate(case.episodes, start=1):
        item = {k: getattr(e, k) for k in EPISODE_CODED}
        item["id"] = e.id or f"episode-{n}"
        episodes.append(item)
    return {
        "sex": case.patient.sex,
        "birth_date": case.patient.birth_date,
        "weight_kg": case.patient.weight_kg,
        # circulating mast cells have no FHIR mapping yet (issue 17 maps every field)
        "labs": case.labs.model_dump(exclude={"circulating_mast_cells_percent"}),
        "kit": (case.molecular.kit_d816v, case.molecular.kit_d816v_vaf_percent if case.molecular.kit_d816v else None,
                case.molecular.kit_d816v_sample if case.molecular.kit_d816v else None),
        "neoplasm": case.associated_hematologic_neoplasm
        if case.associated_hematologic_neoplasm in codes.HEMATOLOGIC_NEOPLASMS else None,
        "episodes": episodes,
        "lab_results": [
            (r.test, pytest.approx(r.canonical_value), r.date, r.context or "unknown", r.episode_id)
            for r in case.lab_results
        ],
        "treatments": [
            (t.drug, t.dose_mg, t.interval or None, t.start_date, t.end_date, t.indication or None)
            for t in case.treatments
        ],
    }


def round_trip(document: dict[str, Any], **options: Any) -> dict[str, Any]:
    bundle = bundle_from_case(load_case(document))
    Bundle.model_validate(bundle)  # every exported resource is valid FHIR R4 (R4B models)
    result = case_from_bundle(json.loads(json.dumps(bundle)), **options)
    assert result.problems == []
    assert not result.unmapped
    return result.case


def test_seed_case_coded_findings_come_back() -> None:
    imported = round_trip(SEED)
    assert coded(imported) == coded(SEED)
    assert imported["labs"]["baseline_tryptase_ng_ml"] == 50.9  # the 2012 value is after the evaluation


def test_seed_case_with_its_uncoded_part_is_the_same_case() -> None:
    """FHIR plus the case document stripped of everything FHIR carries gives back the seed case."""
    stripped = copy.deepcopy(SEED)
    for key in ("labs", "lab_results", "treatments"):
        stripped.pop(key)
    stripped["patient"] = {"age_years": SEED["patient"]["age_years"]}
    stripped["molecular"] = {"tpsab1_extra_alpha_copies": None}
    for episode in stripped["episodes"]:
        for key in EPISODE_CODED:
            episode.pop(key, None)
    imported = round_trip(SEED, base_case=stripped)
    original = load_case(SEED).model_dump()
    again = load_case(imported).model_dump()
    for row in original["lab_results"] + again["lab_results"]:
        row["unit"] = ucum(row["unit"])
    assert again == original


def _realistic(document: dict[str, Any], drugs: list[str], words: list[str]) -> dict[str, Any]:
    """Generated cases with FHIR-legal strings: drug names from the schema's list, non-blank text."""
    for i, treatment in enumerate(document.get("treatments", [])):
        treatment["drug"] = drugs[i % len(drugs)]
        for key in ("interval", "indication"):
            if key in treatment and treatment[key] is not None:
                treatment[key] = words[i % len(words)]
    for i, episode in enumerate(document.get("episodes", [])):
        if episode.get("id") is not None:
            episode["id"] = f"ep{i}"
    for row in document.get("lab_results", []):
        row.pop("episode_id", None)
    document.pop("associated_hematologic_neoplasm", None)
    document.pop("associated_hematologic_neoplasm_lineage", None)  # needs the neoplasm's name
    return document


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    valid_cases(),
    st.lists(st.sampled_from(["omalizumab", "h1_antihistamine", "cetirizine", "midostaurin", "epinephrine_autoinjector"]),
             min_size=1, max_size=3),
    st.lists(st.sampled_from(["q4w", "daily", "prn", "every 3 weeks", "asthma"]), min_size=1, max_size=3),
    st.sampled_from([None, "CMML", "MDS", "none"]),
)
def test_every_valid_case_round_trips_its_coded_findings(document, drugs, words, neoplasm) -> None:
    document = _realistic(document, drugs, words)
    if neoplasm is not None:
        document["associated_hematologic_neoplasm"] = neoplasm
    assert coded(round_trip(document)) == coded(document)


# ---------------------------------------------------------------- import from EHR-shaped data

def _bundle(*resources: dict[str, Any]) -> dict[str, Any]:
    return {"resourceType": "Bundle", "type": "searchset", "entry": [{"resource": r} for r in resources]}


PATIENT = {"resourceType": "Patient", "id": "p1", "gender": "female", "birthDate": "1970-05-20"}


def _obs(rid: str, loinc: str, value: float, unit: str, date: str | None = "2024-01-10", **extra: Any) -> dict[str, Any]:
    resource = {"resourceType": "Observation", "id": rid, "status": "final",
                "code": {"coding": [{"system": codes.LOINC, "code": loinc}]},
                "subject": {"reference": "Patient/p1"},
                "valueQuantity": {"value": value, "system": codes.UCUM, "code": unit}, **extra}
    if date is not None:
        resource["effectiveDateTime"] = date
    return resource


def test_units_are_converted_from_ucum_codes() -> None:
    result = case_from_bundle(_bundle(
        PATIENT,
        _obs("t", "21582-2", 23.5, "ug/L"),
        _obs("h", "718-7", 95, "g/L"),
        _obs("i", "19113-0", 0.12, "k[IU]/mL"),
        _obs("w", "29463-7", 154, "[lb_av]"),
    ), today="2024-06-01")
    labs = result.case["labs"]
    assert labs["baseline_tryptase_ng_ml"] == 23.5
    assert labs["hemoglobin_g_dl"] == pytest.approx(9.5)
    assert labs["ige_total_iu_ml"] == pytest.approx(120)
    assert result.case["patient"]["weight_kg"] == pytest.approx(154 * 0.45359237)
    assert result.case["patient"]["age_years"] == 54
    assert result.problems == []
    load_case(result.case)


def test_a_unit_that_cannot_be_converted_is_rejected_with_the_accepted_units() -> None:
    result = case_from_bundle(_bundle(PATIENT, _obs("hb1", "718-7", 5.9, "mmol/L")))
    [problem] = result.problems
    assert problem.path == "Observation/hb1.valueQuantity.code"
    assert problem.value == "mmol/L"
    assert "g/dl" in problem.message and "hemoglobin" in problem.message
    assert "labs" not in result.case


def test_an_implausible_value_is_rejected_naming_the_range() -> None:
    result = case_from_bundle(_bundle(PATIENT, _obs("p", "777-3", 9000, "10*9/L")))
    [problem] = result.problems
    assert problem.path.endswith("valueQuantity.value") and "0-5000" in problem.message


def test_missing_unit_is_a_problem() -> None:
    resource = _obs("t", "21582-2", 12, "ug/L")
    resource["valueQuantity"] = {"value": 12}
    [problem] = case_from_bundle(_bundle(PATIENT, resource)).problems
    assert "no unit" in problem.message


def test_unknown_codes_are_counted_not_dropped_silently() -> None:
    result = case_from_bundle(_bundle(
        PATIENT,
        _obs("a1c", "4548-4", 6.1, "%"),
        _obs("a1c2", "4548-4", 6.3, "%"),
        {"resourceType": "Condition", "id": "dm", "subject": {"reference": "Patient/p1"},
         "code": {"coding": [{"system": codes.SNOMED, "code": "44054006"}]}},
        {"resourceType": "MedicationStatement", "id": "m", "status": "active", "subject": {"reference": "Patient/p1"},
         "medicationCodeableConcept": {"text": "metformin"}},
    ))
    assert result.unmapped == {
        "Observation http://loinc.org|4548-4": 2,
        "Condition http://snomed.info/sct|44054006": 1,
        "MedicationStatement text 'metformin'": 1,
    }


def test_ehr_episode_links_by_encounter_and_tryptase_context() -> None:
    condition = {"resourceType": "Condition", "id": "ana", "subject": {"reference": "Patient/p1"},
                 "code": {"coding": [{"system": codes.ICD10CM, "code": "T78.2XXA"}]},
                 "onsetDateTime": "2024-01-10T14:00:00+01:00", "encounter": {"reference": "Encounter/er1"}}
    follow_up = {**condition, "id": "ana2", "code": {"coding": [{"system": codes.ICD10CM, "code": "T78.2XXD"}]},
                 "encounter": {"reference": "Encounter/clinic"}}
    bp = {"resourceType": "Observation", "id": "bp", "status": "final", "subject": {"reference": "Patient/p1"},
          "encounter": {"reference": "Encounter/er1"},
          "code": {"coding": [{"system": codes.LOINC, "code": "85354-9"}]},
          "component": [{"code": {"coding": [{"system": codes.LOINC, "code": "8480-6"}]},
                         "valueQuantity": {"value": 82, "system": codes.UCUM, "code": "mm[Hg]"}}]}
    acute = _obs("acute", "21582-2", 40, "ng/mL", "2024-01-10", encounter={"reference": "Encounter/er1"})
    next_day = _obs("nextday", "21582-2", 18, "ng/mL", "2024-01-11")
    later = _obs("later", "21582-2", 9, "ng/mL", "2024-03-01")
    result = case_from_bundle(_bundle(PATIENT, condition, follow_up, bp, acute, next_day, later))
    [episode] = result.case["episodes"]
    assert episode == {"id": "ana", "date": "2024-01-10", "systolic_bp_mmhg": 82, "acute_tryptase_ng_ml": 40}
    contexts = {(r["value"], r.get("context"), r.get("episode_id")) for r in result.case["lab_results"]}
    assert contexts == {(40, "acute", "ana"), (18, "unknown", None), (9, "baseline", None)}
    assert result.case["labs"]["baseline_tryptase_ng_ml"] == 9
    assert any("later encounter" in n for n in result.notes)
    load_case(result.case)


def test_kit_variant_from_genomics_reporting_shape_with_fraction_vaf() -> None:
    variant = {"resourceType": "Observation", "id": "v", "status": "final", "subject": {"reference": "Patient/p1"},
               "code": {"coding": [codes.VARIANT_ASSESSMENT.coding()]},
               "valueCodeableConcept": {"coding": [codes.PRESENT.coding()]},
               "specimen": {"reference": "Specimen/s"},
               "component": [
                   {"code": {"coding": [codes.GENE_STUDIED.coding()]},
                    "valueCodeableConcept": {"coding": [codes.KIT_GENE.coding()]}},
                   {"code": {"coding": [codes.AMINO_ACID_CHANGE.coding()]},
                    "valueCodeableConcept": {"coding": [{"system": "http://varnomen.hgvs.org", "code": "NP_000213.1:p.Asp816Val"}]}},
                   {"code": {"coding": [codes.LAB_TESTS["kit_d816v_vaf"].coding()]},
                    "valueQuantity": {"value": 0.012, "system": codes.UCUM, "code": "1"}},
               ]}
    specimen = {"resourceType": "Specimen", "id": "s", "type": {"coding": [codes.SPECIMEN_TYPES["peripheral_blood"].coding()]}}
    result = case_from_bundle(_bundle(PATIENT, variant, specimen))
    assert result.case["molecular"] == {"kit_d816v": "detected", "kit_d816v_vaf_percent": pytest.approx(1.2),
                                        "kit_d816v_sample": "peripheral_blood"}
    assert result.problems == []


def test_resources_of_another_patient_are_left_out() -> None:
    other = _obs("t2", "21582-2", 99, "ug/L")
    other["subject"] = {"reference": "Patient/p2"}
    result = case_from_resources([PATIENT, other, _obs("t1", "21582-2", 11, "ug/L")], patient_id="p1")
    assert result.case["labs"]["baseline_tryptase_ng_ml"] == 11


def test_several_patients_without_a_choice_is_a_problem() -> None:
    result = case_from_bundle(_bundle(PATIENT, {**PATIENT, "id": "p2"}))
    assert result.fatal and "several patients" in result.fatal[0].message


def test_not_a_bundle_is_a_problem() -> None:
    assert case_from_bundle({"resourceType": "Patient"}).fatal[0].message == "expected a FHIR Bundle"


def test_fhir_values_replace_the_case_documents_and_say_so() -> None:
    base = {"schema": "mastcds-case/1", "patient": {"sex": "male", "age_years": 40}, "labs": {"ige_total_iu_ml": 10}}
    result = case_from_bundle(_bundle(PATIENT, _obs("i", "19113-0", 50, "[IU]/mL")), base_case=base)
    assert result.case["patient"] == {"sex": "female", "age_years": 40, "birth_date": "1970-05-20"}
    assert result.case["labs"]["ige_total_iu_ml"] == 50
    assert any("patient.sex" in n for n in result.notes) and any("labs.ige_total_iu_ml" in n for n in result.notes)


def test_recorded_mast_cell_diagnoses_and_neoplasm() -> None:
    result = case_from_bundle(_bundle(
        PATIENT,
        {"resourceType": "Condition", "id": "sm", "subject": {"reference": "Patient/p1"},
         "code": {"coding": [{"system": codes.ICD10CM, "code": "D47.02"}]}},
        {"resourceType": "Condition", "id": "cmml", "subject": {"reference": "Patient/p1"},
         "code": {"coding": [{"system": codes.ICD10, "code": "C93.1"}]}},
        {"resourceType": "Condition", "id": "old", "subject": {"reference": "Patient/p1"},
         "verificationStatus": {"coding": [{"system": codes.CONDITION_VERIFICATION, "code": "refuted"}]},
         "code": {"coding": [{"system": codes.ICD10CM, "code": "D89.42"}]}},
    ))
    assert result.recorded_diagnoses == ["SM"]
    assert result.case["associated_hematologic_neoplasm"] == "CMML"


def test_resources_in_opens_nested_searchsets() -> None:
    outer = _bundle(_bundle(PATIENT), {"resourceType": "Observation", "id": "x"})
    assert [r["resourceType"] for r in resources_in(outer)] == ["Patient", "Observation"]
    assert resources_in(PATIENT) == [PATIENT]
    assert resources_in(None) == []


# ---------------------------------------------------------------- robustness: whatever an EHR sends, no crash

_JSON = st.recursive(
    st.none() | st.booleans() | st.integers(-5, 500) | st.floats(-1e3, 1e3, allow_nan=False) | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner, max_size=3),
    max_leaves=12,
)
_CODINGS = st.sampled_from([
    {"system": codes.LOINC, "code": "21582-2"}, {"system": codes.LOINC, "code": "29463-7"},
    {"system": codes.LOINC, "code": "69548-6"}, {"system": codes.LOINC, "code": "85354-9"},
    {"system": codes.SNOMED, "code": "39579001"}, {"system": codes.SNOMED, "code": "271594007"},
    {"system": codes.ICD10CM, "code": "T78.2XXA"}, {"system": codes.ATC, "code": "R03DX05"},
    {"system": codes.RXNORM, "code": "1660014"}, {"system": codes.SNOMED, "code": "288328004"},
    {"system": codes.SNOMED, "code": "397016004"}, fields.BONE_MARROW_REPORT.coding(),
    *(field.code.coding() for field in fields.FIELDS[::7]),
])
_ELEMENTS = ["valueQuantity", "valueCodeableConcept", "valueBoolean", "effectiveDateTime", "effectivePeriod",
             "onsetDateTime", "focus", "encounter", "subject", "component", "status", "dosage", "effectivePeriod",
             "specimen", "identifier", "extension", "dataAbsentReason", "reasonCode", "medicationReference",
             "valueInteger", "valueString", "valueDateTime", "reaction", "category", "verificationStatus", "context",
             "lastOccurrence", "effectiveDateTime", "patient"]


@st.composite
def _resources(draw: Any) -> dict[str, Any]:
    resource = {"resourceType": draw(st.sampled_from(["Patient", "Observation", "Condition", "MedicationStatement",
                                                      "MedicationRequest", "Specimen", "AllergyIntolerance",
                                                      "MedicationAdministration", "DiagnosticReport", "Encounter"])),
                "id": draw(st.sampled_from(["a", "b", "c"]))}
    concept = {"coding": [draw(_CODINGS)]}
    medication = resource["resourceType"] in ("MedicationStatement", "MedicationAdministration")
    resource["medicationCodeableConcept" if medication else "code"] = concept
    for element in draw(st.lists(st.sampled_from(_ELEMENTS), max_size=5)):
        resource[element] = draw(_JSON)
    return resource


@settings(max_examples=300, deadline=None)
@given(st.lists(_resources(), max_size=6))
def test_arbitrary_resources_never_crash_the_import(resources: list[dict[str, Any]]) -> None:
    result = case_from_resources(resources, today="2024-01-01")
    if not result.fatal:
        load_case(result.case)  # a value that cannot be used is left out: what is taken is a valid case


# ---------------------------------------------------------------- behaviours the import's look-up tables must keep

def test_a_lab_code_anywhere_in_the_concept_wins_then_variant_then_pressure_then_finding() -> None:
    """Kinds rank lab > KIT variant > blood pressure > finding, whatever the order of the codings."""
    syncope = codes.EPISODE_FINDINGS["loss_of_consciousness"].coding()
    condition = {"resourceType": "Condition", "id": "ana", "subject": {"reference": "Patient/p1"},
                 "code": {"coding": [codes.ANAPHYLAXIS.coding()]}, "onsetDateTime": "2024-01-10"}
    lab = _obs("t", "21582-2", 12, "ng/mL", "2023-05-01")
    lab["code"]["coding"].insert(0, syncope)
    lab["code"]["coding"].insert(0, codes.SYSTOLIC_BP.coding())
    pressure = {"resourceType": "Observation", "id": "bp", "status": "final", "subject": {"reference": "Patient/p1"},
                "code": {"coding": [syncope, codes.SYSTOLIC_BP.coding()]}, "focus": [{"reference": "Condition/ana"}],
                "valueQuantity": {"value": 70, "system": codes.UCUM, "code": "mm[Hg]"}}
    variant = {"resourceType": "Observation", "id": "v", "status": "final", "subject": {"reference": "Patient/p1"},
               "code": {"coding": [codes.SYSTOLIC_BP.coding(), syncope, codes.VARIANT_ASSESSMENT.coding()]},
               "valueCodeableConcept": {"coding": [codes.PRESENT.coding()]}}
    result = case_from_bundle(_bundle(PATIENT, condition, lab, pressure, variant))
    assert [(r["test"], r["value"]) for r in result.case["lab_results"]] == [("tryptase", 12)]
    assert result.case["episodes"] == [{"id": "ana", "date": "2024-01-10", "systolic_bp_mmhg": 70}]
    assert result.unmapped == {f"Observation {codes.VARIANT_ASSESSMENT.code} gene None change None": 1}


def test_the_first_lab_code_of_a_concept_names_the_test() -> None:
    both = _obs("x", "718-7", 9.5, "g/dL")
    both["code"]["coding"].append({"system": codes.LOINC, "code": "1751-7"})
    result = case_from_bundle(_bundle(PATIENT, both))
    assert result.case["lab_results"][0]["test"] == "hemoglobin"


def test_current_values_per_test_from_interleaved_rows() -> None:
    """Each current value: its own test's latest usable row on or before the evaluation date, ties last wins."""
    result = case_from_resources([
        PATIENT,
        _obs("h1", "718-7", 12, "g/dL", "2023-05"),
        _obs("t1", "21582-2", 20, "ug/L", "2023-05-02"),
        _obs("h2", "718-7", 110, "g/L", "2023-05-31"),  # same latest day as h1: the later in the bundle wins
        _obs("t2", "21582-2", 30, "ng/mL", "2023-06-01",
             extension=[{"url": codes.EXT_SAMPLE_CONTEXT, "valueCode": "acute"}]),  # acute: never a current value
        _obs("p1", "777-3", 250, "10^3/uL", "2023-04-01"),
        _obs("p2", "777-3", 300, "10*9/L", "2024-02-01"),  # after the evaluation date
        _obs("t3", "21582-2", 25, "ng/mL", "2023-01-01",
             extension=[{"url": codes.EXT_SAMPLE_CONTEXT, "valueCode": "unknown"}]),  # tryptase: baseline only
        _obs("w", "29463-7", 70000, "g", "2022"),
        _obs("i", "19113-0", 40, "kU/L", None),  # undated: the current value itself
        _obs("i2", "19113-0", 50, "kU/L", "2023-07-01"),
    ], evaluation_date="2023-12-31")
    assert result.case["labs"] == {"baseline_tryptase_ng_ml": 20.0, "ige_total_iu_ml": 40.0,
                                   "hemoglobin_g_dl": 11.0, "platelets_10e9_l": 250.0}
    assert result.case["patient"]["weight_kg"] == 70.0
    assert [r["date"] for r in result.case["lab_results"]] == [
        "2023-05", "2023-05-02", "2023-05-31", "2023-06-01", "2023-04-01", "2024-02-01", "2023-01-01", "2022", "2023-07-01"]


def test_the_imported_case_shares_nothing_with_the_base_case() -> None:
    base = {"schema": "mastcds-case/1", "patient": {"sex": "male", "age_years": 40},
            "episodes": [{"id": "e1", "date": "2020-01-01", "urticaria": True}], "lab_results": [],
            "molecular": {"kit_d816v": "not_detected"}}
    kept = copy.deepcopy(base)
    result = case_from_bundle(_bundle(PATIENT, _obs("t", "21582-2", 12, "ng/mL")), base_case=base)
    result.case["patient"]["sex"] = "changed"
    result.case["episodes"][0]["urticaria"] = False
    result.case["molecular"]["kit_d816v"] = "detected"
    assert base == kept
    again = case_from_bundle(_bundle(PATIENT, _obs("t", "21582-2", 12, "ng/mL")))
    assert again.case["patient"] == {"sex": "female", "birth_date": "1970-05-20"}


def test_the_imported_case_shares_nothing_with_the_resources_or_the_options() -> None:
    """The case id taken from an identifier and the evaluation date are the case's own, whatever their type."""
    value = ["not", "a", "string"]
    when = ["2020"]
    patient = {"resourceType": "Patient", "id": "p1", "identifier": [{"system": codes.MASTCDS_CASE_ID, "value": value}]}
    result = case_from_resources([patient], evaluation_date=when)  # type: ignore[arg-type]
    assert result.case["id"] == value and result.case["id"] is not value
    assert result.case["evaluation_date"] == when and result.case["evaluation_date"] is not when


# ---------------------------------------------------------------- a Synthea-style Bundle: every resource used or listed

SYNTHEA_STYLE = json.loads((Path(__file__).parent / "fixtures" / "synthea_style_sm.json").read_text())


def test_synthea_style_bundle_every_resource_used_or_listed() -> None:
    """Issue 17 "Done when": a SNOMED-coded SM diagnosis, RxNorm adrenaline, a bee-venom allergy, an IgE in [iU]/mL."""
    result = case_from_bundle(SYNTHEA_STYLE)
    case = result.case
    assert result.recorded_diagnoses == ["SM"]  # SNOMED CT 397016004
    [episode] = case["episodes"]  # the anaphylaxis Condition, its trigger from the bee-venom allergy of that day
    assert episode["date"] == "2023-06-02" and episode["trigger"] == "hymenoptera_venom"
    assert episode["epinephrine_doses"] == 1  # MedicationAdministration RxNorm 1660014, same encounter
    [treatment] = case["treatments"]
    assert treatment["drug"] == "epinephrine_autoinjector" and treatment["interval"] == "prn"  # RxNorm 1870230
    assert case["labs"]["ige_total_iu_ml"] == pytest.approx(182.4)  # [iU]/mL
    assert case["labs"]["baseline_tryptase_ng_ml"] == pytest.approx(31)  # 0.031 ug/mL
    [problem] = result.problems  # haemoglobin in mmol/L: that one Observation, named
    assert problem.path.startswith("Observation/7d3b2a1e-0000-4000-8000-000000000010") and problem.value == "mmol/L"
    assert result.fatal == []
    assert result.unmapped == {"Encounter (a resource type mastcds does not read)": 1,
                               "Procedure (a resource type mastcds does not read)": 1,
                               "Immunization (a resource type mastcds does not read)": 1}
    assert result.read == {"Patient": 1, "Condition": 2, "AllergyIntolerance": 1, "MedicationRequest": 1,
                           "MedicationAdministration": 1, "Observation": 2}
    load_case(case)


def test_an_allergy_without_anaphylaxis_is_listed_and_one_with_a_new_day_is_an_episode() -> None:
    allergy = {"resourceType": "AllergyIntolerance", "id": "a1", "patient": {"reference": "Patient/p1"},
               "code": {"coding": [{"system": codes.SNOMED, "code": "256440004"}]}}
    result = case_from_bundle(_bundle(PATIENT, allergy))
    assert result.recorded_allergies == ["Wasp venom (hymenoptera_venom)"] and "episodes" not in result.case
    allergy["reaction"] = [{"manifestation": [{"coding": [codes.ANAPHYLAXIS.coding()]}], "onset": "2019-07-01"}]
    result = case_from_bundle(_bundle(PATIENT, allergy))
    assert result.case["episodes"] == [{"id": "a1-reaction-1", "date": "2019-07-01", "trigger": "hymenoptera_venom",
                                        "trigger_detail": "Wasp venom"}]
    load_case(result.case)
