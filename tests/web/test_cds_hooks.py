"""The CDS Hooks 2.0 service: the specification's own request examples, card format field by field, prefetch or FHIR server."""

from __future__ import annotations

import copy
import json
import uuid
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from fhir.resources.R4B.medicationrequest import MedicationRequest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from mastcds.case import load_case
from mastcds.engine import evaluate_case
from mastcds.fhir import codes
from mastcds.fhir.from_case import bundle_from_case
from mastcds.fhir.to_case import FhirImport
from mastcds.rules.dosing.omalizumab import omalizumab_dose
from mastcds.web import cds_hooks
from mastcds.web.cds_auth import CdsSettings
from mastcds.web.cds_hooks import (
    OMALIZUMAB_DOSE,
    PATIENT_VIEW,
    SERVICES,
    CardsResponse,
    cds_hooks_router,
)
from tests.fhir.loopback import loopback_fhir
from tests.schema_strategy import valid_cases
from tests.web.conftest import Web

FIXTURES = Path(__file__).parent / "fixtures"
SEED = json.loads((Path(__file__).parents[2] / "examples" / "seed-case.json").read_text())


def fixture(name: str) -> dict[str, Any]:
    return json.loads((FIXTURES / name).read_text())


# ---------------------------------------------------------------- the specification's card format

_CARD_KEYS = {"uuid", "summary", "detail", "indicator", "source", "suggestions", "selectionBehavior",
              "overrideReasons", "links"}


def _no_empty(value: Any, where: str) -> None:
    """CDS Hooks: elements SHALL NOT be null or empty ("", [], {})."""
    assert value not in (None, "", [], {}), f"{where} is null or empty"
    if isinstance(value, dict):
        for key, item in value.items():
            _no_empty(item, f"{where}.{key}")
    elif isinstance(value, list):
        for i, item in enumerate(value):
            _no_empty(item, f"{where}[{i}]")


def _absolute_url(url: Any) -> bool:
    return isinstance(url, str) and url.startswith(("http://", "https://"))


def check_card(card: dict[str, Any]) -> None:
    """One card against the CDS Hooks 2.0 Card, Source, Suggestion, Action, Link and Coding tables."""
    assert set(card) <= _CARD_KEYS, set(card) - _CARD_KEYS
    for key, value in card.items():
        _no_empty(value, key)
    if "uuid" in card:
        uuid.UUID(card["uuid"])
    assert isinstance(card["summary"], str) and len(card["summary"]) < 140
    assert card["indicator"] in ("info", "warning", "critical")
    source = card["source"]
    assert set(source) <= {"label", "url", "icon", "topic"} and isinstance(source["label"], str)
    for key in ("url", "icon"):
        assert key not in source or _absolute_url(source[key])
    if "topic" in source:
        assert {"system", "code"} <= set(source["topic"])
    assert ("suggestions" in card) == ("selectionBehavior" in card)
    if "suggestions" in card:
        assert card["selectionBehavior"] in ("at-most-one", "any")
        for suggestion in card["suggestions"]:
            assert set(suggestion) <= {"label", "uuid", "isRecommended", "actions"}
            assert isinstance(suggestion["label"], str)
            assert isinstance(suggestion.get("isRecommended", True), bool)
            for action in suggestion.get("actions", []):
                assert action["type"] in ("create", "update", "delete") and action["description"]
                if action["type"] in ("create", "update"):
                    assert "resourceType" in action["resource"]
                else:
                    assert "resourceId" in action
    for reason in card.get("overrideReasons", []):
        assert {"system", "code", "display"} <= set(reason)
    for link in card.get("links", []):
        assert set(link) <= {"label", "url", "type", "appContext", "autolaunchable"}
        assert link["label"] and link["url"] and link["type"] in ("absolute", "smart")
        assert "appContext" not in link or link["type"] == "smart"
        if link["type"] == "absolute":
            assert _absolute_url(link["url"])


def check_response(body: dict[str, Any]) -> list[dict[str, Any]]:
    assert set(body) <= {"cards", "systemActions"} and isinstance(body["cards"], list)
    for card in body["cards"]:
        check_card(card)
    # the service builds cards as plain JSON: its own models of the specification must accept every one
    assert CardsResponse.model_validate(body).model_dump(exclude_none=True) == {"cards": body["cards"]}
    return body["cards"]


def test_the_checker_accepts_the_specifications_response_example() -> None:
    assert len(check_response(fixture("response-example.json"))) == 2
    with pytest.raises(AssertionError):
        check_card({"summary": "x" * 140, "indicator": "info", "source": {"label": "s"}})
    with pytest.raises(AssertionError):
        check_card({"summary": "x", "indicator": "info", "source": {"label": "s"}, "detail": None})


# ---------------------------------------------------------------- the service under test

@pytest.fixture
def api() -> TestClient:
    app = FastAPI()
    app.include_router(cds_hooks_router(CdsSettings(sandbox=True)))
    return TestClient(app)


_SEARCHED = set(cds_hooks.SERVICES[PATIENT_VIEW]["prefetch"]["observations"].partition("&code=")[2].split(","))


def seed_resources(drop: tuple[str, ...] = ()) -> dict[str, Any]:
    """The seed patient as FHIR, without the Observations of the given codes, split like the prefetch templates."""
    bundle = bundle_from_case(load_case(SEED))
    found: dict[str, Any] = {"patient": None, "observations": [], "conditions": []}
    for entry in bundle["entry"]:
        resource = entry["resource"]
        resource["subject"] = {"reference": f"Patient/{SEED['id']}"} if "subject" in resource else None
        if resource["subject"] is None:
            resource.pop("subject")
        for focus in resource.get("focus", []):
            target = next(e["resource"] for e in bundle["entry"] if e["fullUrl"] == focus["reference"])
            focus["reference"] = f"{target['resourceType']}/{target['id']}"
        kind = resource["resourceType"]
        if kind == "Patient":
            found["patient"] = resource
        elif kind == "Observation":
            searched = {f"{c['system']}|{c['code']}" for c in resource["code"]["coding"]} & _SEARCHED
            if searched and not {c["code"] for c in resource["code"]["coding"]} & set(drop):
                found["observations"].append(resource)  # what the prefetch's code search answers
        elif kind == "Condition":
            found["conditions"].append(resource)
    return found


def searchset(resources: list[dict[str, Any]]) -> dict[str, Any]:
    return {"resourceType": "Bundle", "type": "searchset", "entry": [{"resource": r} for r in resources]}


def patient_view(prefetch: dict[str, Any] | None, **extra: Any) -> dict[str, Any]:
    request = {"hook": "patient-view", "hookInstance": str(uuid.uuid4()),
               "context": {"userId": "Practitioner/example", "patientId": SEED["id"]}, **extra}
    if prefetch is not None:
        request["prefetch"] = prefetch
    return request


def prefetched(found: dict[str, Any]) -> dict[str, Any]:
    return {"patient": found["patient"], "observations": searchset(found["observations"]),
            "conditions": searchset(found["conditions"])}


def summaries(cards: list[dict[str, Any]]) -> list[str]:
    return [c["summary"] for c in cards]


def test_discovery_lists_both_services_with_prefetch_templates(api: TestClient) -> None:
    body = api.get("/cds-services").json()
    assert [s["id"] for s in body["services"]] == [PATIENT_VIEW, OMALIZUMAB_DOSE]
    for service in body["services"]:
        _no_empty(service, service["id"])
        assert {"hook", "description", "id", "title", "prefetch"} <= set(service)
        assert service["prefetch"]["patient"] == "Patient/{{context.patientId}}"
    observations = body["services"][0]["prefetch"]["observations"]
    assert "http://loinc.org|21582-2" in observations and "{{context.patientId}}" in observations


def test_seed_patient_is_worked_up_so_no_card(api: TestClient) -> None:
    response = api.post(f"/cds-services/{PATIENT_VIEW}", json=patient_view(prefetched(seed_resources())))
    assert response.status_code == 200
    assert response.json() == {"cards": []}


def test_seed_patient_without_a_kit_result_gets_rema_and_tryptase_cards(api: TestClient) -> None:
    found = seed_resources(drop=(codes.VARIANT_ASSESSMENT.code,))
    response = api.post(f"/cds-services/{PATIENT_VIEW}", json=patient_view(prefetched(found)))
    cards = check_response(response.json())
    assert summaries(cards) == [
        "REMA score 7: clonal mast cell disease likely - consider a bone marrow biopsy and KIT D816V",
        "Baseline tryptase 50.9 ng/mL > 20 without a mastocytosis work-up",
    ]
    assert all(c["indicator"] == "warning" and c["source"]["url"].startswith("http") for c in cards)
    link = cards[0]["links"][0]
    assert link["type"] == "absolute" and link == cards[1]["links"][0]
    evaluation = api.get(link["url"].removeprefix("http://testserver")).json()
    assert evaluation["schema"] == "mastcds-evaluation/1" and evaluation["rema"]["score"] == 7


def test_recurrent_anaphylaxis_without_baseline_tryptase(api: TestClient) -> None:
    found = seed_resources(drop=(codes.LAB_TESTS["tryptase"].code,))
    cards = check_response(api.post(f"/cds-services/{PATIENT_VIEW}", json=patient_view(prefetched(found))).json())
    assert summaries(cards) == ["Recurrent anaphylaxis without a baseline tryptase: consider measuring it"]
    assert "4 anaphylaxis episodes" in cards[0]["detail"]


def test_one_episode_is_not_recurrent(api: TestClient) -> None:
    found = seed_resources(drop=(codes.LAB_TESTS["tryptase"].code,))
    found["conditions"] = found["conditions"][:1]
    assert api.post(f"/cds-services/{PATIENT_VIEW}", json=patient_view(prefetched(found))).json() == {"cards": []}


def test_tryptase_at_20_is_not_above_20(api: TestClient) -> None:
    found = seed_resources(drop=(codes.VARIANT_ASSESSMENT.code, codes.LAB_TESTS["tryptase"].code))
    found["conditions"] = []
    for value, fires in ((20.0, False), (20.1, True)):
        tryptase = {"resourceType": "Observation", "id": "t", "status": "final",
                    "subject": {"reference": f"Patient/{SEED['id']}"},
                    "code": {"coding": [codes.LAB_TESTS["tryptase"].coding()]}, "effectiveDateTime": "2020-01-01",
                    "valueQuantity": {"value": value, "system": codes.UCUM, "code": "ug/L"}}
        data = prefetched({**found, "observations": found["observations"] + [tryptase]})
        cards = api.post(f"/cds-services/{PATIENT_VIEW}", json=patient_view(data)).json()["cards"]
        assert any("> 20 without" in s for s in summaries(cards)) is fires


def test_recorded_mastocytosis_diagnosis_counts_as_work_up(api: TestClient) -> None:
    found = seed_resources(drop=(codes.VARIANT_ASSESSMENT.code,))
    found["conditions"].append({"resourceType": "Condition", "id": "sm", "subject": {"reference": f"Patient/{SEED['id']}"},
                                "code": {"coding": [{"system": codes.ICD10CM, "code": "D47.02"}]}})
    assert api.post(f"/cds-services/{PATIENT_VIEW}", json=patient_view(prefetched(found))).json() == {"cards": []}


def test_unusable_fhir_values_are_reported_on_a_card(api: TestClient) -> None:
    found = seed_resources()
    found["observations"].append({"resourceType": "Observation", "id": "hb", "status": "final",
                                  "subject": {"reference": f"Patient/{SEED['id']}"},
                                  "code": {"coding": [codes.LAB_TESTS["hemoglobin"].coding()]},
                                  "valueQuantity": {"value": 7, "system": codes.UCUM, "code": "mmol/L"}})
    cards = check_response(api.post(f"/cds-services/{PATIENT_VIEW}", json=patient_view(prefetched(found))).json())
    assert summaries(cards) == ["1 FHIR value(s) could not be used by mastcds (unit, range or date)"]
    assert "Observation/hb" in cards[0]["detail"] and cards[0]["indicator"] == "info"


# ---------------------------------------------------------------- the specification's examples and the FHIR server path

def test_spec_patient_view_example_without_reachable_data_is_412(api: TestClient) -> None:
    request = fixture("patient-view-request.json")
    del request["fhirServer"], request["fhirAuthorization"]
    response = api.post(f"/cds-services/{PATIENT_VIEW}", json=request)
    assert response.status_code == 412 and "patient, observations, conditions" in response.json()["detail"]


def test_spec_patient_view_example_fetches_what_was_not_prefetched(api: TestClient) -> None:
    """The example prefetches only its own key; everything else comes from fhirServer with the access token."""
    patient = fixture("patient-view-request.json")["prefetch"]["patientToGreet"]
    with loopback_fhir([patient]) as server:
        request = fixture("patient-view-request.json")
        request["fhirServer"] = server.base
        response = api.post(f"/cds-services/{PATIENT_VIEW}", json=request)
        assert response.status_code == 200 and response.json() == {"cards": []}
        paths = sorted(path.split("?")[0] for path, _ in server.requests)
        assert paths == ["/fhir/Condition", "/fhir/Observation", "/fhir/Patient/1288992"]
        assert {auth for _, auth in server.requests} == {"Bearer some-opaque-fhir-access-token"}


def test_no_prefetch_path_over_http_gives_the_same_cards_as_prefetch(api: TestClient) -> None:
    found = seed_resources(drop=(codes.VARIANT_ASSESSMENT.code,))
    with_prefetch = api.post(f"/cds-services/{PATIENT_VIEW}", json=patient_view(prefetched(found))).json()
    with loopback_fhir([found["patient"], *found["observations"], *found["conditions"]]) as server:
        fetched = api.post(f"/cds-services/{PATIENT_VIEW}", json=patient_view(None, fhirServer=server.base)).json()
        assert any("_page=" in path for path, _ in server.requests)  # searches were paged and followed
    assert summaries(check_response(fetched)) == summaries(with_prefetch["cards"])


def test_partial_prefetch_and_null_prefetch(api: TestClient) -> None:
    found = seed_resources(drop=(codes.VARIANT_ASSESSMENT.code,))
    with loopback_fhir([*found["observations"], *found["conditions"]]) as server:
        request = patient_view({"patient": found["patient"]}, fhirServer=server.base)
        cards = api.post(f"/cds-services/{PATIENT_VIEW}", json=request).json()["cards"]
        assert len(cards) == 2
        assert not any(path.startswith("/fhir/Patient") for path, _ in server.requests)
    # null: the client has no data for that key; nothing to fetch
    request = patient_view({"patient": found["patient"], "observations": None, "conditions": None})
    assert api.post(f"/cds-services/{PATIENT_VIEW}", json=request).json() == {"cards": []}


def test_unreachable_fhir_server_is_412(api: TestClient) -> None:
    response = api.post(f"/cds-services/{PATIENT_VIEW}", json=patient_view(None, fhirServer="http://127.0.0.1:9/fhir"))
    assert response.status_code == 412


def test_request_errors(api: TestClient) -> None:
    assert api.post("/cds-services/nope", json=patient_view({})).status_code == 404
    wrong_hook = {**patient_view({}), "hook": "order-select"}
    assert api.post(f"/cds-services/{PATIENT_VIEW}", json=wrong_hook).status_code == 400
    no_patient = patient_view({})
    no_patient["context"] = {"userId": "Practitioner/1"}
    assert api.post(f"/cds-services/{PATIENT_VIEW}", json=no_patient).status_code == 400
    assert api.post(f"/cds-services/{PATIENT_VIEW}", json={"hook": "patient-view"}).status_code == 422
    assert api.get("/cds-evaluations/not-a-token").status_code == 404


def test_an_invalid_hook_request_is_a_422_naming_each_element(api: TestClient) -> None:
    response = api.post(f"/cds-services/{PATIENT_VIEW}", json={"hook": "patient-view", "hookInstance": 7})
    errors = {tuple(e["loc"]): e["type"] for e in response.json()["detail"]}
    assert response.status_code == 422
    assert errors == {("body", "hookInstance"): "string_type", ("body", "context"): "missing"}


@pytest.mark.parametrize("content_type", ["text/plain", "application/x-www-form-urlencoded", None])
def test_a_body_that_is_not_declared_json_is_a_415(api: TestClient, content_type: str | None) -> None:
    headers = {"Content-Type": content_type} if content_type else {}
    response = api.post(f"/cds-services/{PATIENT_VIEW}", content=json.dumps(patient_view({})), headers=headers)
    assert response.status_code == 415 and "application/json" in response.json()["detail"]
    charset = {"Content-Type": "application/json; charset=utf-8"}
    assert api.post(f"/cds-services/{PATIENT_VIEW}", content=json.dumps(patient_view(prefetched(seed_resources()))),
                    headers=charset).status_code == 200


@pytest.mark.parametrize("body", [b"{not json", b'{"hook": "patient-view", "x": NaN}', b"\xff\xfe", b""])
def test_a_body_that_is_not_json_is_a_422_naming_the_json_error(api: TestClient, body: bytes) -> None:
    response = api.post(f"/cds-services/{PATIENT_VIEW}", content=body, headers={"Content-Type": "application/json"})
    assert response.status_code == 422 and response.json()["detail"][0]["type"] == "json_invalid"


# ---------------------------------------------------------------- order-select: omalizumab

def order_select(context: dict[str, Any], prefetch: dict[str, Any] | None) -> dict[str, Any]:
    request = {"hook": "order-select", "hookInstance": str(uuid.uuid4()), "context": context}
    if prefetch is not None:
        request["prefetch"] = prefetch
    return request


def omalizumab_order(dose_mg: float | None = None, interval: tuple[int, int, str] | None = None) -> dict[str, Any]:
    order: dict[str, Any] = {
        "resourceType": "MedicationRequest", "id": "oma-1", "status": "draft", "intent": "order",
        "medicationCodeableConcept": {"coding": [codes.DRUG_CODES["omalizumab"][0].coding()], "text": "Xolair 150 mg"},
        "subject": {"reference": "Patient/1288992"},
        "reasonCode": [{"text": "recurrent idiopathic anaphylaxis in indolent SM"}],
    }
    if dose_mg is not None and interval is not None:
        frequency, period, unit = interval
        order["dosageInstruction"] = [{
            "timing": {"repeat": {"frequency": frequency, "period": period, "periodUnit": unit}},
            "doseAndRate": [{"doseQuantity": {"value": dose_mg, "system": codes.UCUM, "code": "mg"}}]}]
    return order


def with_order(order: dict[str, Any]) -> dict[str, Any]:
    context = fixture("order-select-context-r4.json")["context"]
    context["draftOrders"]["entry"].append({"resource": order})
    context["selections"].append(f"MedicationRequest/{order['id']}")
    return context


def dose_prefetch(ige: float | None, weight: float | None) -> dict[str, Any]:
    observations = []
    for test, value, unit in (("ige_total", ige, "[IU]/mL"), ("weight", weight, "kg")):
        if value is not None:
            observations.append({"resourceType": "Observation", "id": test, "status": "final",
                                 "subject": {"reference": "Patient/1288992"}, "effectiveDateTime": "2024-02-01",
                                 "code": {"coding": [codes.LAB_TESTS[test].coding()]},
                                 "valueQuantity": {"value": value, "system": codes.UCUM, "code": unit}})
    return {"patient": {"resourceType": "Patient", "id": "1288992", "gender": "male", "birthDate": "1980-01-01"},
            "observations": searchset(observations), "conditions": searchset([])}


def test_spec_order_select_example_selects_no_omalizumab_so_no_card(api: TestClient) -> None:
    request = order_select(fixture("order-select-context-r4.json")["context"], None)
    response = api.post(f"/cds-services/{OMALIZUMAB_DOSE}", json=request)
    assert response.status_code == 200 and response.json() == {"cards": []}


def test_seed_omalizumab_outside_the_table_suggests_the_nearest_cell(api: TestClient) -> None:
    response = api.post(f"/cds-services/{OMALIZUMAB_DOSE}",
                        json=order_select(with_order(omalizumab_order()), dose_prefetch(25, 106)))
    [card] = check_response(response.json())
    assert card["summary"] == "Omalizumab: IgE or weight outside the label table; nearest cell 300 mg every 4 weeks"
    assert card["indicator"] == "warning" and card["selectionBehavior"] == "at-most-one"
    assert "off-label" in card["detail"] and "below the eu-smpc-asthma table" in card["detail"]
    [suggestion] = card["suggestions"]
    assert suggestion["isRecommended"] is False and "outside the table" in suggestion["label"]
    [action] = suggestion["actions"]
    assert action["type"] == "update" and action["resource"]["id"] == "oma-1"
    MedicationRequest.model_validate(action["resource"])  # the suggested order is valid FHIR R4
    dose = action["resource"]["dosageInstruction"][0]
    assert dose["doseAndRate"][0]["doseQuantity"]["value"] == 300
    assert dose["timing"]["repeat"] == {"frequency": 1, "period": 4, "periodUnit": "wk"}


def test_omalizumab_within_the_table_recommends_the_label_dose(api: TestClient) -> None:
    expected = omalizumab_dose(200, 70)
    response = api.post(f"/cds-services/{OMALIZUMAB_DOSE}",
                        json=order_select(with_order(omalizumab_order()), dose_prefetch(200, 70)))
    [card] = check_response(response.json())
    assert card["summary"].startswith(f"Omalizumab {expected.dose_mg} mg every {expected.interval_weeks} weeks")
    assert f"IgE {expected.cell[0]} IU/mL" in card["summary"]
    assert card["suggestions"][0]["isRecommended"] is True


def test_order_already_at_the_table_dose_gets_no_suggestion(api: TestClient) -> None:
    expected = omalizumab_dose(200, 70)
    order = omalizumab_order(expected.dose_mg, (1, expected.interval_weeks, "wk"))
    [card] = api.post(f"/cds-services/{OMALIZUMAB_DOSE}", json=order_select(with_order(order), dose_prefetch(200, 70))).json()["cards"]
    assert "suggestions" not in card and "selectionBehavior" not in card


def test_omalizumab_without_ige_cannot_be_checked(api: TestClient) -> None:
    [card] = check_response(api.post(f"/cds-services/{OMALIZUMAB_DOSE}",
                                     json=order_select(with_order(omalizumab_order()), dose_prefetch(None, 80))).json())
    assert "no baseline total IgE or body weight" in card["summary"] and "suggestions" not in card


def test_unselected_omalizumab_draft_is_ignored(api: TestClient) -> None:
    context = with_order(omalizumab_order())
    context["selections"] = ["NutritionOrder/pureeddiet-simple"]
    assert api.post(f"/cds-services/{OMALIZUMAB_DOSE}", json=order_select(context, dose_prefetch(200, 70))).json() == {"cards": []}


# ---------------------------------------------------------------- feedback

def test_feedback_examples_of_the_specification_are_accepted() -> None:
    router = cds_hooks_router(CdsSettings(sandbox=True))
    app = FastAPI()
    app.include_router(router)
    api = TestClient(app)
    for name in ("feedback-accepted.json", "feedback-overridden.json"):
        response = api.post(f"/cds-services/{PATIENT_VIEW}/feedback", json=fixture(name))
        assert response.status_code == 200 and response.json() == {"received": 1}
    log = list(router.state.feedback)
    assert [item["outcome"] for item in log] == ["accepted", "overridden"]
    assert log[1]["overrideReason"]["reason"]["code"] == "d7ecf885"


def test_feedback_errors(api: TestClient) -> None:
    accepted = copy.deepcopy(fixture("feedback-accepted.json"))
    del accepted["feedback"][0]["acceptedSuggestions"]
    assert api.post(f"/cds-services/{PATIENT_VIEW}/feedback", json=accepted).status_code == 400
    assert api.post("/cds-services/nope/feedback", json=fixture("feedback-accepted.json")).status_code == 404
    bad = fixture("feedback-accepted.json")
    bad["feedback"][0]["outcome"] = "ignored"
    assert api.post(f"/cds-services/{PATIENT_VIEW}/feedback", json=bad).status_code == 422


def test_services_table_matches_discovery_shape() -> None:
    for service_id, service in SERVICES.items():
        assert service["id"] == service_id and service["hook"] in ("patient-view", "order-select")


def test_card_ids_are_version_4_uuids_unique_across_calls(api: TestClient) -> None:
    found = seed_resources(drop=(codes.VARIANT_ASSESSMENT.code,))
    ids = [card["uuid"] for _ in range(50)
           for card in api.post(f"/cds-services/{PATIENT_VIEW}", json=patient_view(prefetched(found))).json()["cards"]]
    assert len(ids) == 100 and len(set(ids)) == 100
    assert {uuid.UUID(i).version for i in ids} == {4}


def _without_ids(cards: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [{key: value for key, value in card.items() if key != "uuid"} for card in cards]


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(valid_cases(), st.lists(st.sampled_from(["history of anaphylaxis", "indolent systemic mastocytosis"]), max_size=2))
@example({key: value for key, value in SEED.items() if key not in ("molecular", "bone_marrow")}, [])
@example({"patient": {"sex": "female"}, "labs": {"baseline_tryptase_ng_ml": 30.0},
          "molecular": {"tpsab1_extra_alpha_copies": 1}, "skin": {"lesions": "none"},
          "episodes": [{"presyncope": True, "urticaria": False}]}, [])  # HαT-adjusted baseline 15: no tryptase card
@example({"patient": {"sex": "male"}, "episodes": [{"loss_of_consciousness": True}, {"angioedema": False}],
          "lab_results": [{"test": "tryptase", "value": 26, "unit": "ng/mL", "date": "2020", "context": "baseline"}]},
         ["history of anaphylaxis"])
def test_the_sections_computed_on_the_call_give_the_cards_of_the_full_evaluation(
        document: dict[str, Any], diagnoses: list[str]) -> None:
    # the call computes only what the cards read (card_sections); the cards must not tell the difference
    case = load_case(document)
    imported = FhirImport(case=document, recorded_diagnoses=diagnoses)
    on_the_call = cds_hooks.patient_view_cards(document, cds_hooks.card_sections(case), imported, "https://x/e")
    full = cds_hooks.patient_view_cards(document, evaluate_case(case), imported, "https://x/e")
    assert _without_ids(on_the_call) == _without_ids(full)
    assert cds_hooks.card_sections(case)["rema"] == evaluate_case(case)["rema"]


@pytest.mark.parametrize("bits", [0, (1 << 128) - 1, 0x0123456789ABCDEF_FEDCBA9876543210, *(1 << k for k in range(0, 128, 7))])
def test_card_id_is_the_text_of_uuid_version_4_of_the_same_bits(bits: int, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(cds_hooks.random, "getrandbits", lambda k: bits)
    assert cds_hooks._card_id() == str(uuid.UUID(int=bits, version=4))


def test_the_cds_hooks_routes_are_matched_before_the_api_and_the_pages(web: Web) -> None:
    # an EHR waits on every CDS Hooks call; passing over the 60 other routes cost a fifth of the call (README)
    def paths(route: object) -> set[str]:
        included = getattr(route, "original_router", None)
        return set().union(*map(paths, included.routes)) if included is not None else {getattr(route, "path", "")}

    order = [paths(route) for route in web.app.router.routes]
    cds = next(i for i, found in enumerate(order) if "/cds-services/{service_id}" in found)
    assert all(not any(p.startswith(("/api/v1/patients", "/patients")) for p in found) for found in order[:cds])
    # and the service call is a route of the application's own router, not one dispatched through an included
    # router, with none of those before it (only FastAPI's own OpenAPI document route)
    routes = web.app.router.routes
    call = next(i for i, route in enumerate(routes) if getattr(route, "path", None) == "/cds-services/{service_id}")
    assert routes[call].methods == {"POST"} and not hasattr(routes[call], "original_router")
    assert [getattr(route, "path", None) for route in routes[:call]] == ["/api/v1/openapi.json"]


@pytest.mark.parametrize("coding", [{"system": codes.SNOMED, "code": "397016004"},
                                    {"system": codes.ICDO3, "code": "9741/3"},
                                    {"system": codes.ICD10CM, "code": "D47.02"}], ids=lambda c: c["code"])
def test_a_recorded_mastocytosis_in_any_terminology_is_a_work_up(api: TestClient, coding: dict[str, str]) -> None:
    """Regression (issue 17 §2): SNOMED CT 397016004 with a tryptase above 20 got the "without a work-up" card."""
    found = seed_resources(drop=(codes.VARIANT_ASSESSMENT.code,))
    found["conditions"].append({"resourceType": "Condition", "id": "sm", "subject": {"reference": f"Patient/{SEED['id']}"},
                                "code": {"coding": [coding]}})
    cards = check_response(api.post(f"/cds-services/{PATIENT_VIEW}", json=patient_view(prefetched(found))).json())
    assert not any("without a mastocytosis work-up" in s for s in summaries(cards))
