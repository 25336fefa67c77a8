"""Hostile input over HTTP (issue 16, items 1, 8, 10, 11, 16): a field-level 422, never a 500, and nothing stored."""

from __future__ import annotations

import json
from typing import Any

import pytest

from mastcds.case import MAX_EPISODES
from tests.web.conftest import Web, seed_case

JSON = {"content-type": "application/json"}


def _refused(response: Any) -> list[str]:
    assert response.status_code == 422, response.text
    return [problem["path"] for problem in response.json()["problems"]]


def test_a_lone_surrogate_is_a_422_naming_the_field_and_nothing_is_stored(web: Web) -> None:
    client = web.api("clinician")
    document = {**seed_case(), "notes": "\ud800"}
    body = json.dumps(document)  # ASCII: the surrogate travels as the escape \ud800
    response = client.post("/api/v1/patients", params={"key": "surrogate-1"}, content=body, headers=JSON)
    assert _refused(response) == ["notes"]
    assert response.json()["problems"][0]["value"] == "\\ud800"
    assert client.get("/api/v1/patients/surrogate-1").status_code == 404
    assert _refused(client.post("/api/v1/evaluate", content=body, headers=JSON)) == ["notes"]


def test_a_surrogate_through_every_write_route_is_refused(web: Web, patient_key: str) -> None:
    client = web.api("clinician")
    writes = [
        ("patch", f"/api/v1/patients/{patient_key}/findings", {"organs.other_organ_damage": "\udc00"}, "organs.other_organ_damage"),
        ("post", f"/api/v1/patients/{patient_key}/treatments", {"drug": "x\ud800", "start_date": "2020"}, "drug"),
        ("post", f"/api/v1/patients/{patient_key}/episodes", {"trigger_detail": "\ud800"}, "trigger_detail"),
        ("put", f"/api/v1/patients/{patient_key}/case", {**seed_case(), "episodes": [{"id": "\ud800"}]}, "episodes[0].id"),
    ]
    for method, url, document, path in writes:
        response = getattr(client, method)(url, content=json.dumps(document), headers=JSON)
        assert _refused(response) == [path], url
    assert client.get(f"/api/v1/patients/{patient_key}").json()["version"] == 1


@pytest.mark.parametrize("written", ["NaN", "Infinity", "-Infinity", "1e309"])
def test_non_finite_numbers_are_a_422_with_the_field_path(web: Web, written: str) -> None:
    client = web.api("clinician")
    body = '{"patient": {"age_years": %s}, "lab_results": [{"test": "tryptase", "value": %s, "unit": "ng/mL", "date": "2020"}]}' % (written, written)
    response = client.post("/api/v1/evaluate", content=body, headers=JSON)
    assert sorted(_refused(response)) == ["lab_results[0].value", "patient.age_years"]
    assert {problem["value"] for problem in response.json()["problems"]} == {written}
    assert _refused(client.post("/api/v1/patients", content=body, headers=JSON)) != []


def test_deeply_nested_json_is_a_422(web: Web, patient_key: str) -> None:
    client = web.api("clinician")
    for url in ("/api/v1/evaluate", "/api/v1/patients", f"/api/v1/patients/{patient_key}/findings"):
        method = client.patch if url.endswith("findings") else client.post
        response = method(url, content="[" * 100_000, headers=JSON)
        assert _refused(response) == [""], url
        assert "nested deeper than" in response.json()["problems"][0]["message"]


def test_more_episodes_than_any_patient_has_is_a_422_before_any_work(web: Web) -> None:
    document = {"patient": {}, "episodes": [{} for _ in range(MAX_EPISODES + 1)]}
    assert _refused(web.api("viewer").post("/api/v1/evaluate", json=document)) == ["episodes"]


MATHTEXT = r"$\undefinedcommand$"


def test_mathtext_in_free_text_draws_as_plain_text_everywhere(web: Web) -> None:
    document = seed_case()
    document["episodes"][0]["id"] = MATHTEXT
    for lab in document["lab_results"]:
        if lab.get("episode_id") == seed_case()["episodes"][0]["id"]:
            lab["episode_id"] = MATHTEXT
    document["treatments"][0]["drug"] = MATHTEXT
    document["id"] = "math-1"
    api = web.api("clinician")
    assert api.post("/api/v1/patients", json=document).status_code == 201
    svg = api.get("/api/v1/patients/math-1/timeline")
    assert svg.status_code == 200 and MATHTEXT.encode() in svg.content  # drawn as the text itself
    assert api.get("/api/v1/patients/math-1/timeline", params={"format": "png"}).status_code == 200
    for report_format in ("html", "pdf"):
        assert api.get("/api/v1/patients/math-1/report", params={"format": report_format}).status_code == 200
    browser = web.browser("clinician")
    for page in ("/patients/math-1", "/patients/math-1/timeline.svg", "/patients/math-1/report.html", "/patients/math-1/report.pdf"):
        assert browser.get(page).status_code == 200, page


def test_the_patient_list_answers_a_page_at_a_time(web: Web) -> None:
    api = web.api("clinician")
    for n in range(3):
        api.post("/api/v1/patients", params={"key": f"page-{n}"}, json={"patient": {}})
    first = api.get("/api/v1/patients", params={"q": "page-", "limit": 2})
    assert [p["key"] for p in first.json()] == ["page-0", "page-1"]
    assert first.headers["x-total-count"] == "3"
    following = first.headers["link"].split(";")[0].strip("<>")
    second = api.get(following)
    assert [p["key"] for p in second.json()] == ["page-2"] and "link" not in second.headers
    assert _refused(api.get("/api/v1/patients", params={"limit": 10_001})) == ["limit"]


def test_the_audit_log_as_json_is_bounded_and_as_csv_goes_further(web: Web) -> None:
    admin = web.api("admin")
    assert _refused(admin.get("/api/v1/audit", params={"limit": 10_001})) == ["limit"]
    assert admin.get("/api/v1/audit", params={"limit": 10_001, "format": "csv"}).status_code == 200
