"""Every JSON API route: anonymous 401, each wrong role 403, each right role 2xx.

The table below must name every operation of the OpenAPI document, so a new
route cannot go untested: the first test fails until it is added here.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pytest

from mastcds.web import accounts
from tests.web.conftest import USERS, Web, seed_case

READ = ("clinician", "viewer")
WRITE = ("clinician",)
ADMIN = ("admin",)
ROLES = ("admin", "clinician", "viewer")


@dataclass(frozen=True)
class Call:
    roles: tuple[str, ...]
    params: dict[str, Any] = field(default_factory=dict)
    body: Any = None
    status: int = 200


LAB = {"test": "tryptase", "value": 30, "unit": "ng/mL", "date": "2012-05", "context": "baseline"}
CALLS: dict[tuple[str, str], Call] = {
    ("post", "/api/v1/evaluate"): Call(READ, body=seed_case()),
    ("get", "/api/v1/calculators/omalizumab"): Call(READ, {"ige_iu_ml": 100, "weight_kg": 70}),
    ("get", "/api/v1/calculators/rema"): Call(READ, {"sex": "male"}),
    ("get", "/api/v1/calculators/tryptase-rise"): Call(READ, {"baseline_tryptase_ng_ml": 10}),
    ("get", "/api/v1/patients"): Call(READ),
    ("post", "/api/v1/patients"): Call(WRITE, body={"patient": {"sex": "female"}}, status=201),
    ("get", "/api/v1/patients/{key}"): Call(READ),
    ("get", "/api/v1/patients/{key}/case"): Call(READ),
    ("put", "/api/v1/patients/{key}/case"): Call(WRITE, body=seed_case()),
    ("patch", "/api/v1/patients/{key}/findings"): Call(WRITE, body={"bone_marrow.cd25": True}),
    ("get", "/api/v1/patients/{key}/history"): Call(READ),
    ("get", "/api/v1/patients/{key}/episodes"): Call(READ),
    ("post", "/api/v1/patients/{key}/episodes"): Call(WRITE, body={"id": "e9", "date": "2012-03"}, status=201),
    ("get", "/api/v1/patients/{key}/lab-results"): Call(READ),
    ("post", "/api/v1/patients/{key}/lab-results"): Call(WRITE, body=LAB, status=201),
    ("get", "/api/v1/patients/{key}/treatments"): Call(READ),
    ("post", "/api/v1/patients/{key}/treatments"): Call(WRITE, body={"drug": "cromolyn", "start_date": "2012"}, status=201),
    ("patch", "/api/v1/patients/{key}/records/{record_id}"): Call(WRITE, body={"context": "baseline"}),
    ("delete", "/api/v1/patients/{key}/records/{record_id}"): Call(WRITE),
    ("post", "/api/v1/patients/{key}/evaluations"): Call(WRITE, status=201),
    ("get", "/api/v1/patients/{key}/evaluations"): Call(READ),
    ("get", "/api/v1/patients/{key}/evaluations/{evaluation_id}"): Call(READ),
    ("get", "/api/v1/patients/{key}/timeline"): Call(READ, {"format": "png"}),
    ("get", "/api/v1/patients/{key}/report"): Call(READ, {"format": "html"}),
    ("get", "/api/v1/users"): Call(ADMIN),
    ("post", "/api/v1/users"): Call(ADMIN, body={"username": "new-user", "password": "plum kite orbit 47", "role": "viewer"}, status=201),
    ("patch", "/api/v1/users/{username}"): Call(ADMIN, body={"role": "viewer"}),
    ("get", "/api/v1/users/{username}/tokens"): Call(ADMIN),
    ("delete", "/api/v1/users/{username}/tokens/{token_id}"): Call(ADMIN),
    ("get", "/api/v1/audit"): Call(ADMIN),
}


def test_every_api_operation_is_in_the_table(web: Web) -> None:
    operations = {
        (method, path) for path, item in web.app.openapi()["paths"].items() for method in item if method != "parameters"
    }
    assert operations == set(CALLS)


def _url(web: Web, path: str, patient_key: str) -> str:
    """The path with its parameters filled in: a fresh lab result and stored evaluation of ``patient_key``."""
    clinician = web.api("clinician")
    if "{record_id}" in path:
        record = clinician.post(f"/api/v1/patients/{patient_key}/lab-results", json=LAB)
        path = path.replace("{record_id}", str(record.json()["record_id"]))
    if "{evaluation_id}" in path:
        stored = clinician.post(f"/api/v1/patients/{patient_key}/evaluations")
        path = path.replace("{evaluation_id}", str(stored.json()["id"]))
    if "{token_id}" in path:  # a token of its own: the viewer's fixture token must stay live
        with web.store.writing() as db:
            token, _ = accounts.create_api_token(db, accounts.existing_user(db, USERS["viewer"]), "to revoke")
            path = path.replace("{token_id}", str(token.id))
    return path.replace("{key}", patient_key).replace("{username}", USERS["viewer"])


def _send(web: Web, role: str | None, method: str, url: str, call: Call) -> Any:
    client = web.api(role)
    if call.body is None:
        return client.request(method, url, params=call.params)
    return client.request(method, url, params=call.params, json=call.body)


@pytest.mark.parametrize(("method", "path"), sorted(CALLS))
def test_anonymous_requests_are_refused(web: Web, patient_key: str, method: str, path: str) -> None:
    response = _send(web, None, method, _url(web, path, patient_key), CALLS[(method, path)])
    assert response.status_code == 401
    assert response.headers["www-authenticate"] == "Bearer"


@pytest.mark.parametrize(("method", "path"), sorted(CALLS))
def test_wrong_token_is_refused(web: Web, patient_key: str, method: str, path: str) -> None:
    client = web.api(None)
    url = _url(web, path, patient_key)
    for header in ("Bearer mcds_not-a-token", "Bearer " + web.tokens["clinician"][:-1], "Basic Y2Fyb2w6cGFzcw=="):
        response = client.request(method, url, headers={"Authorization": header})
        assert response.status_code == 401, header


@pytest.mark.parametrize(("method", "path"), sorted(CALLS))
def test_wrong_roles_are_refused_and_change_nothing(web: Web, patient_key: str, method: str, path: str) -> None:
    call = CALLS[(method, path)]
    url = _url(web, path, patient_key)
    before = web.api("clinician").get(f"/api/v1/patients/{patient_key}").json()["version"]
    for role in ROLES:
        if role in call.roles:
            continue
        response = _send(web, role, method, url, call)
        assert response.status_code == 403, role
        assert USERS[role] in response.json()["detail"]
    assert web.api("clinician").get(f"/api/v1/patients/{patient_key}").json()["version"] == before


@pytest.mark.parametrize(("method", "path"), sorted(CALLS))
def test_right_roles_are_served(web: Web, patient_key: str, method: str, path: str) -> None:
    call = CALLS[(method, path)]
    for role in call.roles:
        url = _url(web, path, patient_key)
        body = call.body
        if path == "/api/v1/users" and method == "post":
            body = {**call.body, "username": f"new-{patient_key}-{role}"}
        response = _send(web, role, method, url, Call(call.roles, call.params, body, call.status))
        assert response.status_code == call.status, (role, response.text)


def test_every_operation_documents_its_token_and_refusals(web: Web) -> None:
    document = web.app.openapi()
    assert document["openapi"].startswith("3.1")
    assert document["components"]["securitySchemes"]["HTTPBearer"] == {
        "type": "http", "description": "An API token from `mastcds user token` or the account page", "scheme": "bearer"
    }
    for path, item in document["paths"].items():
        for method, operation in item.items():
            assert operation["security"] == [{"HTTPBearer": []}], (method, path)
            assert {"401", "403", "422"} <= set(operation["responses"]), (method, path)
            assert operation.get("summary"), (method, path)


def test_case_bodies_are_documented_by_the_published_case_schema(web: Web) -> None:
    from mastcds.case import case_schema

    document = web.app.openapi()
    body = document["paths"]["/api/v1/evaluate"]["post"]["requestBody"]["content"]["application/json"]["schema"]
    assert body == {"$ref": "#/components/schemas/Case"}
    published = {k: v for k, v in case_schema().items() if k not in ("$schema", "$id")}
    assert document["components"]["schemas"]["Case"] == published
    episode = document["paths"]["/api/v1/patients/{key}/episodes"]["post"]["requestBody"]["content"]["application/json"]["schema"]
    assert episode == {"$ref": "#/components/schemas/Episode"}
