"""Authentication of the calling EHR by signed JWT (CDS Hooks 2.0 "Trusting CDS Clients")."""

from __future__ import annotations

import json
import time
import uuid
from typing import Any

import jwt
import pytest
from hypothesis import given
from hypothesis import strategies as st
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from fastapi import FastAPI
from fastapi.testclient import TestClient

from mastcds.store.database import Store
from mastcds.web import cds_auth
from mastcds.web.cds_hooks import cds_hooks_router
from mastcds.web.cds_settings import CdsSettings, SettingsError
from tests.fhir.loopback import loopback_fhir
from tests.web.conftest import Web

ISSUER = "https://ehr.example.org/"
BASE = "http://testserver"
KEY = ec.generate_private_key(ec.SECP384R1())
OTHER_KEY = ec.generate_private_key(ec.SECP384R1())


def public_jwk(key: Any, kid: str = "k1", alg: str = "ES384") -> dict[str, Any]:
    algorithm = jwt.algorithms.ECAlgorithm if alg.startswith("ES") else jwt.algorithms.RSAAlgorithm
    jwk = json.loads(algorithm.to_jwk(key.public_key()))
    return {**jwk, "kid": kid, "alg": alg, "use": "sig"}


def token(path: str = "/cds-services", *, key: Any = KEY, alg: str = "ES384", kid: str = "k1", iss: str = ISSUER,
          aud: str | None = None, lifetime: int = 60, iat_shift: int = 0, jti: str | None = None,
          drop: tuple[str, ...] = (), headers: dict[str, Any] | None = None) -> str:
    now = int(time.time()) + iat_shift
    claims = {"iss": iss, "aud": aud or BASE + path, "exp": now + lifetime, "iat": now,
              "jti": jti or str(uuid.uuid4()), "tenant": "hospital-1"}
    for name in drop:
        claims.pop(name)
    return jwt.encode(claims, key, algorithm=alg, headers={"kid": kid, "typ": "JWT", **(headers or {})})


def client(store: Store, **settings: Any) -> TestClient:
    """The CDS Hooks router alone; the expected audience is built from BASE (plain http: the test client's)."""
    app = FastAPI()
    app.include_router(cds_hooks_router(store, CdsSettings(**{"public_url": BASE, "allow_http": True, **settings})))
    return TestClient(app)


@pytest.fixture
def api(web: Web) -> TestClient:
    return client(web.store, issuers={ISSUER: {"keys": [public_jwk(KEY)]}})


def get(api: TestClient, bearer: str | None) -> Any:
    headers = {"Authorization": f"Bearer {bearer}"} if bearer else {}
    return api.get("/cds-services", headers=headers)


def test_valid_token_is_accepted(api: TestClient) -> None:
    assert get(api, token()).status_code == 200


def test_missing_token_is_refused_unless_sandbox(api: TestClient, web: Web) -> None:
    response = get(api, None)
    assert response.status_code == 401 and "missing bearer token" in response.json()["detail"]
    assert response.headers["WWW-Authenticate"].startswith("Bearer")
    assert get(client(web.store, sandbox=True), None).status_code == 200


def test_an_unauthenticated_call_is_refused_before_its_body_is_read(api: TestClient) -> None:
    response = api.post("/cds-services/mastcds-patient-view", content=b"{not json",
                        headers={"Content-Type": "application/json"})
    assert response.status_code == 401 and "missing bearer token" in response.json()["detail"]


def test_expired_token(api: TestClient) -> None:
    response = get(api, token(lifetime=60, iat_shift=-3600))
    assert response.status_code == 401 and response.json()["detail"] == "token expired"


def test_wrong_audience(api: TestClient) -> None:
    response = get(api, token(aud="https://other.example.org/cds-services"))
    assert response.status_code == 401 and "wrong audience" in response.json()["detail"]
    # a token for one service is not valid for another endpoint
    assert get(api, token("/cds-services/mastcds-patient-view")).status_code == 401


def test_unknown_issuer(api: TestClient) -> None:
    response = get(api, token(iss="https://evil.example.org/"))
    assert response.status_code == 401 and "not an allowed CDS client" in response.json()["detail"]


def test_bad_signature(api: TestClient) -> None:
    response = get(api, token(key=OTHER_KEY))
    assert response.status_code == 401 and response.json()["detail"] == "bad signature"


def test_replayed_jti(api: TestClient) -> None:
    once = token(jti="same-jti")
    assert get(api, once).status_code == 200
    response = get(api, once)
    assert response.status_code == 401 and "replayed" in response.json()["detail"]
    # the same jti signed again is still a replay
    assert get(api, token(jti="same-jti")).status_code == 401


def test_symmetric_and_none_algorithms_are_refused(api: TestClient) -> None:
    hs = jwt.encode({"iss": ISSUER, "aud": BASE + "/cds-services", "exp": int(time.time()) + 60,
                     "iat": int(time.time()), "jti": "x"}, "secret-of-at-least-32-bytes-length!!", algorithm="HS256",
                    headers={"kid": "k1", "typ": "JWT"})
    assert "not accepted" in get(api, hs).json()["detail"]
    none = jwt.encode({"iss": ISSUER}, None, algorithm="none", headers={"kid": "k1", "typ": "JWT"})
    assert get(api, none).status_code == 401
    with pytest.raises(SettingsError, match="HS256"):
        CdsSettings(algorithms=("HS256",))


@pytest.mark.parametrize("claim", ["iat", "jti", "exp"])
def test_required_claims(api: TestClient, claim: str) -> None:
    assert get(api, token(drop=(claim,))).status_code == 401


def test_header_rules(api: TestClient) -> None:
    assert "kid" in get(api, token(kid="")).json()["detail"]
    assert "no key" in get(api, token(kid="k2")).json()["detail"]
    assert "typ" in get(api, token(headers={"typ": "at+jwt"})).json()["detail"]
    assert "jku" in get(api, token(headers={"jku": "https://evil.example.org/jwks"})).json()["detail"]
    assert get(api, "not-a-jwt").status_code == 401


def test_too_long_lived_token(api: TestClient) -> None:
    assert "longer than" in get(api, token(lifetime=86400)).json()["detail"]


def test_rsa_rs384_and_key_algorithm_mismatch(web: Web) -> None:
    rsa_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    api = client(web.store, issuers={ISSUER: {"keys": [public_jwk(rsa_key, "r1", "RS384"), public_jwk(KEY)]}})
    assert get(api, token(key=rsa_key, alg="RS384", kid="r1")).status_code == 200
    assert get(api, token(key=rsa_key, alg="RS256", kid="r1")).status_code == 401  # key says RS384


def test_keys_from_a_configured_jwks_url_are_fetched_once_and_cached(monkeypatch: pytest.MonkeyPatch, web: Web) -> None:
    with loopback_fhir([], {"keys": [public_jwk(KEY)]}) as server:
        jwks_url = server.base.removesuffix("/fhir") + "/jwks"
        api = client(web.store, issuers={ISSUER: jwks_url})
        for _ in range(3):
            assert get(api, token(headers={"jku": jwks_url})).status_code == 200
        assert [path for path, _auth in server.requests] == ["/jwks"]
        # an unknown kid right after a fetch does not refetch (no fetch storm from forged kids)
        assert "no key" in get(api, token(kid="rotated")).json()["detail"]
        assert len(server.requests) == 1
        # later, a rotated key is picked up by one refetch
        server.jwks["keys"].append(public_jwk(OTHER_KEY, "rotated"))
        monkeypatch.setattr(cds_auth, "_REFETCH_AFTER_SECONDS", 0.0)
        assert get(api, token(key=OTHER_KEY, kid="rotated")).status_code == 200
        assert len(server.requests) == 2


def test_unreachable_jwks_is_refused_not_crashed(web: Web) -> None:
    api = client(web.store, issuers={ISSUER: "http://127.0.0.1:9/jwks"}, fhir_timeout_seconds=1)
    response = get(api, token())
    assert response.status_code == 401 and "could not be fetched" in response.json()["detail"]


def test_public_url_sets_the_expected_audience(web: Web) -> None:
    api = client(web.store, issuers={ISSUER: {"keys": [public_jwk(KEY)]}}, public_url="https://cds.example.org")
    assert get(api, token(aud="https://cds.example.org/cds-services")).status_code == 200
    assert get(api, token()).status_code == 401


def test_settings_from_environment() -> None:
    settings = CdsSettings.from_env({
        "MASTCDS_CDS_ISSUERS": json.dumps({ISSUER: "https://ehr.example.org/jwks"}),
        "MASTCDS_CDS_PUBLIC_URL": "https://cds.example.org/",
        "MASTCDS_CDS_SANDBOX": "true",
        "MASTCDS_CDS_ALGORITHMS": "ES384, RS384",
        "MASTCDS_CDS_LEEWAY_SECONDS": "10",
    })
    assert settings.issuers[ISSUER].jwks_urls == ("https://ehr.example.org/jwks",)
    assert settings.public_url == "https://cds.example.org" and settings.sandbox
    assert settings.algorithms == ("ES384", "RS384") and settings.leeway_seconds == 10
    assert CdsSettings.from_env({}) == CdsSettings()
    for bad in ({"MASTCDS_CDS_ISSUERS": "{nope"}, {"MASTCDS_CDS_ISSUERS": "[]"},
                {"MASTCDS_CDS_ISSUERS": json.dumps({ISSUER: "ftp://x"})},
                {"MASTCDS_CDS_LEEWAY_SECONDS": "soon"}, {"MASTCDS_CDS_LEEWAY_SECONDS": "-1"}):
        with pytest.raises(SettingsError):
            CdsSettings.from_env(bad)


# ---------------------------------------------------------------- the compact JWS and claims parsed by mastcds
def _signed(claims: dict[str, Any], headers: dict[str, Any] | None = None) -> str:
    return jwt.encode(claims, KEY, algorithm="ES384", headers={"kid": "k1", "typ": "JWT", **(headers or {})})


def _claims(**changes: Any) -> dict[str, Any]:
    now = int(time.time())
    claims = {"iss": ISSUER, "aud": BASE + "/cds-services", "exp": now + 60, "iat": now, "jti": str(uuid.uuid4())}
    return {**claims, **changes}


@pytest.mark.parametrize("bearer", [
    "a.b", "a.b.c.d", "!!!!.e30.AA", "eyJhbGciOiJFUzM4NCJ9.e30",
    token().replace(".", "=.", 1),  # padding: RFC 7515 §2 omits it
])
def test_malformed_compact_serialisations_are_not_jwts(api: TestClient, bearer: str) -> None:
    response = get(api, bearer)
    assert response.status_code == 401 and response.json()["detail"] in ("the bearer token is not a JWT", "bad signature")


def test_a_payload_that_is_not_a_json_object_is_not_a_jwt(api: TestClient) -> None:
    good = token().split(".")
    array = jwt.utils.base64url_encode(b"[1, 2]").decode()
    assert get(api, f"{good[0]}.{array}.{good[2]}").json()["detail"] == "the bearer token is not a JWT"


def test_segments_are_decoded_only_in_their_canonical_spelling() -> None:
    assert cds_auth._segment("QQ") == b"A"
    assert cds_auth._segment("QUI") == b"AB"
    assert cds_auth._segment("") == b""
    assert cds_auth._segment("-_-_") == b"\xfb\xff\xbf"  # the url alphabet's two characters
    for text in ("QR", "QUJ", "QQ==", "QQ=", "Q", "Q+", "Q/", "+/+/",  # stray bits, padding, length, base64's alphabet
                 "Q Q", "QQ\n", "Q!", "Qé", "QQ.A"):  # outside the alphabet, non-ASCII
        with pytest.raises(ValueError):
            cds_auth._segment(text)


@given(st.binary(max_size=300))
def test_every_byte_string_comes_back_from_its_base64url_spelling(data: bytes) -> None:
    assert cds_auth._segment(jwt.utils.base64url_encode(data).decode()) == data


def test_a_non_canonical_signature_segment_is_refused(api: TestClient) -> None:
    header, payload, signature = token().split(".")
    # ES384 signatures are 96 bytes = 128 characters, no stray bits: make the segment 130 characters long
    assert get(api, f"{header}.{payload}.{signature}AB").status_code == 401


@pytest.mark.parametrize(("changes", "message"), [
    ({"iat": int(time.time()) + 3600, "exp": int(time.time()) + 3660}, "issued in the future"),
    ({"nbf": int(time.time()) + 3600}, "not valid yet"),
    ({"nbf": "soon"}, "not valid yet"),
    ({"exp": "tomorrow"}, "exp and iat (numbers)"),
    ({"exp": True}, "exp and iat (numbers)"),
    ({"jti": 7}, "jti (string)"),
    ({"aud": ["https://other.example.org/", 3]}, "wrong audience"),
    ({"aud": {"url": BASE + "/cds-services"}}, "wrong audience"),
])
def test_claims_refused(api: TestClient, changes: dict[str, Any], message: str) -> None:
    response = get(api, _signed(_claims(**changes)))
    assert response.status_code == 401 and message in response.json()["detail"]


def test_an_audience_list_holding_the_endpoint_is_accepted(api: TestClient) -> None:
    assert get(api, _signed(_claims(aud=["https://other.example.org/", BASE + "/cds-services"]))).status_code == 200


def test_a_past_nbf_and_clock_skew_within_leeway_are_accepted(api: TestClient) -> None:
    now = int(time.time())
    assert get(api, _signed(_claims(nbf=now - 10))).status_code == 200
    assert get(api, _signed(_claims(iat=now + 3, exp=now + 63))).status_code == 200  # default leeway 5 s


def test_critical_header_extensions_are_refused(api: TestClient) -> None:
    response = get(api, _signed(_claims(), {"crit": ["exp"]}))
    assert response.status_code == 401 and "crit" in response.json()["detail"]


def test_a_key_on_the_wrong_curve_is_refused_not_crashed(web: Web) -> None:
    p256 = ec.generate_private_key(ec.SECP256R1())
    api = client(web.store, issuers={ISSUER: {"keys": [{**public_jwk(p256, "p"), "alg": "ES384"}]}})
    forged = jwt.encode(_claims(), KEY, algorithm="ES384", headers={"kid": "p", "typ": "JWT"})
    assert get(api, forged).status_code == 401
