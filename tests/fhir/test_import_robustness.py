"""What an EHR sends never crashes the FHIR import: an unreadable value is a Problem, a note or an ``unmapped`` count.

Defects found in the import and pinned here: the same Patient sent twice,
dates that match the date pattern but are no calendar date, a list or an
object where a coding's code or system belongs, mixed-type codes in a message.
The property test at the end replaces any one element of the seed case's
exported resources (or of a variant's) by any JSON value.
"""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mastcds.case import CaseError, load_case
from mastcds.fhir import codes
from mastcds.fhir.from_case import bundle_from_case
from mastcds.fhir.to_case import (
    FhirImport,
    case_from_bundle,
    case_from_resources,
    resources_in,
)
from tests.fhir.test_mapping import SEED


def _exported(document: dict[str, Any]) -> list[dict[str, Any]]:
    """A case exported and read back as JSON, as a client would send it (with each entry's fullUrl)."""
    return resources_in(json.loads(json.dumps(bundle_from_case(load_case(document)))))


def seed_resources() -> list[dict[str, Any]]:
    return _exported(SEED)


def account(result: FhirImport) -> tuple[Any, ...]:
    return result.case, result.problems, result.notes, dict(result.unmapped), result.recorded_diagnoses


def of_type(resources: list[dict[str, Any]], kind: str) -> list[dict[str, Any]]:
    return [r for r in resources if r["resourceType"] == kind]


# ---------------------------------------------------------------- the same Patient twice

@pytest.mark.parametrize("patient_id", [None, SEED["id"]])
def test_the_patient_sent_again_in_a_bundle_is_the_same_patient(patient_id: str | None) -> None:
    """As a CDS client does: the ``patient`` prefetch, then the same Patient inside a search Bundle."""
    resources = seed_resources()
    expected = account(case_from_resources(resources, patient_id=patient_id))
    patient = {k: v for k, v in of_type(resources, "Patient")[0].items() if k != "__fullUrl"}
    same = of_type(resources, "Patient")[0]  # the same object twice: the import reads the caller's dicts, copies none
    for twice in ([patient, *resources], [*resources, patient], [*resources, copy.deepcopy(resources[0])],
                  [*resources, same]):
        assert account(case_from_resources(twice, patient_id=patient_id)) == expected


def test_a_bundle_holding_the_patient_twice_gives_the_same_case() -> None:
    resources = seed_resources()
    bundle = {"resourceType": "Bundle", "type": "collection",
              "entry": [{"fullUrl": r.pop("__fullUrl"), "resource": r} for r in resources]}
    expected = account(case_from_bundle(bundle))
    assert expected[1] == [] and expected[0]["episodes"]
    bundle["entry"].append(copy.deepcopy(bundle["entry"][0]))
    bundle["entry"].append({"fullUrl": f"http://ehr.example/fhir/Patient/{SEED['id']}",
                            "resource": copy.deepcopy(bundle["entry"][0]["resource"])})
    assert account(case_from_bundle(bundle)) == expected


def test_references_to_any_copy_of_the_patient_are_about_the_patient() -> None:
    patient = {"resourceType": "Patient", "id": "p1", "gender": "female"}
    tryptase = {"resourceType": "Observation", "id": "t", "status": "final",
                "subject": {"reference": "http://ehr.example/fhir/Patient/p1"},
                "code": {"coding": [codes.LAB_TESTS["tryptase"].coding()]}, "effectiveDateTime": "2020-01-01",
                "valueQuantity": {"value": 12, "system": codes.UCUM, "code": "ug/L"}}
    copies = [patient, {**patient, "__fullUrl": "http://ehr.example/fhir/Patient/p1"}, tryptase]
    result = case_from_resources(copies, patient_id="p1")
    assert result.case["labs"] == {"baseline_tryptase_ng_ml": 12.0}
    assert not result.unmapped and result.problems == [] and result.notes == []


def test_copies_that_differ_keep_the_first_and_say_so() -> None:
    first = {"resourceType": "Patient", "id": "p1", "gender": "female", "birthDate": "1970-05-20"}
    later = {"resourceType": "Patient", "id": "p1", "gender": "male"}
    result = case_from_resources([first, later])
    assert result.case["patient"] == {"sex": "female", "birth_date": "1970-05-20"}
    assert result.notes == ["Patient/p1 appears again with a different content; the first copy kept"]
    assert result.problems == []


def test_patients_with_different_ids_are_still_several_patients() -> None:
    result = case_from_resources([{"resourceType": "Patient", "id": "p1"}, {"resourceType": "Patient", "id": "p2"},
                                  {"resourceType": "Patient", "id": "p1"}])
    [problem] = result.fatal
    assert "several patients" in problem.message and problem.value == ["Patient/p1", "Patient/p2"]


# ---------------------------------------------------------------- dates that are no calendar date

PATIENT = {"resourceType": "Patient", "id": "p1", "gender": "female", "birthDate": "1970-05-20"}
ANAPHYLAXIS = {"resourceType": "Condition", "id": "ana", "subject": {"reference": "Patient/p1"},
               "code": {"coding": [codes.ANAPHYLAXIS.coding()]}, "onsetDateTime": "2024-01-10"}


def lab(rid: str, test: str, value: float, unit: str, date: Any = "2024-01-10", **extra: Any) -> dict[str, Any]:
    resource = {"resourceType": "Observation", "id": rid, "status": "final", "subject": {"reference": "Patient/p1"},
                "code": {"coding": [codes.LAB_TESTS[test].coding()]},
                "valueQuantity": {"value": value, "system": codes.UCUM, "code": unit}, **extra}
    if date is not None:
        resource["effectiveDateTime"] = date
    return resource


def test_month_13_on_a_test_with_several_rows_is_a_problem_and_the_row_is_left_out() -> None:
    result = case_from_resources([PATIENT, lab("h1", "hemoglobin", 12, "g/dL", "2023-05"),
                                  lab("h2", "hemoglobin", 9, "g/dL", "2024-13"), lab("h3", "hemoglobin", 13, "g/dL", "2023-06")])
    assert [(p.path, p.value, p.message) for p in result.problems] == [
        ("Observation/h2.effectiveDateTime", "2024-13", "expected a FHIR date YYYY, YYYY-MM or YYYY-MM-DD (month must be 01-12)")]
    assert [r["date"] for r in result.case["lab_results"]] == ["2023-05", "2023-06"]
    assert result.case["labs"] == {"hemoglobin_g_dl": 13}  # not the unreadable one, as an undated value would be
    load_case(result.case)


def test_day_32_on_a_tryptase_near_an_episode_is_a_problem() -> None:
    result = case_from_resources([PATIENT, ANAPHYLAXIS, lab("t1", "tryptase", 30, "ug/L", "2024-01-32"),
                                  lab("t2", "tryptase", 9, "ug/L", "2024-01-11")])
    [problem] = result.problems
    assert (problem.path, problem.value) == ("Observation/t1.effectiveDateTime", "2024-01-32")
    assert problem.message == "expected a FHIR date YYYY, YYYY-MM or YYYY-MM-DD (day must be 01-31 in that month)"
    assert [(r["value"], r["context"]) for r in result.case["lab_results"]] == [(9, "unknown")]
    assert result.case["episodes"] == [{"id": "ana", "date": "2024-01-10"}]
    load_case(result.case)


_UNREADABLE = ["2024-13", "2024-00", "2024-01-32", "2023-02-29", "2024-04-31", "1899-12-31", "2101", "2024-01-10\n",
               "10/01/2024", "", 20240110, ["2024"], {"date": "2024"}]


def _medication(kind: str, **dates: Any) -> dict[str, Any]:
    return {"resourceType": kind, "id": "m", "status": "active", "subject": {"reference": "Patient/p1"},
            "medicationCodeableConcept": {"coding": [codes.DRUG_CODES["omalizumab"][0].coding()]}, **dates}


# (resources with the date at ``value``, the element the Problem names, what is left of the case)
_DATE_SITES = {
    "birthDate": (lambda v: [{**PATIENT, "birthDate": v}], "Patient/p1.birthDate",
                  lambda case: case["patient"] == {"sex": "female"}),
    "onsetDateTime": (lambda v: [PATIENT, {**ANAPHYLAXIS, "onsetDateTime": v}], "Condition/ana.onsetDateTime",
                      lambda case: case["episodes"] == [{"id": "ana"}]),
    "onsetPeriod.start": (lambda v: [PATIENT, {**{k: x for k, x in ANAPHYLAXIS.items() if k != "onsetDateTime"},
                                               "onsetPeriod": {"start": v}}], "Condition/ana.onsetPeriod.start",
                          lambda case: case["episodes"] == [{"id": "ana"}]),
    "effectiveDateTime": (lambda v: [PATIENT, lab("t", "tryptase", 12, "ug/L", v)], "Observation/t.effectiveDateTime",
                          lambda case: "labs" not in case and "lab_results" not in case),
    "effectiveInstant": (lambda v: [PATIENT, lab("t", "tryptase", 12, "ug/L", None, effectiveInstant=v)],
                         "Observation/t.effectiveInstant", lambda case: "labs" not in case and "lab_results" not in case),
    "effectivePeriod.start": (lambda v: [PATIENT, lab("t", "tryptase", 12, "ug/L", None, effectivePeriod={"start": v})],
                              "Observation/t.effectivePeriod.start",
                              lambda case: "labs" not in case and "lab_results" not in case),
    "KIT effectiveDateTime": (lambda v: [PATIENT, {"resourceType": "Observation", "id": "v", "status": "final",
                                                   "code": {"coding": [codes.VARIANT_ASSESSMENT.coding()]},
                                                   "effectiveDateTime": v,
                                                   "valueCodeableConcept": {"coding": [codes.PRESENT.coding()]},
                                                   "component": [{"code": {"coding": [codes.GENE_STUDIED.coding()]},
                                                                  "valueString": "KIT"},
                                                                 {"code": {"coding": [codes.AMINO_ACID_CHANGE.coding()]},
                                                                  "valueString": "p.D816V"}]}],
                              "Observation/v.effectiveDateTime", lambda case: "molecular" not in case),
    "MedicationStatement start": (lambda v: [PATIENT, _medication("MedicationStatement", effectivePeriod={"start": v})],
                                  "MedicationStatement/m.effectivePeriod.start", lambda case: "treatments" not in case),
    "MedicationStatement end": (lambda v: [PATIENT, _medication("MedicationStatement",
                                                                effectivePeriod={"start": "2020-01-01", "end": v})],
                                "MedicationStatement/m.effectivePeriod.end", lambda case: "treatments" not in case),
    "MedicationStatement effectiveDateTime": (lambda v: [PATIENT, _medication("MedicationStatement", effectiveDateTime=v)],
                                              "MedicationStatement/m.effectiveDateTime", lambda case: "treatments" not in case),
    "MedicationRequest authoredOn": (lambda v: [PATIENT, _medication("MedicationRequest", authoredOn=v)],
                                     "MedicationRequest/m.authoredOn", lambda case: "treatments" not in case),
}


@pytest.mark.parametrize("site", list(_DATE_SITES))
@pytest.mark.parametrize("value", _UNREADABLE, ids=repr)
def test_an_unreadable_date_anywhere_is_one_problem_naming_it(site: str, value: Any) -> None:
    resources, path, rest = _DATE_SITES[site]
    result = case_from_resources(resources(value), evaluation_date="2025-01-01")
    assert [(p.path, p.value) for p in result.problems] == [(path, value)]
    assert result.problems[0].message.startswith("expected a FHIR date YYYY, YYYY-MM or YYYY-MM-DD")
    assert rest(result.case), result.case
    load_case(result.case)


@pytest.mark.parametrize("site", list(_DATE_SITES))
def test_the_same_sites_read_a_real_date(site: str) -> None:
    resources, _, rest = _DATE_SITES[site]
    result = case_from_resources(resources("2024-02-29T10:00:00+01:00"), evaluation_date="2025-01-01")
    assert result.problems == [] and not rest(result.case)
    load_case(result.case)


@pytest.mark.parametrize("when", ["2024-13", "2024-01-10T10:00", ["2024"], 2024])
def test_an_unreadable_evaluation_date_is_a_problem_and_bounds_nothing(when: Any) -> None:
    result = case_from_resources([PATIENT, lab("h1", "hemoglobin", 12, "g/dL", "2023-05"),
                                  lab("h2", "hemoglobin", 13, "g/dL", "2024-06")], evaluation_date=when, today="2025-01-01")
    [problem] = result.fatal
    assert (problem.path, problem.value) == ("evaluation_date", when)
    assert result.case["labs"] == {"hemoglobin_g_dl": 13}
    assert "age_years" not in result.case["patient"]  # no age on a day that cannot be read


def test_partial_date_is_the_case_pattern_and_calendar_check() -> None:
    """partial_date's shortcut for common dates agrees with the one rule (pattern + calendar_problem) on every text."""
    import re

    from mastcds.case import DatePattern, calendar_problem
    from mastcds.fhir.dates import partial_date

    pattern = re.compile(DatePattern)
    months = [f"{m:02d}" for m in range(100)]
    for year in [f"{y:04d}" for y in [0, 1000, 1899, *range(1900, 2102), 2999, 9999]]:
        for text in [year, *(f"{year}-{m}" for m in months), *(f"{year}-{m}-{d}" for m in months[:14] for d in months)]:
            expected = text if pattern.match(text) and calendar_problem(text) is None else None
            assert partial_date(text) == expected, text
            assert partial_date(f"{text}T10:00:00Z") == expected, text


# ---------------------------------------------------------------- a list or an object where a code belongs

TRYPTASE = codes.LAB_TESTS["tryptase"].coding()
_NOT_CODES = [["21582-2"], {"code": "21582-2"}, []]


def _finding(value: dict[str, Any]) -> dict[str, Any]:
    return {"resourceType": "Observation", "id": "f", "status": "final", "subject": {"reference": "Patient/p1"},
            "code": {"coding": [codes.EPISODE_FINDINGS["urticaria"].coding()]}, "focus": [{"reference": "Condition/ana"}],
            "valueCodeableConcept": value}


def _variant(value: dict[str, Any]) -> dict[str, Any]:
    return {"resourceType": "Observation", "id": "v", "status": "final", "subject": {"reference": "Patient/p1"},
            "code": {"coding": [codes.VARIANT_ASSESSMENT.coding()]}, "valueCodeableConcept": value,
            "component": [{"code": {"coding": [codes.GENE_STUDIED.coding()]}, "valueString": "KIT"},
                          {"code": {"coding": [codes.AMINO_ACID_CHANGE.coding()]}, "valueString": "p.D816V"}]}


@pytest.mark.parametrize("part", ["code", "system"])
@pytest.mark.parametrize("bad", _NOT_CODES, ids=repr)
def test_a_malformed_coding_in_an_observation_code_is_noted_and_the_others_read(part: str, bad: Any) -> None:
    observation = lab("t", "tryptase", 12, "ug/L", "2020-01-01")
    observation["code"]["coding"].insert(0, {**TRYPTASE, part: bad})
    result = case_from_resources([PATIENT, observation])
    assert result.case["labs"] == {"baseline_tryptase_ng_ml": 12}
    [note] = result.notes
    assert note.startswith("Observation/t.code: coding {") and "not read as a code" in note
    assert result.problems == [] and not result.unmapped


@pytest.mark.parametrize("bad", _NOT_CODES, ids=repr)
def test_an_observation_coded_only_by_a_malformed_coding_is_counted(bad: Any) -> None:
    observation = lab("t", "tryptase", 12, "ug/L", "2020-01-01")
    observation["code"] = {"coding": [{**TRYPTASE, "code": bad}]}
    result = case_from_resources([PATIENT, observation])
    assert "labs" not in result.case and "lab_results" not in result.case
    assert sum(result.unmapped.values()) == 1 and len(result.notes) == 1


@pytest.mark.parametrize("bad", _NOT_CODES, ids=repr)
def test_a_malformed_coding_in_a_value_is_noted_and_the_others_read(bad: Any) -> None:
    result = case_from_resources([PATIENT, ANAPHYLAXIS, _finding({"coding": [{"code": bad}, codes.PRESENT.coding()]}),
                                  _variant({"coding": [codes.ABSENT.coding(), {"system": codes.LOINC, "code": bad}]})])
    assert result.case["episodes"] == [{"id": "ana", "date": "2024-01-10", "urticaria": True}]
    assert result.case["molecular"] == {"kit_d816v": "not_detected"}
    assert [n.split(":")[0] for n in result.notes] == ["Observation/f.valueCodeableConcept",
                                                       "Observation/v.valueCodeableConcept"]
    assert result.problems == []


def test_a_value_with_only_malformed_codings_is_a_problem() -> None:
    result = case_from_resources([PATIENT, ANAPHYLAXIS, _finding({"coding": [{"code": ["LA9633-4"]}]})])
    [problem] = result.problems
    assert (problem.path, problem.value) == ("Observation/f.value[x]", [])
    assert "episodes" in result.case and "urticaria" not in result.case["episodes"][0]


def test_a_malformed_verification_status_is_no_status() -> None:
    refuted = {"system": codes.CONDITION_VERIFICATION, "code": "refuted"}
    mast_cell = {"resourceType": "Condition", "id": "sm", "subject": {"reference": "Patient/p1"},
                 "code": {"coding": [{"system": codes.ICD10CM, "code": "D47.02"}]}}
    malformed = case_from_resources([PATIENT, {**mast_cell, "verificationStatus": {"coding": [{**refuted, "code": ["refuted"]}]}}])
    assert malformed.recorded_diagnoses == ["SM"]
    assert [n.split(":")[0] for n in malformed.notes] == ["Condition/sm.verificationStatus"]
    both = case_from_resources([PATIENT, {**mast_cell, "verificationStatus": {"coding": [{"code": {"a": 1}}, refuted]}}])
    assert both.recorded_diagnoses == []
    assert both.notes[1] == "Condition/sm: verification refuted, not used"


# ---------------------------------------------------------------- codes of several types in one message

def test_mixed_type_verification_codes_give_one_sorted_message() -> None:
    condition = {"resourceType": "Condition", "id": "c", "subject": {"reference": "Patient/p1"},
                 "code": {"coding": [codes.ANAPHYLAXIS.coding()]},
                 "verificationStatus": {"coding": [{"code": 5}, {"system": codes.CONDITION_VERIFICATION},
                                                   {"code": "refuted"}, {"code": 1.5}, {"code": True}]}}
    for order in (1, -1):
        condition["verificationStatus"]["coding"].reverse()
        result = case_from_resources([PATIENT, condition])
        assert result.notes == ["Condition/c: verification 1.5, 5, True, refuted, not used"], order
        assert "episodes" not in result.case


def test_mixed_type_value_codes_give_one_sorted_problem_value() -> None:
    result = case_from_resources([PATIENT, ANAPHYLAXIS, _finding({"coding": [{"code": 7}, {"code": "x"}, {"code": None}]}),
                                  _variant({"coding": [{"code": False}, {"code": "y"}, {}]})])
    assert [(p.path, p.value) for p in result.problems] == [("Observation/f.value[x]", ["7", "x"]),
                                                            ("Observation/v.valueCodeableConcept", ["False", "y"])]


# ---------------------------------------------------------------- crashes the property test below found

@pytest.mark.parametrize("entry", [None, 5, "Patient", ["id", "p2"], [["id", "p2"]]], ids=repr)
def test_an_entry_that_is_no_json_object_is_counted(entry: Any) -> None:
    result = case_from_resources([entry, PATIENT, lab("t", "tryptase", 12, "ug/L", "2020-01-01")])
    assert result.unmapped == {"entry that is not a resource (no JSON object)": 1}
    assert result.case["labs"] == {"baseline_tryptase_ng_ml": 12}


@pytest.mark.parametrize("kind", [["Patient"], {"a": 1}, None, 5, "absent"])
def test_a_resource_type_that_is_no_string_is_counted(kind: Any) -> None:
    resource = {"resourceType": kind, "id": "x"} if kind != "absent" else {"id": "x"}
    result = case_from_resources([resource, resource, PATIENT])
    assert result.unmapped == {"resource whose resourceType is not a string": 2}
    assert result.case["patient"]["sex"] == "female" and result.problems == []


def test_resources_in_hands_out_the_entries_and_leaves_the_bundle_as_it_was() -> None:
    bundle = {"resourceType": "Bundle", "type": "searchset",
              "entry": [{"fullUrl": "urn:uuid:p", "resource": PATIENT}, {"resource": ANAPHYLAXIS}]}
    sent = copy.deepcopy(bundle)
    found = resources_in(bundle)
    assert found == [{**PATIENT, "__fullUrl": "urn:uuid:p"}, ANAPHYLAXIS] and bundle == sent
    assert found[1] is ANAPHYLAXIS  # no copy: the callers only read it


@pytest.mark.parametrize("full_url", [None, 5, ["urn:uuid:c"], {"a": 1}])
def test_a_full_url_that_is_no_string_is_no_reference(full_url: Any) -> None:
    condition = {**ANAPHYLAXIS, "__fullUrl": full_url}
    result = case_from_resources([PATIENT, condition])
    assert result.case["episodes"] == [{"id": "ana", "date": "2024-01-10"}]
    assert condition["__fullUrl"] == full_url  # the caller's resource is left as it was


def test_an_integer_beyond_any_float_is_out_of_range() -> None:
    huge = 10**400
    result = case_from_resources([PATIENT, lab("t", "tryptase", huge, "ug/L", "2020-01-01"),
                                  _medication("MedicationStatement", effectivePeriod={"start": "2020-01-01"},
                                              dosage=[{"doseAndRate": [{"doseQuantity": {"value": huge, "unit": "mg"}}]}])])
    assert [(p.path, p.message) for p in result.problems] == [
        ("Observation/t.valueQuantity.value", "tryptase must lie in 0-100000 ng/mL"),
        ("MedicationStatement/m.dosage.doseAndRate.doseQuantity.value", "a dose must lie in 0-100000 mg")]
    assert result.case["treatments"] == [{"drug": "omalizumab", "start_date": "2020-01-01"}]
    load_case(result.case)


def test_a_variant_allele_fraction_above_1_is_a_problem() -> None:
    variant = _variant({"coding": [codes.PRESENT.coding()]})
    variant["component"].append({"code": {"coding": [codes.LAB_TESTS["kit_d816v_vaf"].coding()]},
                                 "valueQuantity": {"value": 12, "system": codes.UCUM, "code": "1"}})
    result = case_from_resources([PATIENT, variant])
    [problem] = result.problems
    assert (problem.path, problem.value) == ("Observation/v.component.valueQuantity.value", 12)
    assert result.case["molecular"] == {"kit_d816v": "detected"}
    load_case(result.case)


def test_a_list_in_a_timing_or_dose_unit_is_no_interval_or_mass() -> None:
    dosage = {"doseAndRate": [{"doseQuantity": {"value": 150, "code": ["mg"]}}],
              "timing": {"repeat": {"frequency": 1, "period": [4], "periodUnit": "wk"}}, "text": "monthly"}
    result = case_from_resources([PATIENT, _medication("MedicationStatement", effectivePeriod={"start": "2020-01-01"},
                                                       dosage=[dosage])])
    assert result.case["treatments"] == [{"drug": "omalizumab", "start_date": "2020-01-01", "interval": "monthly"}]
    assert result.notes == ["MedicationStatement/m: dose 150 ['mg'] is not a mass; dose left unknown"]


def test_an_indication_that_is_no_text_is_noted() -> None:
    statement = _medication("MedicationStatement", effectivePeriod={"start": "2020-01-01"}, reasonCode=[{"text": ["asthma"]}])
    result = case_from_resources([PATIENT, statement])
    assert result.case["treatments"] == [{"drug": "omalizumab", "start_date": "2020-01-01", "indication": None}]
    assert result.notes == ['MedicationStatement/m.reasonCode: ["asthma"] is no text; indication left unknown']
    load_case(result.case)


# ---------------------------------------------------------------- property: any one element replaced by any JSON value

def _variant_case() -> dict[str, Any]:
    """The seed case with what its export lacks: a birth date, a neoplasm, a blood KIT sample, an unknown current value."""
    document = copy.deepcopy(SEED)
    document["patient"]["birth_date"] = "1979-03-15"
    document["associated_hematologic_neoplasm"] = "CMML"
    document["molecular"]["kit_d816v_sample"] = "peripheral_blood"
    document["labs"]["ige_total_iu_ml"] = None
    document["episodes"][3]["date"] = "2011-09-12"
    document["lab_results"].append({"test": "tryptase", "value": 81.0, "unit": "ng/mL", "date": "2011-09-12",
                                    "context": "acute", "episode_id": document["episodes"][3]["id"]})
    return document


BASES = [_exported(SEED), _exported(_variant_case())]


def _paths(value: Any, path: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Every element's path below ``value`` (keys and list indexes), the resources themselves included."""
    found = [path] if path else []
    items = value.items() if isinstance(value, dict) else enumerate(value) if isinstance(value, list) else ()
    for key, item in items:
        found.extend(_paths(item, (*path, key)))
    return found


def _strings(value: Any) -> set[str]:
    """The keys and string values of the resources: swapped into other places they make plausible nonsense."""
    if isinstance(value, dict):
        return set(value) | {s for item in value.values() for s in _strings(item)}
    if isinstance(value, list):
        return {s for item in value for s in _strings(item)}
    return {value} if isinstance(value, str) else set()


_PLACES = [(n, path) for n, base in enumerate(BASES) for path in _paths(base)]
_WORDS = sorted(set().union(*map(_strings, BASES)) | {"2024-13", "2024-02-30", "2011-09-32", "1899", "2101-01", "",
                                                       "2011-09-15T10:00:00Z", "Patient/other", "#sample", "1", "%"})
_SCALARS = (st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False)
            | st.text(max_size=10) | st.sampled_from(_WORDS))
_JSON = st.recursive(_SCALARS, lambda inner: st.lists(inner, max_size=3)
                     | st.dictionaries(st.sampled_from(_WORDS) | st.text(max_size=6), inner, max_size=3), max_leaves=8)


def test_the_unchanged_resources_import_without_a_remark() -> None:
    for resources in BASES:
        result = case_from_resources(resources)
        assert (result.problems, result.notes, result.unmapped) == ([], [], {})
        load_case(result.case)


@settings(max_examples=1000, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.sampled_from(_PLACES), _JSON,
       st.sampled_from([{}, {"patient_id": SEED["id"]}, {"today": "2024-06-01"}, {"evaluation_date": "2011-09-15"}]))
def test_any_element_replaced_by_any_json_value_never_crashes_the_import(place: tuple[int, tuple[Any, ...]], value: Any,
                                                                         options: dict[str, Any]) -> None:
    n, path = place
    resources = copy.deepcopy(BASES[n])
    *parents, last = path
    container: Any = resources
    for key in parents:
        container = container[key]
    container[last] = value
    sent = copy.deepcopy(resources)
    result = case_from_resources(resources, **options)
    assert resources == sent  # the import reads, never changes, what it was given
    try:
        load_case(result.case)
    except CaseError:
        pass  # a case the import built but cannot stand: the CDS service reports its problems on a card
