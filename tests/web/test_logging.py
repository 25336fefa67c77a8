"""No patient data in the application log: access lines name route templates, errors name code locations."""

from __future__ import annotations

import logging

import pytest
from fastapi.testclient import TestClient

from mastcds.store import service
from tests.web.conftest import Web, csrf_from, seed_case

SECRET_NOTE = "Jane Roe, born 1970-04-01"


def _application_log(caplog: pytest.LogCaptureFixture) -> str:
    # the test client's own request log (logger "httpx") is the harness, not the application
    return "\n".join(record.getMessage() for record in caplog.records if not record.name.startswith("httpx"))


def test_a_working_day_leaves_no_patient_data_in_the_log(web: Web, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    api = web.api("clinician")
    key = api.post("/api/v1/patients", json={**seed_case(), "id": "log-private-key", "notes": SECRET_NOTE}).json()["key"]
    api.get(f"/api/v1/patients/{key}")
    api.get("/api/v1/calculators/omalizumab", params={"ige_iu_ml": 433.3, "weight_kg": 66.6})
    api.post("/api/v1/patients", json={"patient": {"weight_kg": 999.9}})  # refused: 999.9 is in the problem, not the log
    client = web.browser("clinician")
    client.get("/patients", params={"q": "log-private"})
    client.get(f"/patients/{key}")
    token = csrf_from(client.get("/patients/new").text)
    client.post("/patients/new", data={"csrf_token": token, "action": "save", "labs.baseline_tryptase_ng_ml": "123.45x"})
    TestClient(web.app).post("/login", data={"csrf_token": token, "username": "nobody", "password": "secret-password-1"})
    text = _application_log(caplog)
    for private in ("log-private", "Jane Roe", "1970-04-01", "433.3", "66.6", "999.9", "123.45", "secret-password-1"):
        assert private not in text
    assert "GET /api/v1/patients/{key} 200" in text
    assert "GET /patients/{key} 200" in text


def test_an_unexpected_error_is_logged_by_place_not_by_message(
    web: Web, patient_key: str, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError(f"cannot show {SECRET_NOTE}")

    monkeypatch.setattr(service, "show_patient", broken)
    caplog.set_level(logging.DEBUG)
    api_answer = web.api("viewer").get(f"/api/v1/patients/{patient_key}")
    page_answer = web.browser("viewer").get(f"/patients/{patient_key}")
    assert api_answer.status_code == 500 and SECRET_NOTE not in api_answer.text
    assert page_answer.status_code == 500 and SECRET_NOTE not in page_answer.text
    text = _application_log(caplog)
    assert "internal error in GET /api/v1/patients/{key}: RuntimeError" in text
    assert "show_patient" in text  # the traceback's frames say where
    assert SECRET_NOTE not in text and patient_key not in text


def test_a_cds_hooks_call_is_logged_by_its_route_template(web: Web, caplog: pytest.LogCaptureFixture) -> None:
    # the service call is a plain Starlette route, which FastAPI does not name in the request scope itself
    caplog.set_level(logging.INFO)
    answer = TestClient(web.app).post("/cds-services/mastcds-patient-view", json={"hook": "patient-view"})
    assert answer.status_code == 401  # this application trusts no EHR: the call is refused, and still logged
    assert "POST /cds-services/{service_id} 401" in _application_log(caplog)
    assert "mastcds-patient-view" not in _application_log(caplog)


_TRACED_REQUEST = """
import sys, tempfile
from fastapi.testclient import TestClient
from opentelemetry import trace
import mastcds.web.app as web_app
from mastcds.store.database import Store
from mastcds.web.settings import WebSettings

class Recording(trace.TracerProvider):
    asked = 0
    def get_tracer(self, *args, **kwargs):
        Recording.asked += 1
        return trace.NoOpTracer()

trace.set_tracer_provider(Recording())  # as an operator's OpenTelemetry SDK set-up would
if sys.argv[1] == "fastapi-default":
    web_app.TELEMETRY_OFF = {}
url = f"sqlite:///{tempfile.mkdtemp()}/m.db"
app = web_app.create_app(WebSettings(database_url=url, secret_key="k" * 48), Store(url))
with TestClient(app) as client:
    assert client.get("/health").status_code == 200
print(Recording.asked)
"""


@pytest.mark.parametrize(("telemetry", "tracers"), [("mastcds", 0), ("fastapi-default", 1)])
def test_no_request_reaches_an_opentelemetry_provider(telemetry: str, tracers: int) -> None:
    # spans would carry paths with patient keys, request bodies and exception messages out of the audited store;
    # the FastAPI default is run too, to show that the recording provider would see it (a global: one process each)
    import subprocess
    import sys

    done = subprocess.run([sys.executable, "-c", _TRACED_REQUEST, telemetry], capture_output=True, text=True, check=True)
    assert (int(done.stdout.split()[-1]) > 0) == bool(tracers), done.stdout
