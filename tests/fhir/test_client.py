"""The FHIR client of the CDS Hooks service, alone: only allowed bases, the token nowhere else, reads within a budget.

Every server here is a real HTTP server on loopback (tests/fhir/hostile.py)
that answers as a careless or hostile FHIR server would (issue 16 items 3-4).
"""

from __future__ import annotations

import asyncio
import gzip
import time
from typing import Any

import httpx
import pytest

from mastcds.fhir import client as fhir_client
from mastcds.fhir.client import Budget, FhirClient, FhirServerRefused, FhirUnavailable
from tests.fhir.hostile import flood, hostile_server, json_answer, searchset, send_json, trickle

TOKEN = "the-ehrs-access-token"
ROOMY = Budget(seconds=10, response_bytes=1_000_000, call_bytes=4_000_000, pages=50)
PATIENT = {"resourceType": "Patient", "id": "p1"}


def read(base: str, searches: dict[str, str], budget: Budget = ROOMY,
         documents: dict[str, Any] | None = None) -> tuple[dict[str, list[Any]], FhirClient]:
    async def run() -> tuple[dict[str, list[Any]], FhirClient]:
        async with fhir_client.http_client(budget.seconds) as http:
            client = FhirClient(http, base, TOKEN, budget)
            return await client.read(searches, documents or {}), client
    return asyncio.run(run())


def observation(n: int) -> dict[str, Any]:
    return {"resourceType": "Observation", "id": f"o{n}"}


# ---------------------------------------------------------------- which bases may be read
@pytest.mark.parametrize(("url", "expected"), [
    ("https://ehr.example.org/fhir", "https://ehr.example.org/fhir"),
    ("https://ehr.example.org/fhir/", "https://ehr.example.org/fhir"),
    ("https://EHR.example.org:443/fhir", "https://ehr.example.org/fhir"),
])
def test_an_allowed_base_is_accepted_in_any_spelling(url: str, expected: str) -> None:
    assert fhir_client.allowed_base(url, ["https://ehr.example.org/fhir"], allow_http=False) == expected


@pytest.mark.parametrize(("url", "message"), [
    ("https://evil.example.org/fhir", "is not a FHIR server this client may name"),
    ("https://ehr.example.org/fhir/admin", "is not a FHIR server this client may name"),
    ("https://ehr.example.org:8443/fhir", "is not a FHIR server this client may name"),
    ("http://ehr.example.org/fhir", "only https://"),
    ("https://user:pw@ehr.example.org/fhir", "user:password@"),
    ("https://ehr.example.org/fhir?x=1", "no query or fragment"),
    ("file:///etc/passwd", "only https://"),
    ("not a url at all", "only https://"),
])
def test_other_bases_are_refused(url: str, message: str) -> None:
    with pytest.raises(FhirServerRefused, match=message):
        fhir_client.allowed_base(url, ["https://ehr.example.org/fhir"], allow_http=False)


def test_plain_http_only_with_the_development_flag() -> None:
    assert fhir_client.allowed_base("http://127.0.0.1:8080/fhir", ["http://127.0.0.1:8080/fhir"], allow_http=True)
    with pytest.raises(FhirServerRefused):
        fhir_client.allowed_base("http://127.0.0.1:8080/fhir", ["http://127.0.0.1:8080/fhir"], allow_http=False)


def test_a_patient_id_cannot_leave_its_path() -> None:
    path = fhir_client.search_path("Patient/{{context.patientId}}", "../../secret?x=1#")
    assert path == "Patient/..%2F..%2Fsecret%3Fx%3D1%23"
    url = httpx.URL("https://ehr.example.org/fhir/").join(path)
    assert url.path.startswith("/fhir/Patient/") and not url.query and not url.fragment


# ---------------------------------------------------------------- the token goes to the base and nowhere else
def test_searches_carry_the_token_and_follow_next_links_on_the_base() -> None:
    with hostile_server() as server:
        server.routes["/fhir/Observation"] = lambda r: send_json(r, searchset(
            [observation(1)], None if "page=2" in r.path else f"{server.base}/Observation?page=2"))
        server.routes["/fhir/Patient/p1"] = json_answer(PATIENT)
        pages, client = read(server.base, {"patient": "Patient/p1", "observations": "Observation?patient=p1"})
    assert [p["resourceType"] for p in pages["patient"]] == ["Patient"] and len(pages["observations"]) == 2
    assert {auth for _, auth in server.requests} == {f"Bearer {TOKEN}"} and client.incomplete == []


@pytest.mark.parametrize("where", ["another port", "another path", "user:pw@", "another scheme"])
def test_a_next_link_off_the_base_is_not_followed_and_gets_no_token(where: str) -> None:
    with hostile_server() as elsewhere, hostile_server() as server:
        away = {"another port": f"{elsewhere.base}/Observation?page=2",
                "another path": f"{server.origin}/admin/Observation?page=2",
                "user:pw@": server.base.replace("http://", "http://user:pw@") + "/Observation?page=2",
                "another scheme": server.base.replace("http://", "https://") + "/Observation?page=2"}[where]
        server.routes["/fhir/Observation"] = json_answer(searchset([observation(1)], away))
        server.routes["/admin/Observation"] = json_answer(searchset([observation(2)]))
        pages, client = read(server.base, {"observations": "Observation?patient=p1"})
    assert len(pages["observations"]) == 1 and elsewhere.requests == []
    assert [path for path, _ in server.requests] == ["/fhir/Observation?patient=p1"]
    assert client.incomplete == ["observations: the next page is not on the FHIR server, not read"]


def test_a_relative_next_link_is_read_on_the_base() -> None:
    with hostile_server() as server:
        server.routes["/fhir/Observation"] = lambda r: send_json(r, searchset(
            [observation(1)], None if "page=2" in r.path else "Observation?page=2"))
        pages, _ = read(server.base, {"observations": "Observation?patient=p1"})
    assert len(pages["observations"]) == 2


def test_a_redirect_is_not_followed_so_the_token_stays() -> None:
    with hostile_server() as elsewhere, hostile_server() as server:
        server.routes["/fhir/Patient/p1"] = json_answer({}, status=302, headers={"Location": f"{elsewhere.base}/Patient/p1"})
        with pytest.raises(FhirUnavailable, match="HTTP 302"):
            read(server.base, {"patient": "Patient/p1"})
    assert elsewhere.requests == []


def test_prefetched_bundles_are_paged_on_the_base_only() -> None:
    with hostile_server() as elsewhere, hostile_server() as server:
        server.routes["/fhir/Observation"] = json_answer(searchset([observation(2)]))
        documents = {"on": searchset([observation(1)], f"{server.base}/Observation?page=2"),
                     "off": searchset([observation(3)], f"{elsewhere.base}/Observation?page=2")}
        pages, client = read(server.base, {}, documents=documents)
    assert [len(pages[k]) for k in ("on", "off")] == [2, 1] and elsewhere.requests == []
    assert client.incomplete == ["off: the next page is not on the FHIR server, not read"]


# ---------------------------------------------------------------- the budget
def test_a_trickling_server_does_not_hold_the_call_past_its_time() -> None:
    # issue 16: one byte a second held a call for 61 s although the timeout was 5 s (each byte reset the read timeout)
    with hostile_server({"/fhir/Patient/p1": trickle(30), "/fhir/Condition": json_answer(searchset([]))}) as server:
        started = time.monotonic()
        pages, client = read(server.base, {"patient": "Patient/p1", "conditions": "Condition?patient=p1"},
                             Budget(seconds=1.0, response_bytes=1_000_000, call_bytes=1_000_000, pages=10))
        elapsed = time.monotonic() - started
    assert elapsed < 5  # the server would trickle for 30 s
    assert pages["patient"] == [] and len(pages["conditions"]) == 1  # what arrived in time is kept
    assert client.incomplete == ["the FHIR server did not answer everything within 1 s"]


@pytest.mark.parametrize("declare_length", [True, False])
def test_a_response_over_the_byte_limit_is_cut_off(declare_length: bool) -> None:
    with hostile_server({"/fhir/Observation": flood(3_000_000, declare_length=declare_length)}) as server:
        pages, client = read(server.base, {"observations": "Observation?patient=p1"},
                             Budget(seconds=10, response_bytes=100_000, call_bytes=1_000_000, pages=10))
    assert pages["observations"] == []
    limit = "a response of 3,000,000 bytes is over the limit of 100,000 per response" if declare_length \
        else "over the limit of 100,000 bytes per response"
    assert client.incomplete == [f"observations: {limit}"]


def test_a_gzip_bomb_stops_at_the_limit() -> None:
    bomb = gzip.compress(b'{"resourceType": "Bundle", "id": "' + b"0" * 20_000_000 + b'"}')  # 20 MB in ~20 kB

    def answer(request: Any) -> None:
        request.send_response(200)
        request.send_header("Content-Encoding", "gzip")
        request.send_header("Content-Length", str(len(bomb)))
        request.end_headers()
        request.wfile.write(bomb)

    with hostile_server({"/fhir/Observation": answer}) as server:
        pages, client = read(server.base, {"observations": "Observation"},
                             Budget(seconds=10, response_bytes=1_000_000, call_bytes=4_000_000, pages=10))
    assert pages["observations"] == [] and client.incomplete == ["observations: over the limit of 1,000,000 bytes per response"]


def test_gzip_within_the_limit_is_read() -> None:
    with hostile_server({"/fhir/Patient/p1": json_answer(PATIENT, compress=True)}) as server:
        pages, _ = read(server.base, {"patient": "Patient/p1"})
    assert pages["patient"] == [PATIENT]


def test_the_bytes_of_all_pages_together_are_bounded() -> None:
    with hostile_server() as server:
        def page(request: Any) -> None:
            n = int(request.path.rsplit("=", 1)[-1]) if "page=" in request.path else 0
            send_json(request, {**searchset([observation(n)], f"{server.base}/Observation?page={n + 1}"), "id": "x" * 40_000})
        server.routes["/fhir/Observation"] = page
        pages, client = read(server.base, {"observations": "Observation"},
                             Budget(seconds=10, response_bytes=100_000, call_bytes=200_000, pages=100))
    assert len(pages["observations"]) == 4  # 4 x 40 kB fit in 200 kB, the fifth does not
    assert client.incomplete == ["observations: over the limit of 200,000 bytes per call"]


def test_pages_are_followed_up_to_the_page_budget_and_the_rest_is_reported() -> None:
    with hostile_server() as server:
        def endless(request: Any) -> None:
            n = int(request.path.rsplit("=", 1)[-1]) if "page=" in request.path else 0
            send_json(request, searchset([observation(n)], f"{server.base}/Observation?page={n + 1}"))
        server.routes["/fhir/Observation"] = endless
        pages, client = read(server.base, {"observations": "Observation"},
                             Budget(seconds=10, response_bytes=100_000, call_bytes=1_000_000, pages=30))
    assert len(pages["observations"]) == 30 and client.incomplete == ["observations: more than 30 pages"]


# ---------------------------------------------------------------- failures
@pytest.mark.parametrize(("handler", "message"), [
    (json_answer({}, status=500), "HTTP 500"),
    (json_answer({}, status=401), "HTTP 401"),
    (lambda r: (r.send_response(200), r.send_header("Content-Length", "5"), r.end_headers(), r.wfile.write(b"<html")),
     "not JSON"),
    (json_answer({}, headers={"Content-Encoding": "br"}), "content-encoding 'br'"),
])
def test_a_failing_server_is_unavailable(handler: Any, message: str) -> None:
    with hostile_server({"/fhir/Patient/p1": handler}) as server, pytest.raises(FhirUnavailable, match=message):
        read(server.base, {"patient": "Patient/p1"})


def test_a_missing_resource_is_no_page() -> None:
    with hostile_server() as server:
        pages, client = read(server.base, {"patient": "Patient/p1"})
    assert pages == {"patient": []} and client.incomplete == []


def test_an_unreachable_server_is_unavailable() -> None:
    with hostile_server() as server:
        base = server.base
    with pytest.raises(FhirUnavailable, match="ConnectError"):
        read(base, {"patient": "Patient/p1"})


def test_the_client_refuses_to_send_the_token_off_its_base() -> None:
    async def run() -> None:
        async with fhir_client.http_client(1) as http:
            client = FhirClient(http, "https://ehr.example.org/fhir", TOKEN, ROOMY)
            assert client.resolve("https://evil.example.org/fhir/Patient/1") is None
            with pytest.raises(FhirServerRefused):
                await client.get(httpx.URL("https://evil.example.org/fhir/Patient/1"))
    asyncio.run(run())

