"""The evaluation as FHIR R4: valid resources, the verdict and its evidence, and a round trip that keeps the verdict."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings

from mastcds.case import load_case
from mastcds.engine import evaluate_case
from mastcds.fhir import codes
from mastcds.fhir.bundle import FhirValidationError, export_bundle, validate_r4
from mastcds.fhir.to_case import case_from_bundle
from tests.fhir.test_mapping import EPISODE_CODED, _realistic
from tests.schema_strategy import valid_cases

SEED = json.loads((Path(__file__).parents[2] / "examples" / "seed-case.json").read_text())


def by_type(bundle: dict[str, Any], kind: str) -> list[dict[str, Any]]:
    return [e["resource"] for e in bundle["entry"] if e["resource"]["resourceType"] == kind]


def seed_bundle() -> tuple[dict[str, Any], dict[str, Any]]:
    case = load_case(SEED)
    evaluation = evaluate_case(case)
    return export_bundle(case, evaluation), evaluation


def test_seed_evaluation_resources_and_their_evidence() -> None:
    bundle, evaluation = seed_bundle()
    urls = {e["fullUrl"] for e in bundle["entry"]}
    [impression] = by_type(bundle, "ClinicalImpression")
    assert impression["status"] == "completed" and impression["effectiveDateTime"] == "2011-09"
    assert "REMA score 7" in impression["summary"]
    assert all(ref["reference"] in urls for ref in impression["supportingInfo"])
    [rema] = [o for o in by_type(bundle, "Observation") if o["id"] == "rema-score"]
    assert rema["valueInteger"] == 7 and "likely" in rema["interpretation"][0]["text"]
    assert len(rema["hasMember"]) == len(evaluation["rema"]["items"])
    criteria = [o for o in by_type(bundle, "Observation")
                if o["code"]["coding"][0]["system"] == codes.MASTCDS_CRITERION]
    expected = sum(len(g[k]) for g in evaluation["guidelines"].values() for k in ("criteria", "b_findings", "c_findings"))
    expected += len(evaluation["cutaneous"]["criteria"]) + len(evaluation["mcas"]["criteria"]) + len(evaluation["rema"]["items"])
    assert len(criteria) == expected
    for observation in criteria:  # unknown is never written as false
        assert ("valueBoolean" in observation) != ("dataAbsentReason" in observation)
    diagnoses = by_type(bundle, "Condition")
    determinate = {e: g["category"] for e, g in evaluation["guidelines"].items() if g["category"] not in (None, "none")}
    computed = [c for c in diagnoses if c["id"].startswith("diagnosis-")]
    assert {c["meta"]["tag"][1]["code"] for c in computed} == set(determinate)
    for condition in computed:
        assert condition["verificationStatus"]["coding"][0]["code"] == "provisional"
        assert all(ref["reference"] in urls for ref in condition["evidence"][0]["detail"])


def test_seed_round_trip_gives_the_same_findings_and_verdict() -> None:
    """Export the seed with its evaluation, import it (with the part FHIR cannot code), evaluate again."""
    bundle, evaluation = seed_bundle()
    stripped = copy.deepcopy(SEED)
    for key in ("labs", "lab_results", "treatments"):
        stripped.pop(key)
    stripped["patient"] = {"age_years": SEED["patient"]["age_years"]}
    stripped["molecular"] = {}
    for episode in stripped["episodes"]:
        for key in EPISODE_CODED:
            episode.pop(key, None)
    imported = case_from_bundle(json.loads(json.dumps(bundle)), base_case=stripped)
    assert imported.problems == [] and not imported.unmapped
    assert imported.recorded_diagnoses == []  # mastcds's own conclusions are not read back as findings
    again = evaluate_case(load_case(imported.case))
    for section in ("guidelines", "cutaneous", "mcas", "tryptase", "episodes", "rema", "omalizumab",
                    "epinephrine_autoinjector_mg", "prognosis"):
        assert again[section] == evaluation[section], section


CONTRACT_LIKE = {
    "schema": "mastcds-evaluation/1", "engine_version": "0", "evaluation_date": None,
    "editions": {"who2022": "WHO 2022", "icc2022": "ICC 2022", "who2016": "WHO 2016"},
    "guidelines": {
        "who2022": {"category": "MCL", "possible_categories": ["MCL"],
                    "criteria": [{"id": "major", "status": "met", "reason": "r", "source": "s"}],
                    "b_findings": [], "c_findings": [{"id": "c1", "status": "unknown", "reason": "r", "source": "s"}]},
        "icc2022": {"category": "SM-AMN", "possible_categories": ["SM-AMN"], "criteria": [], "b_findings": [], "c_findings": []},
        "who2016": {"category": None, "possible_categories": ["ISM", "SSM"], "criteria": [], "b_findings": [], "c_findings": []},
    },
    "cutaneous": {"criteria": []}, "mcas": {"criteria": []},
    "rema": {"score": None, "min": 1, "max": 4, "clonal_likely": None, "items": []},
    "warnings": ["a warning", ""],
}


def test_contract_shaped_evaluation_categories_and_unknown_rema() -> None:
    bundle = export_bundle(load_case({"schema": "mastcds-case/1", "patient": {}}), CONTRACT_LIKE)
    conditions = {c["id"]: c for c in by_type(bundle, "Condition")}
    assert {c["code"] for c in conditions["diagnosis-who2022"]["code"]["coding"]} >= {"C94.30", "C94.3", "98851"}
    assert {c["code"] for c in conditions["diagnosis-icc2022"]["code"]["coding"]} >= {"D47.02", "98849"}
    assert "diagnosis-who2016" not in conditions
    [rema] = [o for o in by_type(bundle, "Observation") if o["id"] == "rema-score"]
    assert rema["valueRange"] == {"low": {"value": 1}, "high": {"value": 4}}
    [impression] = by_type(bundle, "ClinicalImpression")
    assert "undetermined (possible: ISM, SSM)" in impression["summary"]
    assert impression["note"] == [{"text": "a warning"}]


def test_validation_failure_is_reported_as_problems() -> None:
    with pytest.raises(FhirValidationError) as caught:
        validate_r4({"resourceType": "Bundle", "type": "collection",
                     "entry": [{"resource": {"resourceType": "Observation", "status": "final", "code": {}, "valueBoolean": "x"}}]})
    assert caught.value.problems


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(valid_cases())
def test_every_valid_case_exports_with_its_evaluation_as_valid_fhir(document: dict[str, Any]) -> None:
    document = _realistic(document, ["omalizumab", "cetirizine"], ["q2w", "asthma"])
    case = load_case(document)
    export_bundle(case, evaluate_case(case))  # raises FhirValidationError on any invalid resource
