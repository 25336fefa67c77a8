"""The HTML pages: who may see which, CSRF on every form, the login and its cookies, the case form's errors."""

from __future__ import annotations

import re
from typing import Any

import pytest
from fastapi.testclient import TestClient

from mastcds.store import service
from mastcds.web.pages import account, admin, auth, patients, tools
from tests.web.conftest import PASSWORD, USERS, Web, csrf_from, seed_case

READ = ("clinician", "viewer")
WRITE = ("clinician",)
ADMIN = ("admin",)
ANY = ("admin", "clinician", "viewer")
ROLES = ANY

GET_PAGES: dict[str, tuple[str, ...]] = {
    "/patients": READ,
    "/patients/new": WRITE,
    "/patients/{key}": READ,
    "/patients/{key}/edit": WRITE,
    "/patients/{key}/evaluation": READ,
    "/patients/{key}/evaluations/{evaluation_id}": READ,
    "/patients/{key}/history": READ,
    "/patients/{key}/timeline.svg": READ,
    "/patients/{key}/report.{report_format}": READ,
    "/patients/{key}/case.json": READ,
    "/calculators": READ,
    "/evaluate": READ,
    "/admin/users": ADMIN,
    "/admin/audit": ADMIN,
    "/admin/audit.csv": ADMIN,
    "/admin/users/{username}/tokens": ADMIN,
    "/account": ANY,
    "/": ANY,
}
POST_FORMS: dict[str, tuple[str, ...]] = {
    "/logout": ANY,
    "/patients/new": WRITE,
    "/patients/{key}/edit": WRITE,
    "/patients/{key}/evaluations": WRITE,
    "/patients/{key}/plan.pdf": READ,
    "/evaluate": READ,
    "/admin/users": ADMIN,
    "/admin/users/{username}": ADMIN,
    "/admin/users/{username}/tokens/{token_id}/revoke": ADMIN,
    "/account/tokens": ANY,
    "/account/tokens/{token_id}/revoke": ANY,
    "/account/password": ANY,
}
PUBLIC = {("GET", "/login"), ("POST", "/login")}


def _routes() -> set[tuple[str, str]]:
    found = set()
    for module in (auth, patients, tools, admin, account):
        for route in module.router.routes:
            found |= {(method, route.path) for method in route.methods}
    return found


def test_every_page_route_is_in_the_tables() -> None:
    listed = {("GET", path) for path in GET_PAGES} | {("POST", path) for path in POST_FORMS} | PUBLIC
    assert _routes() == listed


def _url(web: Web, path: str, key: str) -> str:
    if "{evaluation_id}" in path:
        stored = service.run_evaluation(web.store, key, actor="tests")
        path = path.replace("{evaluation_id}", str(stored.id))
    return (
        path.replace("{key}", key).replace("{report_format}", "html").replace("{username}", USERS["viewer"])
        .replace("{token_id}", "1")
    )


@pytest.mark.parametrize("path", sorted(GET_PAGES))
def test_pages_send_anonymous_visitors_to_the_login_page(web: Web, patient_key: str, path: str) -> None:
    url = _url(web, path, patient_key)
    response = web.browser(None).get(url)
    assert response.status_code == 303
    assert response.headers["location"].startswith("/login?next=")


@pytest.mark.parametrize("path", sorted(GET_PAGES))
def test_pages_by_role(web: Web, patient_key: str, path: str) -> None:
    url = _url(web, path, patient_key)
    for role in ROLES:
        response = web.browser(role).get(url)
        if role not in GET_PAGES[path]:
            assert response.status_code == 403, role
            assert "Not allowed for your role" in response.text
        elif path == "/":
            assert response.status_code == 303
        else:
            assert response.status_code == 200, (role, response.text[:300])


@pytest.mark.parametrize("path", sorted(POST_FORMS))
def test_every_form_refuses_a_missing_or_forged_csrf_token(web: Web, patient_key: str, path: str) -> None:
    role = POST_FORMS[path][0]
    client = web.browser(role)
    url = _url(web, path, patient_key)
    other = csrf_from(web.browser(role).get("/account").text)  # valid, but for another session
    before = service.show_patient(web.store, patient_key, actor="tests").version
    users_before = web.api("admin").get("/api/v1/users").json()
    for token in (None, "", "0" * 64, other):
        data = {"username": "csrf-victim", "password": "plum kite orbit 47", "role": "viewer", "name": "t", "action": "save",
                "current": PASSWORD, "new": "quiet lantern 58 fig", "repeat": "quiet lantern 58 fig"}
        if token is not None:
            data["csrf_token"] = token
        response = client.post(url, data=data)
        assert response.status_code == 403, token
        assert "The form expired" in response.text
    assert service.show_patient(web.store, patient_key, actor="tests").version == before
    assert web.api("admin").get("/api/v1/users").json() == users_before
    assert client.get("/account").status_code == 200  # still logged in: the logout form was refused too


@pytest.mark.parametrize("path", sorted(POST_FORMS))
def test_forms_refuse_wrong_roles(web: Web, patient_key: str, path: str) -> None:
    url = _url(web, path, patient_key)
    for role in ROLES:
        if role in POST_FORMS[path]:
            continue
        client = web.browser(role)
        response = client.post(url, data={"csrf_token": csrf_from(client.get("/account").text), "action": "save"})
        assert response.status_code == 403, role


# ------------------------------------------------------------------ login, cookies, headers


def _cookies(response: Any) -> dict[str, str]:
    return {header.split("=", 1)[0]: header for header in response.headers.get_list("set-cookie")}


def test_login_sets_an_httponly_samesite_session_cookie(web: Web) -> None:
    client = TestClient(web.app, follow_redirects=False)
    page = client.get("/login")
    assert "HttpOnly" in _cookies(page)["mastcds_csrf"] and "SameSite=Lax" in _cookies(page)["mastcds_csrf"]
    response = client.post("/login", data={"csrf_token": csrf_from(page.text), "username": USERS["viewer"], "password": PASSWORD})
    cookie = _cookies(response)["mastcds_session"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Path=/" in cookie
    assert "Secure" not in cookie  # plain http: a Secure cookie would never come back


def test_cookies_are_secure_over_tls(web: Web) -> None:
    client = TestClient(web.app, base_url="https://testserver", follow_redirects=False)
    page = client.get("/login")
    assert "Secure" in _cookies(page)["mastcds_csrf"]
    response = client.post("/login", data={"csrf_token": csrf_from(page.text), "username": USERS["viewer"], "password": PASSWORD})
    assert "Secure" in _cookies(response)["mastcds_session"]
    assert response.headers["strict-transport-security"].startswith("max-age=")


def test_security_headers(web: Web) -> None:
    response = web.browser("viewer").get("/patients")
    assert "frame-ancestors 'none'" in response.headers["content-security-policy"]
    assert "script-src 'self'" in response.headers["content-security-policy"]
    assert response.headers["x-frame-options"] == "DENY"
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["referrer-policy"] == "no-referrer"
    assert response.headers["cache-control"] == "no-store"
    assert "strict-transport-security" not in response.headers


def test_a_wrong_password_is_refused_without_saying_which_part_was_wrong(fresh_app: Any) -> None:
    client = TestClient(fresh_app, follow_redirects=False)
    token = csrf_from(client.get("/login").text)
    wrong_password = client.post("/login", data={"csrf_token": token, "username": USERS["viewer"], "password": "nope"})
    no_such_user = client.post("/login", data={"csrf_token": token, "username": "nobody", "password": PASSWORD})
    for response in (wrong_password, no_such_user):
        assert response.status_code == 401 and "Wrong user name or password." in response.text
        assert "mastcds_session" not in _cookies(response)


def test_login_attempts_are_rate_limited(fresh_app: Any) -> None:
    client = TestClient(fresh_app, follow_redirects=False)
    token = csrf_from(client.get("/login").text)
    for _ in range(fresh_app.state.settings.login_max_failures):
        assert client.post("/login", data={"csrf_token": token, "username": USERS["clinician"], "password": "guess"}).status_code == 401
    blocked = client.post("/login", data={"csrf_token": token, "username": USERS["clinician"], "password": PASSWORD})
    assert blocked.status_code == 429 and int(blocked.headers["retry-after"]) > 0
    assert "Too many failed attempts" in blocked.text and "mastcds_session" not in _cookies(blocked)


@pytest.mark.parametrize("target", ["//evil.example/x", "https://evil.example/", "/\\evil.example", "patients"])
def test_login_never_redirects_off_site(web: Web, target: str) -> None:
    client = TestClient(web.app, follow_redirects=False)
    token = csrf_from(client.get("/login").text)
    response = client.post("/login", data={"csrf_token": token, "username": USERS["viewer"], "password": PASSWORD, "next": target})
    assert response.headers["location"] == "/patients"


def test_login_returns_to_the_page_asked_for(web: Web, patient_key: str) -> None:
    client = TestClient(web.app, follow_redirects=False)
    first = client.get(f"/patients/{patient_key}/evaluation?all=1")
    assert first.headers["location"] == f"/login?next=%2Fpatients%2F{patient_key}%2Fevaluation%3Fall%3D1"
    page = client.get(first.headers["location"])
    assert f'value="/patients/{patient_key}/evaluation?all=1"' in page.text
    response = client.post("/login", data={"csrf_token": csrf_from(page.text), "username": USERS["viewer"], "password": PASSWORD,
                                           "next": f"/patients/{patient_key}/evaluation?all=1"})
    assert response.headers["location"] == f"/patients/{patient_key}/evaluation?all=1"


def test_admins_land_on_the_users_page(web: Web) -> None:
    assert web.browser("admin").get("/").headers["location"] == "/admin/users"
    assert web.browser("viewer").get("/").headers["location"] == "/patients"


def test_logout_ends_the_session_on_the_server(web: Web) -> None:
    client = web.browser("viewer")
    stolen = client.cookies.get("mastcds_session")
    response = client.post("/logout", data={"csrf_token": csrf_from(client.get("/account").text)})
    assert response.status_code == 303 and "Max-Age=0" in _cookies(response)["mastcds_session"]
    replay = TestClient(web.app, follow_redirects=False, cookies={"mastcds_session": stolen})
    assert replay.get("/patients").status_code == 303


# ------------------------------------------------------------------ the case form


def _form_data(client: TestClient, url: str, document: dict[str, Any]) -> dict[str, str]:
    from mastcds.web.case_form import state_from_document

    state = state_from_document(document)
    data = {"csrf_token": csrf_from(client.get(url).text), "action": "save", **state.values}
    for section, rows in state.rows.items():
        for index, row in enumerate(rows):
            data.update({f"{section}[{index}].{name}": value for name, value in row.items()})
    return data


def _field_block(html: str, name: str) -> str:
    """The markup of the form field holding the input ``name``."""
    start = html.index(f'name="{name}"')
    return html[html.rindex('<div class="field', 0, start): html.index("\n</div>\n", start)]


def test_a_wrong_value_is_shown_beside_its_field_and_nothing_is_saved(web: Web) -> None:
    client = web.browser("clinician")
    count = len(service.list_patients(web.store, actor="tests"))
    data = _form_data(client, "/patients/new", {**seed_case(), "id": "form-wrong"})
    data["labs.baseline_tryptase_ng_ml"] = "509O"
    data["episodes[1].systolic_bp_mmhg"] = "750"
    response = client.post("/patients/new", data=data)
    assert response.status_code == 422
    assert "2 problems: nothing was saved." in response.text
    tryptase = _field_block(response.text, "labs.baseline_tryptase_ng_ml")
    assert 'class="error"' in tryptase and "enter a number, e.g. 12.5 in ng/mL" in tryptase and 'value="509O"' in tryptase
    pressure = _field_block(response.text, "episodes[1].systolic_bp_mmhg")
    assert 'class="error"' in pressure and "less than or equal to 300" in pressure
    assert 'aria-invalid="true"' in tryptase
    assert len(service.list_patients(web.store, actor="tests")) == count


def test_the_form_saves_a_valid_case(web: Web) -> None:
    client = web.browser("clinician")
    response = client.post("/patients/new", data=_form_data(client, "/patients/new", {**seed_case(), "id": "form-ok"}))
    assert response.status_code == 303 and response.headers["location"] == "/patients/form-ok"
    stored = service.export_case(web.store, "form-ok", actor="tests")
    assert stored["episodes"] == seed_case()["episodes"]


def test_a_taken_or_unusable_key_is_shown_on_the_key_field(web: Web, patient_key: str) -> None:
    client = web.browser("clinician")
    for key, message in ((patient_key, "exists already"), ("no spaces", "not a usable patient key")):
        response = client.post("/patients/new", data=_form_data(client, "/patients/new", {"id": key, "patient": {"sex": "male"}}))
        assert response.status_code in (409, 422)
        assert message in _field_block(response.text, "id")


def test_add_and_remove_rows_without_saving(web: Web) -> None:
    client = web.browser("clinician")
    token = csrf_from(client.get("/patients/new").text)
    added = client.post("/patients/new", data={"csrf_token": token, "action": "add:treatments", "patient.sex": "female"})
    assert added.status_code == 200
    assert 'name="treatments[0].drug"' in added.text and "autofocus" in _field_block(added.text, "treatments[0].drug")
    assert 'value="female" selected' in added.text  # what was typed stays
    removed = client.post("/patients/new", data={"csrf_token": token, "action": "remove:treatments:0", "treatments[0].drug": "x"})
    assert 'name="treatments[0].drug"' not in removed.text


def test_editing_keeps_history_and_refuses_a_stale_form(web: Web, patient_key: str) -> None:
    client = web.browser("clinician")
    url = f"/patients/{patient_key}/edit"
    stale = _form_data(client, url, seed_case())
    stale["version"] = re.search(r'name="version" value="(\d+)"', client.get(url).text).group(1)  # type: ignore[union-attr]
    fresh = dict(stale, **{"bone_marrow.cd25": "true", "reason": "flow cytometry result"})
    assert client.post(url, data=fresh).status_code == 303
    case = service.export_case(web.store, patient_key, actor="tests")
    assert case["bone_marrow"]["cd25"] is True and case["id"] == patient_key
    history = service.patient_history(web.store, patient_key, actor="tests")
    assert history[-1].reason == "flow cytometry result" and history[-1].actor == USERS["clinician"]
    conflict = client.post(url, data=dict(stale, **{"bone_marrow.cd2": "true"}))
    assert conflict.status_code == 409 and "changed since this form was opened" in conflict.text
    assert service.export_case(web.store, patient_key, actor="tests")["bone_marrow"].get("cd2") is None


# ------------------------------------------------------------------ what the pages show


def test_the_patient_page_shows_verdicts_timeline_and_treatment_response(web: Web, patient_key: str) -> None:
    html = web.browser("viewer").get(f"/patients/{patient_key}").text
    for text in ("Current verdict per guideline", "WHO 2022", "ICC 2022", "WHO 2016", "ISM", "Treatment response", "omalizumab 300 mg q4w"):
        assert text in html
    assert f'<img class="timeline" src="/patients/{patient_key}/timeline.svg?as_of=2011-09"' in html  # the evaluation date
    assert "Edit case" not in html  # a viewer gets no edit button
    svg = web.browser("viewer").get(f"/patients/{patient_key}/timeline.svg")
    assert svg.headers["content-type"] == "image/svg+xml" and svg.content.lstrip().startswith(b"<?xml")


def test_the_evaluation_page_shows_every_criterion_with_status_reason_and_source(web: Web, patient_key: str) -> None:
    from mastcds import evaluate

    html = web.browser("viewer").get(f"/patients/{patient_key}/evaluation").text
    result = evaluate(seed_case())
    for edition, guideline in result["guidelines"].items():
        for criterion in guideline["criteria"] + guideline["b_findings"] + guideline["c_findings"]:
            assert criterion["id"] in html
            assert _escaped(criterion["reason"]) in html and _escaped(criterion["source"]) in html
        for test in guideline["next_tests"]:
            assert _escaped(test["test"]) in html
    for label in ("✓ met", "? unknown", "✗ not met", "possible:", "Next tests", "side by side"):
        assert label in html
    assert "Store this evaluation" not in html  # viewers cannot store


def test_the_evaluation_page_shows_prognosis_and_why_a_score_is_missing(web: Web, patient_key: str) -> None:
    from mastcds import evaluate

    html = web.browser("viewer").get(f"/patients/{patient_key}/evaluation").text
    prognosis = evaluate(seed_case())["prognosis"]
    assert "MARS (advanced SM)" in html and _escaped(prognosis["mars"]["applies"]) in html  # MCL still possible
    for name in ("ipsm", "maps"):
        assert f"{name.upper()} not computed: {_escaped(prognosis['not_computed'][name])}" in html


def _escaped(text: str) -> str:
    from markupsafe import escape

    return str(escape(text))


def test_storing_an_evaluation_shows_it_as_given(web: Web, patient_key: str) -> None:
    client = web.browser("clinician")
    page = client.get(f"/patients/{patient_key}/evaluation")
    assert "Store this evaluation" in page.text
    response = client.post(f"/patients/{patient_key}/evaluations", data={"csrf_token": csrf_from(page.text)})
    assert response.status_code == 303
    stored = client.get(response.headers["location"])
    assert "Stored evaluation" in stored.text and f"by {USERS['clinician']}" in stored.text
    other = service.create_patient(web.store, actor="tests")
    evaluation_id = response.headers["location"].rsplit("/", 1)[1]
    assert client.get(f"/patients/{other}/evaluations/{evaluation_id}").status_code == 404


def test_downloads(web: Web, patient_key: str) -> None:
    client = web.browser("viewer")
    report = client.get(f"/patients/{patient_key}/report.html")
    # the HTML report opens in the browser; the PDF is a file to keep
    assert report.headers["content-disposition"] == f'inline; filename="mastcds-report-{patient_key}.html"'
    assert "<html" in report.text
    case = client.get(f"/patients/{patient_key}/case.json")
    assert case.json()["id"] == patient_key
    assert client.get(f"/patients/{patient_key}/report.docx").status_code == 422


def test_unknown_patients_are_404_pages(web: Web) -> None:
    response = web.browser("viewer").get("/patients/nobody-here", headers={"accept": "text/html"})
    assert response.status_code == 404 and "no patient with this key" in response.text


def test_search_by_key(web: Web, patient_key: str) -> None:
    client = web.browser("viewer")
    assert f"/patients/{patient_key}" in client.get("/patients", params={"q": patient_key.upper()}).text
    assert f"/patients/{patient_key}\"" not in client.get("/patients", params={"q": "zzz-no-match"}).text


def test_unsaved_evaluation_stores_nothing(web: Web) -> None:
    client = web.browser("viewer")
    count = len(service.list_patients(web.store, actor="tests"))
    response = client.post("/evaluate", data=_form_data(client, "/evaluate", {**seed_case(), "id": "unsaved"}))
    assert response.status_code == 200 and "Evaluation of an unsaved case" in response.text and "ISM" in response.text
    assert len(service.list_patients(web.store, actor="tests")) == count


# ------------------------------------------------------------------ administration and account


def test_admin_creates_changes_and_deactivates_users(web: Web) -> None:
    admin_client = web.browser("admin")
    token = csrf_from(admin_client.get("/admin/users").text)
    assert admin_client.post("/admin/users", data={"csrf_token": token, "username": "nadia", "password": "north anvil 93 pear", "role": "viewer"}).status_code == 303
    short = admin_client.post("/admin/users", data={"csrf_token": token, "username": "nadia2", "password": "north anvil 93", "role": "viewer"})
    assert short.status_code == 422 and "15-1024 characters" in short.text
    assert admin_client.post("/admin/users/nadia", data={"csrf_token": token, "role": "clinician"}).status_code == 303
    assert admin_client.post("/admin/users/nadia", data={"csrf_token": token, "active": "false"}).status_code == 303
    users = {u["username"]: u for u in web.api("admin").get("/api/v1/users").json()}
    assert users["nadia"]["role"] == "clinician" and users["nadia"]["active"] is False
    own = admin_client.post(f"/admin/users/{USERS['admin']}", data={"csrf_token": token, "active": "false"})
    assert own.status_code == 422 and "cannot deactivate your own account" in own.text


def test_api_tokens_from_the_account_page(web: Web) -> None:
    client = web.browser("viewer")
    token = csrf_from(client.get("/account").text)
    created = client.post("/account/tokens", data={"csrf_token": token, "name": "page token"})
    secret = re.search(r'<code class="token" id="new-token">([^<]+)</code>', created.text).group(1)  # type: ignore[union-attr]
    assert web.app and TestClient(web.app, headers={"Authorization": f"Bearer {secret}"}).get("/api/v1/patients").status_code == 200
    assert secret not in client.get("/account").text  # shown once
    row = re.search(r'<td>page token</td>.*?/account/tokens/(\d+)/revoke', client.get("/account").text, re.S)
    token_id = row.group(1)  # type: ignore[union-attr]
    assert client.post(f"/account/tokens/{token_id}/revoke", data={"csrf_token": token}).status_code == 303
    assert TestClient(web.app, headers={"Authorization": f"Bearer {secret}"}).get("/api/v1/patients").status_code == 401
    foreign = web.browser("clinician")
    answer = foreign.post(f"/account/tokens/{token_id}/revoke", data={"csrf_token": csrf_from(foreign.get("/account").text)},
                          headers={"accept": "text/html"})
    assert answer.status_code == 404


def test_changing_the_password_logs_out_and_needs_the_current_one(web: Web, fresh_app: Any) -> None:
    with web.store.writing() as db:
        from mastcds.web import accounts

        accounts.create_user(db, "pat", PASSWORD, "viewer")
    client = TestClient(fresh_app, follow_redirects=False)
    token = csrf_from(client.get("/login").text)
    client.post("/login", data={"csrf_token": token, "username": "pat", "password": PASSWORD})
    token = csrf_from(client.get("/account").text)
    wrong = client.post("/account/password", data={"csrf_token": token, "current": "nope", "new": "north anvil 93 pear", "repeat": "north anvil 93 pear"})
    assert wrong.status_code == 422 and "wrong password" in wrong.text
    differ = client.post("/account/password", data={"csrf_token": token, "current": PASSWORD, "new": "north anvil 93 pear", "repeat": "north anvil 93 plum"})
    assert differ.status_code == 422 and "differ" in differ.text
    done = client.post("/account/password", data={"csrf_token": token, "current": PASSWORD, "new": "north anvil 93 pear", "repeat": "north anvil 93 pear"})
    assert done.headers["location"] == "/login"
    assert client.get("/account").status_code == 303  # the session ended with the change
    assert accounts.authenticate(web.store, "pat", "north anvil 93 pear") is not None


def test_logging_in_again_ends_the_previous_session(web: Web) -> None:
    client = web.browser("viewer")
    first = client.cookies.get("mastcds_session")
    token = csrf_from(client.get("/login").text)
    client.post("/login", data={"csrf_token": token, "username": USERS["clinician"], "password": PASSWORD})
    assert client.cookies.get("mastcds_session") != first
    assert TestClient(web.app, follow_redirects=False, cookies={"mastcds_session": first}).get("/patients").status_code == 303


def test_an_admin_without_clinicians_is_told_how_to_create_one(tmp_path: Any, cheap_hashing: None) -> None:
    from mastcds.store.database import Store
    from mastcds.web import accounts
    from mastcds.web.app import create_app
    from mastcds.web.cds_auth import CdsSettings
    from mastcds.web.settings import WebSettings
    from tests.web.conftest import SECRET_KEY

    store = Store(f"sqlite:///{tmp_path / 'first.db'}")
    with store.writing() as db:
        accounts.create_user(db, "root", PASSWORD, "admin")
    app = create_app(WebSettings(database_url=store.url, secret_key=SECRET_KEY), store, CdsSettings())
    client = TestClient(app, follow_redirects=True)
    token = csrf_from(client.get("/login").text)
    first = client.post("/login", data={"csrf_token": token, "username": "root", "password": PASSWORD})
    assert "Next step: create a clinician" in first.text and "--role clinician" in first.text and "15 characters" in first.text
    with store.writing() as db:
        accounts.create_user(db, "carla", PASSWORD, "clinician")
    assert "Next step: create a clinician" not in client.get("/admin/users").text
    store.close()


def test_the_treatment_response_is_as_of_the_evaluation_date_unless_asked(web: Web, patient_key: str) -> None:
    client = web.browser("viewer")
    default = client.get(f"/patients/{patient_key}").text
    assert 'name="as_of" value="2011-09"' in default and "As of 2011-09-15." in default
    asked = client.get(f"/patients/{patient_key}", params={"as_of": "2012-12-31"}).text
    assert 'value="2012-12-31"' in asked and "As of 2012-12-31" in asked and "report.pdf?as_of=2012-12-31" in asked
    for bad, message in (("2012-02-30", "day must be"), ("soon", "expected a date"), ("2001", "before the case")):
        page = client.get(f"/patients/{patient_key}", params={"as_of": bad})
        assert page.status_code == 200 and message in page.text and 'value="2011-09"' in page.text
    assert client.get(f"/patients/{patient_key}/timeline.svg", params={"as_of": "soon"}).status_code == 422


def test_the_bottom_line_comes_first_with_the_separating_test_under_it(web: Web, patient_key: str) -> None:
    from mastcds import evaluate

    result = evaluate(seed_case())
    test = result["guidelines"]["who2022"]["next_tests"][0]["test"]
    for path in (f"/patients/{patient_key}", f"/patients/{patient_key}/evaluation"):
        html = web.browser("viewer").get(path).text
        main = html[html.index("<main"):]
        first_card = main[main.index('<section class="card"'):]
        assert first_card.startswith('<section class="card" id="bottom-line">'), path
        bottom = first_card[: first_card.index("</section>")]
        assert "WHO 2022" in bottom and "Separating test" in bottom and _escaped(test) in bottom
        for edition in result["guidelines"].values():
            if edition.get("summary"):
                assert _escaped(edition["summary"]) in bottom


def test_the_action_plan_button_gives_a_pdf_audited_as_an_export(web: Web, patient_key: str) -> None:
    from mastcds.store.audit import audit_entries

    client = web.browser("viewer")
    page = client.get(f"/patients/{patient_key}").text
    assert f'action="/patients/{patient_key}/plan.pdf"' in page and "Action plan (PDF)" in page
    response = client.post(f"/patients/{patient_key}/plan.pdf", data={"csrf_token": csrf_from(page), "name": "Jane Example", "paper": "letter"})
    assert response.status_code == 200 and response.content.startswith(b"%PDF")
    assert response.headers["content-disposition"].startswith("attachment")
    exports = [e for e in audit_entries(web.store, patient_key=patient_key) if e.action == "export"]
    assert exports and "action plan" in exports[0].detail and all("Jane" not in e.detail for e in exports)
    refused = client.post(f"/patients/{patient_key}/plan.pdf", data={"csrf_token": csrf_from(page), "paper": "a3"})
    assert refused.status_code == 422
