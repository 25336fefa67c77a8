"""The CDS Hooks service as an attacker or a careless EHR calls it (issue 16 items 2-7, issue 17 §3).

Each test names what it reproduces; each failed on the code before these fixes.
"""

from __future__ import annotations

import dataclasses
import json
import re
import time
import uuid
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from hypothesis import given, settings
from hypothesis import strategies as st
from markdown_it import MarkdownIt
from sqlalchemy import func, select
from typer.testing import CliRunner

from mastcds.fhir import codes
from mastcds.rules.dosing.omalizumab import omalizumab_dose
from mastcds.store.audit import audit_entries
from mastcds.store.cds import CdsFeedback, CdsLink
from mastcds.web.app import create_app
from mastcds.web.cds_cards import markdown_text
from mastcds.web.cds_hooks import OMALIZUMAB_DOSE, PATIENT_VIEW, cds_hooks_router
from mastcds.web.cds_settings import CdsSettings, SettingsError
from mastcds.web.cds_spec import MAX_FEEDBACK_ITEMS
from tests.fhir.hostile import flood, hostile_server, json_answer, searchset, trickle
from tests.fhir.loopback import loopback_fhir
from tests.web.conftest import Web
from tests.web.test_cds_hooks import (
    SEED,
    check_response,
    dose_prefetch,
    fixture,
    omalizumab_order,
    order_select,
    patient_view,
    prefetched,
    sandbox_api,
    seed_resources,
    summaries,
    with_order,
)
from tests.web.test_cds_hooks_auth import BASE, ISSUER, KEY, public_jwk, token

VIEW = f"/cds-services/{PATIENT_VIEW}"
ACCESS_TOKEN = "the-ehrs-access-token"
SANDBOX_ORIGIN = "https://sandbox.cds-hooks.org"
INCOMPLETE = "Data incomplete: not all of the patient's FHIR data could be read - the cards may miss findings"
WORKUP_CARDS = ["REMA score 7: clonal mast cell disease likely - consider a bone marrow biopsy and KIT D816V",
                "Baseline tryptase 50.9 ng/mL > 20 without a mastocytosis work-up"]


def signed_api(web: Web, *, fhir_servers: tuple[str, ...] = (), **settings: Any) -> TestClient:
    """The router in production mode: one issuer with inline keys, allowed to name ``fhir_servers``."""
    issuer = {"keys": [public_jwk(KEY)], "fhir_servers": list(fhir_servers)}
    app = FastAPI()
    app.include_router(cds_hooks_router(web.store, CdsSettings(
        **{"issuers": {ISSUER: issuer}, "public_url": BASE, "allow_http": True, **settings})))
    return TestClient(app)


def call(api: TestClient, body: dict[str, Any], path: str = VIEW, **headers: str) -> Any:
    return api.post(path, json=body, headers={"Authorization": f"Bearer {token(path)}", **headers})


def with_fhir(body: dict[str, Any], server: str, access_token: str | None = ACCESS_TOKEN) -> dict[str, Any]:
    body = {**body, "fhirServer": server}
    if access_token is not None:
        body["fhirAuthorization"] = {"access_token": access_token, "token_type": "Bearer", "expires_in": 300,
                                     "scope": "patient/*.read", "subject": "mastcds"}
    return body


def without_kit() -> dict[str, Any]:
    return seed_resources(drop=(codes.VARIANT_ASSESSMENT.code,))


# ---------------------------------------------------------------- item 2: the audience never comes from the request
def test_signed_calls_without_a_public_url_are_refused_at_start_up() -> None:
    with pytest.raises(SettingsError, match="MASTCDS_CDS_PUBLIC_URL: required when MASTCDS_CDS_ISSUERS is set"):
        CdsSettings(issuers={ISSUER: {"keys": [public_jwk(KEY)]}})
    with pytest.raises(SettingsError, match="MASTCDS_CDS_PUBLIC_URL"):
        CdsSettings.from_env({"MASTCDS_CDS_ISSUERS": json.dumps({ISSUER: "https://ehr.example.org/jwks"})})


def test_mastcds_serve_stops_with_the_setting_named(monkeypatch: pytest.MonkeyPatch, tmp_path: Any,
                                                     cheap_hashing: None) -> None:
    import uvicorn

    from mastcds.cli import app

    started: list[Any] = []
    monkeypatch.setattr(uvicorn, "run", lambda *args, **kwargs: started.append(args))
    monkeypatch.setenv("MASTCDS_CDS_ISSUERS", json.dumps({ISSUER: "https://ehr.example.org/jwks"}))
    monkeypatch.delenv("MASTCDS_CDS_PUBLIC_URL", raising=False)
    monkeypatch.setenv("MASTCDS_SECRET_KEY", "k" * 48)
    result = CliRunner().invoke(app, ["serve", "--db", str(tmp_path / "serve.db")])
    assert result.exit_code == 2 and "MASTCDS_CDS_PUBLIC_URL" in result.output and not started


def test_a_token_for_another_service_is_refused_whatever_the_host_header(web: Web) -> None:
    api = signed_api(web, public_url="https://cds.example.org")
    other = "https://other.example.org/cds-services"
    response = api.get("/cds-services", headers={"Host": "other.example.org",
                                                 "Authorization": f"Bearer {token(aud=other)}"})
    assert response.status_code == 401 and "wrong audience: expected https://cds.example.org/cds-services" in response.text


def test_without_issuers_every_signed_call_is_refused(web: Web) -> None:
    api = TestClient(create_app(web.settings, web.store, CdsSettings()))
    response = api.get("/cds-services", headers={"Authorization": f"Bearer {token()}"})
    assert response.status_code == 401 and "no CDS client is configured" in response.json()["detail"]


def test_the_public_url_must_be_https_unless_developing() -> None:
    with pytest.raises(SettingsError, match="MASTCDS_CDS_PUBLIC_URL.*https://"):
        CdsSettings(public_url="http://cds.example.org")
    with pytest.raises(SettingsError, match="user:password@"):
        CdsSettings(public_url="https://u:p@cds.example.org")
    assert CdsSettings(public_url="http://127.0.0.1:8000/", allow_http=True).public_url == "http://127.0.0.1:8000"


# ---------------------------------------------------------------- item 3: SSRF and the access token
def test_a_fhir_server_the_issuer_may_not_name_is_refused_and_never_contacted(web: Web) -> None:
    with hostile_server({"/fhir/Patient/1288992": json_answer({"resourceType": "Patient", "id": "1288992"})}) as server:
        response = call(signed_api(web), with_fhir(patient_view(None), server.base))
    assert response.status_code == 400 and "is not a FHIR server this client may name" in response.json()["detail"]
    assert "MASTCDS_CDS_ISSUERS fhir_servers" in response.json()["detail"] and server.requests == []


def test_the_issuers_fhir_server_is_read_with_its_token(web: Web) -> None:
    found = without_kit()
    with loopback_fhir([found["patient"], *found["observations"], *found["conditions"]]) as server:
        response = call(signed_api(web, fhir_servers=(server.base,)), with_fhir(patient_view(None), server.base))
        assert summaries(check_response(response.json())) == WORKUP_CARDS
        assert {auth for _, auth in server.requests} == {f"Bearer {ACCESS_TOKEN}"}


@pytest.mark.parametrize(("spelling", "message"), [
    ("http://user:pw@{host}/fhir", "user:password@"),
    ("https://{host}/fhir", "is not a FHIR server this client may name"),  # listed as http://: another origin
    ("http://{host}/fhir/../admin", "is not a FHIR server this client may name"),
])
def test_other_spellings_of_a_fhir_server_are_refused(web: Web, spelling: str, message: str) -> None:
    with hostile_server() as server:
        named = spelling.format(host=server.origin.removeprefix("http://"))
        response = call(signed_api(web, fhir_servers=(server.base,)), with_fhir(patient_view(None), named))
    assert response.status_code == 400 and message in response.json()["detail"] and server.requests == []


def test_plain_http_fhir_servers_need_the_development_flag() -> None:
    with pytest.raises(SettingsError, match=r"fhir_servers: 'http://ehr.example.org/fhir' is not an https:// URL"):
        CdsSettings(issuers={ISSUER: {"keys": [public_jwk(KEY)], "fhir_servers": ["http://ehr.example.org/fhir"]}},
                    public_url="https://cds.example.org")


@pytest.mark.parametrize("patient_id", ["../../secret?x=1#", "a/b", "", "x" * 65, "é", 7])
def test_a_patient_id_that_is_not_a_fhir_id_is_refused_before_any_read(web: Web, patient_id: Any) -> None:
    with hostile_server() as server:
        body = with_fhir(patient_view(None), server.base)
        body["context"]["patientId"] = patient_id
        response = call(signed_api(web, fhir_servers=(server.base,)), body)
    assert response.status_code == 400 and "FHIR id" in response.json()["detail"] and server.requests == []


def test_a_next_link_to_another_server_gets_no_token_and_the_card_says_data_are_incomplete(web: Web) -> None:
    found = without_kit()
    with hostile_server() as elsewhere, hostile_server() as server:
        server.routes["/fhir/Patient/" + SEED["id"]] = json_answer(found["patient"])
        server.routes["/fhir/Condition"] = json_answer(searchset(found["conditions"]))
        server.routes["/fhir/Observation"] = json_answer(searchset(found["observations"][:1],
                                                                   f"{elsewhere.base}/Observation?page=2"))
        response = call(signed_api(web, fhir_servers=(server.base,)), with_fhir(patient_view(None), server.base))
    cards = check_response(response.json())
    assert elsewhere.requests == [] and summaries(cards)[0] == INCOMPLETE
    assert "observations: the next page is not on the FHIR server, not read" in cards[0]["detail"].replace("\\", "")


def test_fhir_authorization_without_fhir_server_is_a_400(web: Web) -> None:
    body = with_fhir(patient_view(prefetched(seed_resources())), "x")
    del body["fhirServer"]
    response = call(signed_api(web), body)
    assert response.status_code == 400 and response.json()["detail"] == "fhirAuthorization was sent without fhirServer"


def test_sandbox_calls_read_only_the_sandbox_fhir_servers(web: Web) -> None:
    with hostile_server() as server:
        response = sandbox_api(web.store).post(VIEW, json=with_fhir(patient_view(None), server.base, None))
    assert response.status_code == 400 and "MASTCDS_CDS_SANDBOX_FHIR_SERVERS" in response.json()["detail"]
    assert server.requests == []


# ---------------------------------------------------------------- item 4 and issue 17 §3: bounded reads, paging
def test_a_trickling_fhir_server_does_not_hold_the_call_past_the_budget(web: Web) -> None:
    found = without_kit()
    with hostile_server({"/fhir/Observation": trickle(30)}) as server:
        api = signed_api(web, fhir_servers=(server.base,), fhir_timeout_seconds=1)
        body = with_fhir(patient_view({"patient": found["patient"], "conditions": prefetched(found)["conditions"]}),
                         server.base)
        started = time.monotonic()
        response = call(api, body)
        elapsed = time.monotonic() - started
    assert elapsed < 6  # the server trickles for 30 s
    cards = check_response(response.json())
    assert summaries(cards)[0] == INCOMPLETE and "within 1 s" in cards[0]["detail"]


def test_a_huge_bundle_is_cut_off_at_the_byte_limit(web: Web) -> None:
    found = without_kit()
    with hostile_server({"/fhir/Observation": flood(5_000_000, declare_length=False)}) as server:
        api = signed_api(web, fhir_servers=(server.base,), fhir_max_response_bytes=200_000)
        body = with_fhir(patient_view({"patient": found["patient"], "conditions": prefetched(found)["conditions"]}),
                         server.base)
        cards = check_response(call(api, body).json())
    assert summaries(cards)[0] == INCOMPLETE and "200,000 bytes per response" in cards[0]["detail"].replace("\\", "")


def test_every_page_is_followed_so_the_newest_tryptase_is_not_missed(web: Web) -> None:
    # issue 17: at most 20 pages were followed and the rest dropped silently; with 30 pages of one Observation the
    # tryptase on the last page was missed and no card shown
    found = seed_resources(drop=(codes.VARIANT_ASSESSMENT.code, codes.LAB_TESTS["tryptase"].code))
    fillers = [{"resourceType": "Observation", "id": f"bp{n}", "status": "final", "code": {"coding": [
        codes.SYSTOLIC_BP.coding()]}, "subject": {"reference": f"Patient/{SEED['id']}"},
        "valueQuantity": {"value": 120, "system": codes.UCUM, "code": "mm[Hg]"}, "effectiveDateTime": "2001-01-01"}
        for n in range(30)]
    tryptase = {"resourceType": "Observation", "id": "tryptase", "status": "final",
                "code": {"coding": [codes.LAB_TESTS["tryptase"].coding()]},
                "subject": {"reference": f"Patient/{SEED['id']}"}, "effectiveDateTime": "2024-01-01",
                "valueQuantity": {"value": 50.9, "system": codes.UCUM, "code": "ug/L"}}
    with loopback_fhir([found["patient"], *found["conditions"], *found["observations"], *fillers, tryptase]) as server:
        server.page_size = 1
        api = signed_api(web, fhir_servers=(server.base,))
        cards = check_response(call(api, with_fhir(patient_view(None), server.base)).json())
        assert summaries(cards) == WORKUP_CARDS  # no "data incomplete": every page was read
        few = signed_api(web, fhir_servers=(server.base,), fhir_max_pages=10)
        cards = check_response(call(few, with_fhir(patient_view(None), server.base)).json())
    assert summaries(cards)[0] == INCOMPLETE and "more than 10 pages" in cards[0]["detail"]


def test_a_prefetched_bundle_with_more_pages_and_no_fhir_server_is_incomplete(web: Web) -> None:
    data = prefetched(without_kit())
    data["observations"]["link"] = [{"relation": "next", "url": "https://ehr.example.org/fhir/Observation?page=2"}]
    cards = check_response(sandbox_api(web.store).post(VIEW, json=patient_view(data)).json())
    assert summaries(cards) == [INCOMPLETE, *WORKUP_CARDS]


# ---------------------------------------------------------------- item 5: card links
@pytest.fixture
def sandbox_web(web: Web) -> Web:
    """The whole application (login pages, audit), its CDS Hooks service in sandbox mode."""
    return dataclasses.replace(web, app=create_app(web.settings, web.store, CdsSettings(sandbox=True)))


def card_link(site: Web) -> str:
    cards = TestClient(site.app).post(VIEW, json=patient_view(prefetched(without_kit()))).json()["cards"]
    return cards[0]["links"][0]["url"].removeprefix("http://testserver")


def test_a_card_link_asks_for_a_login_first(sandbox_web: Web) -> None:
    # issue 16: the link showed the patient's evaluation to anyone who had it, and was not audited
    link = card_link(sandbox_web)
    response = sandbox_web.browser(None).get(link)
    assert response.status_code == 303 and response.headers["location"].startswith("/login?next=%2Fcds-evaluations%2F")


def test_a_logged_in_reader_sees_the_evaluation_and_the_read_is_audited(sandbox_web: Web) -> None:
    link = card_link(sandbox_web)
    page = sandbox_web.browser("viewer").get(link)
    assert page.status_code == 200 and "Evaluation behind a CDS Hooks card" in page.text and "REMA" in page.text
    [entry] = [e for e in audit_entries(sandbox_web.store, actor="victor", limit=20) if "card link" in e.detail]
    assert entry.action == "read" and f"EHR Patient/{SEED['id']}" in entry.detail
    assert "EHR user Practitioner/example" in entry.detail


def test_an_administrator_cannot_open_a_card_link(sandbox_web: Web) -> None:
    assert sandbox_web.browser("admin").get(card_link(sandbox_web)).status_code == 403


def test_an_expired_or_made_up_link_is_a_404(web: Web) -> None:
    site = dataclasses.replace(web, app=create_app(web.settings, web.store, CdsSettings(sandbox=True, link_ttl_seconds=0)))
    browser = site.browser("clinician")
    assert browser.get(card_link(site)).status_code == 404
    assert browser.get("/cds-evaluations/" + "A" * 43).status_code == 404
    assert browser.get("/cds-evaluations/not-a-token").status_code == 404


def test_the_database_holds_no_working_link(sandbox_web: Web) -> None:
    key, secret = card_link(sandbox_web).rsplit("/", 1)[1].split(".")
    with sandbox_web.store.reading() as session:
        [row] = session.scalars(select(CdsLink).where(CdsLink.key == key))
    assert secret not in (row.secret_digest, row.case_document) and len(row.secret_digest) == 64


# ---------------------------------------------------------------- item 7: Markdown, jti, feedback
_RENDERER = MarkdownIt("commonmark").enable(["table", "strikethrough"])
_PLAIN_INLINE = {"text", "softbreak"}


def rendered_plainly(markdown: str) -> bool:
    """Whether ``markdown`` renders as plain text only: no link, image, emphasis, code, HTML or heading."""
    allowed = {"paragraph_open", "paragraph_close", "bullet_list_open", "bullet_list_close", "list_item_open",
               "list_item_close", "inline"}
    for block in _RENDERER.parse(markdown):
        if block.type not in allowed:
            return False
        if block.type == "inline" and any(child.type not in _PLAIN_INLINE for child in block.children or []):
            return False
    return True


def test_a_phishing_link_in_a_unit_shows_as_text() -> None:
    # issue 16: Markdown from FHIR text went into the card detail unescaped
    found = seed_resources()
    found["observations"].append({
        "resourceType": "Observation", "id": "hb", "status": "final", "subject": {"reference": f"Patient/{SEED['id']}"},
        "code": {"coding": [codes.LAB_TESTS["hemoglobin"].coding()]},
        "valueQuantity": {"value": 7, "system": codes.UCUM, "code": "[Renew your password](https://evil.example/x)"}})
    from mastcds.web.cds_cards import patient_view_cards  # the card alone: its detail is what the EHR renders
    from mastcds.web.cds_hooks import _case

    resources = [found["patient"], *found["observations"], *found["conditions"]]
    document, case, imported = _case(resources, SEED["id"])
    [card] = patient_view_cards(document, {"rema": {}, "tryptase": {}}, imported, None)
    assert "[Renew your password](https://evil.example/x)" in card["detail"].replace("\\", "")
    assert rendered_plainly(card["detail"])


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=st.characters(codec="utf-8"), max_size=80))
def test_escaped_text_renders_as_exactly_that_text_and_nothing_else(text: str) -> None:
    markdown = "* " + markdown_text(text)
    assert rendered_plainly(markdown)
    inline = [block for block in _RENDERER.parse(markdown) if block.type == "inline"]
    shown = "".join(child.content for block in inline for child in block.children or [])
    # the same words (control characters and line breaks become spaces; Markdown may trim or fold whitespace)
    assert shown.split() == re.sub(r"[\x00-\x1f\x7f\u0085\u2028\u2029]", " ", text).split()


def test_an_overlong_jti_is_refused(web: Web) -> None:
    api = signed_api(web)
    response = api.get("/cds-services", headers={"Authorization": f"Bearer {token(jti='j' * 257)}"})
    assert response.status_code == 401 and "jti must have 1-256 characters" in response.json()["detail"]
    assert api.get("/cds-services", headers={"Authorization": f"Bearer {token(jti='j' * 256)}"}).status_code == 200


def test_an_overlong_bearer_token_is_refused_unparsed(web: Web) -> None:
    response = signed_api(web).get("/cds-services", headers={"Authorization": "Bearer " + "a" * 9000})
    assert response.status_code == 401 and "longer than 8192 characters" in response.json()["detail"]


def test_feedback_is_bounded_in_count_and_size(web: Web) -> None:
    api = sandbox_api(web.store)
    item = fixture("feedback-overridden.json")["feedback"][0]
    many = {"feedback": [item] * (MAX_FEEDBACK_ITEMS + 1)}
    assert api.post(f"{VIEW}/feedback", json=many).status_code == 422
    assert api.post(f"{VIEW}/feedback", json={"feedback": [item] * MAX_FEEDBACK_ITEMS}).status_code == 200
    comment = {"feedback": [{**item, "overrideReason": {**item["overrideReason"], "userComment": "c" * 1001}}]}
    assert api.post(f"{VIEW}/feedback", json=comment).status_code == 422
    big = json.dumps({"feedback": [item], "padding": "x" * 70_000})
    response = api.post(f"{VIEW}/feedback", content=big, headers={"Content-Type": "application/json"})
    assert response.status_code == 413


# ---------------------------------------------------------------- issue 17 §3: CORS and jku
def cors_app(web: Web, **settings: Any) -> TestClient:
    return TestClient(create_app(web.settings, web.store, CdsSettings(**settings)))


def preflight(api: TestClient, path: str, origin: str = SANDBOX_ORIGIN) -> Any:
    return api.options(path, headers={"Origin": origin, "Access-Control-Request-Method": "POST",
                                      "Access-Control-Request-Headers": "authorization,content-type"})


def test_the_sandbox_preflight_is_answered_for_the_cds_routes_only(web: Web) -> None:
    # issue 17: OPTIONS answered 405 and no Access-Control-Allow-Origin was sent
    api = cors_app(web, sandbox=True, cors_origins=(SANDBOX_ORIGIN,))
    answer = preflight(api, VIEW)
    assert answer.status_code == 200 and answer.headers["access-control-allow-origin"] == SANDBOX_ORIGIN
    assert {"authorization", "content-type"} <= set(answer.headers["access-control-allow-headers"].lower().split(", "))
    assert "POST" in answer.headers["access-control-allow-methods"]
    response = api.post(VIEW, json=patient_view(prefetched(without_kit())), headers={"Origin": SANDBOX_ORIGIN})
    assert response.status_code == 200 and response.headers["access-control-allow-origin"] == SANDBOX_ORIGIN
    for elsewhere in ("/api/v1/patients", "/login", "/cds-evaluations/x"):
        assert "access-control-allow-origin" not in preflight(api, elsewhere).headers
    assert "access-control-allow-origin" not in preflight(api, VIEW, "https://evil.example.org").headers


def test_cors_headers_come_with_errors_too(web: Web) -> None:
    api = cors_app(web, issuers={ISSUER: {"keys": [public_jwk(KEY)]}}, public_url=BASE, allow_http=True,
                   cors_origins=(SANDBOX_ORIGIN,))
    response = api.get("/cds-services", headers={"Origin": SANDBOX_ORIGIN})
    assert response.status_code == 401 and response.headers["access-control-allow-origin"] == SANDBOX_ORIGIN


def test_any_origin_only_in_sandbox_mode(web: Web) -> None:
    with pytest.raises(SettingsError, match="MASTCDS_CDS_CORS_ORIGINS: '\\*' .* only with MASTCDS_CDS_SANDBOX=1"):
        CdsSettings(cors_origins=("*",))
    assert preflight(cors_app(web, sandbox=True, cors_origins=("*",)), VIEW).headers["access-control-allow-origin"] == "*"
    with pytest.raises(SettingsError, match="not an origin"):
        CdsSettings(cors_origins=("https://sandbox.cds-hooks.org/path",))


def test_a_jku_token_is_accepted_with_inline_keys_as_the_cache_of_its_configured_url(web: Web) -> None:
    # issue 17: a sandbox-style token carrying a jku was refused when the issuer's keys were configured inline
    with hostile_server({"/jwks": json_answer({"keys": [public_jwk(KEY)]})}) as jwks:
        url = jwks.origin + "/jwks"
        api = signed_api(web, issuers={ISSUER: {"keys": [public_jwk(KEY)], "jwks_urls": [url]}})
        assert api.get("/cds-services", headers={"Authorization": f"Bearer {token(headers={'jku': url})}"}).status_code == 200
        assert jwks.requests == []  # the inline key answered
        rotated = token(kid="k-new", headers={"jku": url})
        jwks.routes["/jwks"] = json_answer({"keys": [public_jwk(KEY, "k-new")]})
        assert api.get("/cds-services", headers={"Authorization": f"Bearer {rotated}"}).status_code == 200
        assert [path for path, _ in jwks.requests] == ["/jwks"]  # a kid not inline: fetched from the configured URL


def test_keys_are_never_fetched_from_a_jku_that_is_not_configured(web: Web) -> None:
    with hostile_server({"/jwks": json_answer({"keys": [public_jwk(KEY, "k-new")]})}) as attacker:
        api = signed_api(web, issuers={ISSUER: {"keys": [public_jwk(KEY)], "jwks_urls": ["https://ehr.example.org/jwks"]}})
        forged = token(kid="k-new", headers={"jku": attacker.origin + "/jwks"})
        response = api.get("/cds-services", headers={"Authorization": f"Bearer {forged}"})
    assert response.status_code == 401 and "is not a JWK Set URL configured for issuer" in response.json()["detail"]
    assert attacker.requests == []


def test_issuer_settings_name_their_fields() -> None:
    with pytest.raises(SettingsError, match=r"unknown field\(s\) jku; accepted: jwks_urls, keys, fhir_servers"):
        CdsSettings(issuers={ISSUER: {"keys": [public_jwk(KEY)], "jku": "https://x"}}, public_url="https://c.example")
    with pytest.raises(SettingsError, match="give its keys"):
        CdsSettings(issuers={ISSUER: {"fhir_servers": ["https://ehr.example.org/fhir"]}}, public_url="https://c.example")


# ---------------------------------------------------------------- issue 17 §3: no one-click dose outside the label table
@settings(max_examples=60, deadline=None)
@given(ige=st.sampled_from([5, 29.9, 30, 700, 1500, 1500.1, 2500]), weight=st.sampled_from([15, 19.9, 20, 70, 150, 150.1]))
def test_a_suggestion_only_ever_sets_the_label_tables_dose(web: Web, ige: float, weight: float) -> None:
    body = order_select(with_order(omalizumab_order()), dose_prefetch(ige, weight))
    [card] = check_response(sandbox_api(web.store).post(f"/cds-services/{OMALIZUMAB_DOSE}", json=body).json())
    label = omalizumab_dose(ige, weight)
    if not label.within_table or label.dose_mg is None:
        assert "suggestions" not in card and "selectionBehavior" not in card
        assert card["indicator"] == "info" or label.within_table
    else:
        [suggestion] = card["suggestions"]
        [action] = suggestion["actions"]
        dose = action["resource"]["dosageInstruction"][0]
        assert dose["doseAndRate"][0]["doseQuantity"]["value"] == label.dose_mg
        assert dose["timing"]["repeat"]["period"] == label.interval_weeks and suggestion["isRecommended"] is True


def test_feedback_names_the_calling_issuer(web: Web) -> None:
    api = signed_api(web)
    path = f"{VIEW}/feedback"
    card = str(uuid.uuid4())
    body = {"feedback": [{**fixture("feedback-overridden.json")["feedback"][0], "card": card}]}
    assert api.post(path, json=body, headers={"Authorization": f"Bearer {token(path)}"}).status_code == 200
    with web.store.reading() as session:
        [stored] = session.scalars(select(CdsFeedback).where(CdsFeedback.card == card))
    assert stored.issuer == ISSUER


def test_the_public_sandbox_as_it_calls_from_a_browser(web: Web) -> None:
    """issue 17 "done when": the sandbox's preflight, then its call: an ES256 JWT whose jku is the sandbox's JWKS URL,
    trusted through that URL's keys configured inline (so nothing is fetched here)."""
    from cryptography.hazmat.primitives.asymmetric import ec

    sandbox_key = ec.generate_private_key(ec.SECP256R1())
    kid, iss = "d9cd3c4f-eb08-4304-b973-44f352fd2ca2", "https://sandbox.cds-hooks.org"
    jwks_url = "https://sandbox.cds-hooks.org/.well-known/jwks.json"
    api = TestClient(create_app(web.settings, web.store, CdsSettings(
        issuers={iss: {"jwks_urls": [jwks_url], "keys": [public_jwk(sandbox_key, kid, "ES256")]}},
        public_url="https://cds.example.org", cors_origins=(SANDBOX_ORIGIN,))), base_url="https://cds.example.org")
    assert preflight(api, VIEW).headers["access-control-allow-origin"] == SANDBOX_ORIGIN
    signed = token(VIEW, key=sandbox_key, alg="ES256", kid=kid, iss=iss, aud="https://cds.example.org" + VIEW,
                   headers={"jku": jwks_url})
    response = api.post(VIEW, json=patient_view(prefetched(without_kit())),
                        headers={"Origin": SANDBOX_ORIGIN, "Accept": "application/json", "Authorization": f"Bearer {signed}"})
    assert response.status_code == 200 and response.headers["access-control-allow-origin"] == SANDBOX_ORIGIN
    assert summaries(check_response(response.json())) == WORKUP_CARDS


def test_a_replayed_service_call_is_refused_and_stores_no_link(web: Web) -> None:
    api = signed_api(web)
    once = token(VIEW)
    body = patient_view(prefetched(without_kit()))
    first = api.post(VIEW, json=body, headers={"Authorization": f"Bearer {once}"})
    assert first.status_code == 200
    with web.store.reading() as session:
        links = session.scalar(select(func.count()).select_from(CdsLink))
    again = api.post(VIEW, json=body, headers={"Authorization": f"Bearer {once}"})
    assert again.status_code == 401 and "replayed" in again.json()["detail"]
    with web.store.reading() as session:
        assert session.scalar(select(func.count()).select_from(CdsLink)) == links
