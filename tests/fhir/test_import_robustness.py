"""What an EHR sends never crashes the FHIR import: an unreadable value is a Problem, a note or an ``unmapped`` count.

Defects found in the import and pinned here: the same Patient sent twice,
dates that match the date pattern but are no calendar date, a list or an
object where a coding's code or system belongs, mixed-type codes in a message.
The property test at the end replaces any one element of the seed case's
exported resources by any JSON value.
"""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest

from mastcds.case import load_case
from mastcds.fhir import codes
from mastcds.fhir.from_case import bundle_from_case
from mastcds.fhir.to_case import FhirImport, case_from_bundle, case_from_resources, resources_in
from tests.fhir.test_mapping import SEED


def seed_resources() -> list[dict[str, Any]]:
    """The seed case exported and read back as JSON, as a client would send it (with each entry's fullUrl)."""
    return resources_in(json.loads(json.dumps(bundle_from_case(load_case(SEED)))))


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
    for twice in ([patient, *resources], [*resources, patient], [*resources, copy.deepcopy(resources[0])]):
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
    [problem] = result.problems
    assert "several patients" in problem.message and problem.value == ["Patient/p1", "Patient/p2"]
