"""The audit log: reads and writes through the API and the pages are recorded, admins see and export them."""

from __future__ import annotations

import csv
import io
from typing import Any

from mastcds.store.audit import audit_entries, record_access
from tests.web.conftest import PASSWORD, USERS, Web, csrf_from, seed_case


def _entries(web: Web, key: str) -> list[tuple[str, str, str]]:
    return [(e.actor, e.action, e.detail) for e in reversed(audit_entries(web.store, patient_key=key, limit=1000))]


def test_api_reads_and_writes_are_audited_with_the_token_named(web: Web, patient_key: str) -> None:
    viewer, clinician = web.api("viewer"), web.api("clinician")
    clinician.post(f"/api/v1/patients/{patient_key}/episodes", json={"id": "e9", "date": "2012-02"})
    viewer.get(f"/api/v1/patients/{patient_key}")
    viewer.get(f"/api/v1/patients/{patient_key}/timeline")
    entries = _entries(web, patient_key)
    clinician_actor = f"{USERS['clinician']} (token clinician tests)"
    viewer_actor = f"{USERS['viewer']} (token viewer tests)"
    assert (clinician_actor, "create", "patient created") in entries
    assert (clinician_actor, "update", "episode added") in entries
    assert entries[-2:] == [(viewer_actor, "read", "record shown"), (viewer_actor, "read", "record shown")]


def test_page_reads_and_writes_are_audited(web: Web, patient_key: str) -> None:
    client = web.browser("clinician")
    client.get(f"/patients/{patient_key}")
    page = client.get(f"/patients/{patient_key}/evaluation")
    client.post(f"/patients/{patient_key}/evaluations", data={"csrf_token": csrf_from(page.text)})
    client.get(f"/patients/{patient_key}/report.html")
    actions = [(actor, action) for actor, action, _ in _entries(web, patient_key)]
    carol = USERS["clinician"]
    assert actions[-5:] == [(carol, "read"), (carol, "read"), (carol, "read"), (carol, "create"), (carol, "read")]


def test_refused_requests_leave_no_audit_entry(web: Web, patient_key: str) -> None:
    before = _entries(web, patient_key)
    web.api(None).get(f"/api/v1/patients/{patient_key}")
    web.api("admin").get(f"/api/v1/patients/{patient_key}")
    web.browser(None).get(f"/patients/{patient_key}")
    assert _entries(web, patient_key) == before


def test_admins_read_and_filter_the_audit_log(web: Web, patient_key: str) -> None:
    web.api("viewer").get(f"/api/v1/patients/{patient_key}")
    rows = web.api("admin").get("/api/v1/audit", params={"patient_key": patient_key}).json()
    assert rows[0]["patient_key"] == patient_key and rows[0]["action"] == "read"
    assert {r["patient_key"] for r in rows} == {patient_key}
    page = web.browser("admin").get("/admin/audit", params={"patient_key": patient_key, "actor": rows[0]["actor"]}).text
    assert patient_key in page and "record shown" in page
    assert len(web.api("admin").get("/api/v1/audit", params={"limit": 1}).json()) == 1


def test_the_audit_log_exports_as_csv(web: Web, patient_key: str) -> None:
    web.api("viewer").get(f"/api/v1/patients/{patient_key}")
    for response in (
        web.api("admin").get("/api/v1/audit", params={"patient_key": patient_key, "format": "csv"}),
        web.browser("admin").get("/admin/audit.csv", params={"patient_key": patient_key}),
    ):
        assert response.headers["content-type"].startswith("text/csv")
        assert response.headers["content-disposition"] == 'attachment; filename="mastcds-audit.csv"'
        rows = list(csv.DictReader(io.StringIO(response.text)))
        assert rows and all(row["patient_key"] == patient_key for row in rows)
        assert rows[0]["at"].endswith("+00:00") and rows[0]["actor"].startswith(USERS["viewer"])


def test_csv_cells_cannot_become_spreadsheet_formulas(web: Web) -> None:
    record_access(web.store, actor="=HYPERLINK(\"http://evil\")", action="read", detail="-2+3", patient_key="csv-injection")
    text = web.api("admin").get("/api/v1/audit", params={"patient_key": "csv-injection", "format": "csv"}).text
    row = list(csv.DictReader(io.StringIO(text)))[0]
    assert row["actor"].startswith("'=") and row["detail"] == "'-2+3"


def test_account_changes_are_audited(web: Web) -> None:
    web.api("admin").post("/api/v1/users", json={"username": "audited", "password": "plum kite orbit 47", "role": "viewer"})
    details = [e.detail for e in audit_entries(web.store, actor=f"{USERS['admin']} (token admin tests)", limit=50)]
    assert "user audited created (viewer)" in details


def test_audit_details_hold_no_patient_data(web: Web) -> None:
    key = web.api("clinician").post("/api/v1/patients", json={**seed_case(), "id": "audit-private", "notes": "Mr Smith, 12 Elm St"}).json()["key"]
    web.api("clinician").patch(f"/api/v1/patients/{key}/findings", json={"labs.baseline_tryptase_ng_ml": 77.7})
    web.browser("viewer").get(f"/patients/{key}")
    text = " ".join(e.detail for e in audit_entries(web.store, patient_key=key, limit=100))
    assert "Smith" not in text and "77.7" not in text and "50.9" not in text


def test_failed_logins_are_audited_with_the_name_tried_and_never_the_password(web: Web, fresh_app: Any) -> None:
    from fastapi.testclient import TestClient

    client = TestClient(fresh_app, follow_redirects=False)
    token = csrf_from(client.get("/login").text)
    secret = "not-the-password-" + "q" * 10
    assert client.post("/login", data={"csrf_token": token, "username": "mallory\x07", "password": secret}).status_code == 401
    (entry,) = [e for e in audit_entries(web.store, actor="mallory?") if e.action == "login"]
    assert entry.detail.startswith("failed login from") and entry.patient_key is None
    assert not [e for e in audit_entries(web.store, limit=50) if secret in e.detail or secret in e.actor]
    # a successful login adds no login entry (other tests of the shared store may have recorded failed ones)
    before = {e.id for e in audit_entries(web.store, actor=USERS["viewer"], limit=50)}
    good = TestClient(fresh_app, follow_redirects=False)
    token = csrf_from(good.get("/login").text)
    good.post("/login", data={"csrf_token": token, "username": USERS["viewer"], "password": PASSWORD})
    new = [e for e in audit_entries(web.store, actor=USERS["viewer"], limit=50) if e.id not in before]
    assert not [e for e in new if e.action == "login"]


def test_a_pdf_report_is_audited_as_an_export_and_the_html_view_is_not(web: Web, patient_key: str) -> None:
    client = web.browser("viewer")
    assert client.get(f"/patients/{patient_key}/report.html").status_code == 200
    assert not [e for e in audit_entries(web.store, patient_key=patient_key) if e.action == "export"]
    assert client.get(f"/patients/{patient_key}/report.pdf").status_code == 200
    (export,) = [e for e in audit_entries(web.store, patient_key=patient_key) if e.action == "export"]
    assert export.actor.endswith(USERS["viewer"]) and "PDF" in export.detail
