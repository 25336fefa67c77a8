"""The JSON API on patients: the same operations as the pages and the store, refusals naming the field."""

from __future__ import annotations

import pytest

from mastcds import evaluate
from tests.web.conftest import USERS, Web, seed_case


def test_stateless_evaluation_is_the_contract_object(web: Web) -> None:
    response = web.api("viewer").post("/api/v1/evaluate", json=seed_case())
    assert response.status_code == 200
    assert response.json() == evaluate(seed_case())


def test_a_bad_case_is_refused_field_by_field(web: Web) -> None:
    bad = {**seed_case(), "labs": {"baseline_tryptase_ng_ml": -1}, "evaluation_date": "2011-13"}
    response = web.api("viewer").post("/api/v1/evaluate", json=bad)
    assert response.status_code == 422
    problems = {p["path"]: p for p in response.json()["problems"]}
    assert problems["labs.baseline_tryptase_ng_ml"]["value"] == -1
    assert "greater than or equal to 0" in problems["labs.baseline_tryptase_ng_ml"]["message"]


@pytest.mark.parametrize("body", [b"not json", b"[1, 2]", b"null", b'"case"'])
def test_a_body_that_is_not_a_case_object_is_refused(web: Web, body: bytes) -> None:
    response = web.api("viewer").post("/api/v1/evaluate", content=body, headers={"content-type": "application/json"})
    assert response.status_code == 422 and response.json()["problems"]


def test_create_read_and_list(web: Web) -> None:
    api = web.api("clinician")
    key = api.post("/api/v1/patients", json={**seed_case(), "id": "api-create"}).json()["key"]
    assert key == "api-create"
    assert api.post("/api/v1/patients", json={**seed_case(), "id": "api-create"}).status_code == 409
    shown = api.get(f"/api/v1/patients/{key}").json()
    assert shown["version"] == 1 and len(shown["episodes"]) == 4 and shown["case"]["id"] == key
    assert [p["key"] for p in api.get("/api/v1/patients", params={"q": "API-CREA"}).json()] == ["api-create"]
    generated = api.post("/api/v1/patients", json={"patient": {}}).json()["key"]
    assert generated.startswith("P-")


def test_items_are_added_corrected_and_withdrawn(web: Web, patient_key: str) -> None:
    api = web.api("clinician")
    base = f"/api/v1/patients/{patient_key}"
    record = api.post(f"{base}/lab-results", json={"test": "tryptase", "value": 61, "unit": "ug/L", "date": "2012-06"}).json()["record_id"]
    assert any(item["record_id"] == record for item in api.get(f"{base}/lab-results").json())
    version = api.patch(f"{base}/records/{record}", json={"context": "baseline"}, params={"reason": "lab confirmed"}).json()["version"]
    assert api.get(f"{base}/history").json()[-1]["reason"] == "lab confirmed"
    assert api.delete(f"{base}/records/{record}").json()["version"] == version + 1
    assert all(item["record_id"] != record for item in api.get(f"{base}/lab-results").json())
    assert api.delete(f"{base}/records/{record}").status_code == 404


def test_a_refused_item_names_its_field_and_writes_nothing(web: Web, patient_key: str) -> None:
    api = web.api("clinician")
    base = f"/api/v1/patients/{patient_key}"
    before = api.get(base).json()["version"]
    response = api.post(f"{base}/lab-results", json={"test": "tryptase", "value": 12, "unit": "mmol/L", "date": "2012"})
    assert response.status_code == 422
    assert response.json()["problems"][0]["path"] == "lab_result.unit"
    assert api.post(f"{base}/episodes", json={"date": "2012", "systolic_bp_mmhg": 500}).status_code == 422
    assert api.post(f"{base}/treatments", json=["omalizumab"]).status_code == 422
    assert api.get(base).json()["version"] == before


def test_findings_and_whole_case_replacement(web: Web, patient_key: str) -> None:
    api = web.api("clinician")
    base = f"/api/v1/patients/{patient_key}"
    assert api.patch(f"{base}/findings", json={"bone_marrow.cd25": True}).json()["version"] == 2
    assert api.get(f"{base}/case").json()["bone_marrow"]["cd25"] is True
    assert api.get(f"{base}/case", params={"version": 1}).json()["bone_marrow"].get("cd25") is None
    assert api.get(f"{base}/case", params={"version": 99}).status_code == 422
    replaced = api.put(f"{base}/case", json={"patient": {"sex": "female"}}).json()["version"]
    assert replaced == 3 and api.get(f"{base}/case").json()["patient"] == {"sex": "female"}
    assert api.put("/api/v1/patients/no-such-key/case", json={"patient": {}}).status_code == 404


def test_stored_evaluations(web: Web, patient_key: str) -> None:
    api = web.api("clinician")
    base = f"/api/v1/patients/{patient_key}"
    stored = api.post(f"{base}/evaluations").json()
    assert stored["result"] == evaluate(api.get(f"{base}/case").json())
    assert stored["actor"] == f"{USERS['clinician']} (token clinician tests)"
    assert stored["categories"] == {e: g["category"] for e, g in stored["result"]["guidelines"].items()}
    listed = api.get(f"{base}/evaluations").json()
    assert [e["id"] for e in listed] == [stored["id"]]
    assert api.get(f"{base}/evaluations/{stored['id']}").json() == stored
    other = api.post("/api/v1/patients", json={"patient": {}}).json()["key"]
    assert api.get(f"/api/v1/patients/{other}/evaluations/{stored['id']}").status_code == 404


def test_timeline_and_report(web: Web, patient_key: str) -> None:
    api = web.api("viewer")
    png = api.get(f"/api/v1/patients/{patient_key}/timeline", params={"format": "png"})
    assert png.headers["content-type"] == "image/png" and png.content.startswith(b"\x89PNG")
    svg = api.get(f"/api/v1/patients/{patient_key}/timeline")
    assert svg.headers["content-type"] == "image/svg+xml" and b"<svg" in svg.content
    pdf = api.get(f"/api/v1/patients/{patient_key}/report")
    assert pdf.headers["content-type"] == "application/pdf" and pdf.content.startswith(b"%PDF-")
    assert pdf.headers["content-disposition"] == f'attachment; filename="mastcds-report-{patient_key}.pdf"'
    assert api.get(f"/api/v1/patients/{patient_key}/report", params={"format": "doc"}).status_code == 422


@pytest.mark.parametrize("key", ["nobody", "a" * 64])
def test_unknown_patients_are_404(web: Web, key: str) -> None:
    response = web.api("viewer").get(f"/api/v1/patients/{key}")
    assert response.status_code == 404 and response.json()["problems"][0]["value"] == key


@pytest.mark.parametrize("key", ["a" * 65, "-a", "a b", "é"])
def test_keys_outside_the_rule_are_refused(web: Web, key: str) -> None:
    assert web.api("viewer").get(f"/api/v1/patients/{key}").status_code == 422


def test_users_over_the_api(web: Web) -> None:
    api = web.api("admin")
    created = api.post("/api/v1/users", json={"username": "api-user", "password": "plum kite orbit 47", "role": "viewer"})
    assert created.status_code == 201 and created.json()["role"] == "viewer" and "password" not in created.json()
    assert api.post("/api/v1/users", json={"username": "api-user", "password": "plum kite orbit 47", "role": "viewer"}).status_code == 422
    assert api.post("/api/v1/users", json={"username": "x", "password": "plum kite orbi", "role": "viewer"}).status_code == 422
    assert api.post("/api/v1/users", json={"username": "x", "password": "plum kite orbit 47", "role": "root"}).status_code == 422
    assert api.patch("/api/v1/users/api-user", json={"active": False}).json()["active"] is False
    assert api.patch("/api/v1/users/nobody", json={"active": False}).status_code == 404
    assert api.patch(f"/api/v1/users/{USERS['admin']}", json={"active": False}).status_code == 422


def test_bodies_beyond_the_limit_are_refused(web: Web) -> None:
    from mastcds.web.app import MAX_BODY_BYTES

    response = web.api("viewer").post(
        "/api/v1/evaluate", content=b'{"notes": "' + b"x" * MAX_BODY_BYTES + b'"}', headers={"content-type": "application/json"}
    )
    assert response.status_code == 413
