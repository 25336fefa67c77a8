"""Who is calling the CDS Hooks service: the signed JWT of a trusted CDS client (EHR), and the service's settings.

CDS Hooks 2.0 "Trusting CDS Clients" (https://cds-hooks.hl7.org/2.0/#trusting-cds-clients):
every call (discovery too) carries ``Authorization: Bearer <JWT>`` signed by
the client with an asymmetric key from its JWK Set; header ``alg``, ``kid``,
``typ: JWT`` (``jku`` optional); claims ``iss``, ``aud`` (the URL of the
endpoint called), ``exp``, ``iat``, ``jti`` all required. ``none`` and
symmetric (HMAC) algorithms SHALL NOT be used; services SHOULD allow-list
``iss`` and ``jku``. A token is refused when: the issuer is not allowed, the
``jku`` is not the one configured for it, the key is unknown, the signature,
audience or expiry is wrong, a claim is missing, it lives longer than
allowed, it names ``crit`` extensions, or its ``jti`` was already used (replay).

Settings (environment variables, read once into :class:`CdsSettings`):

``MASTCDS_CDS_ISSUERS``
    JSON object: allowed issuer -> its JWK Set, given as the JWKS URL (string)
    or inline (``{"keys": [...]}``). Only these issuers are accepted.
``MASTCDS_CDS_PUBLIC_URL``
    The public URL in front of ``/cds-services`` (``https://cds.example.org``
    or ``https://example.org/mastcds``). Expected ``aud`` = this + the path
    called; card links start with it. Default: taken from the request.
``MASTCDS_CDS_SANDBOX``
    ``1``/``true``: accept calls without authentication (the public CDS Hooks
    sandbox, local development). Never in production. Default off.
``MASTCDS_CDS_ALGORITHMS``
    Comma list of accepted ``alg``; default ES256,ES384,ES512,RS256,RS384,RS512,PS256,PS384,PS512.
    ``none`` and HS* are refused even if listed.
``MASTCDS_CDS_LEEWAY_SECONDS``  clock skew allowed on ``exp``/``iat`` (default 5).
``MASTCDS_CDS_MAX_TOKEN_SECONDS``  longest ``exp - iat`` accepted (default 600): bounds the replay store.
``MASTCDS_CDS_JWKS_TTL_SECONDS``  how long a fetched JWK Set is cached (default 3600).
``MASTCDS_CDS_FHIR_TIMEOUT_SECONDS``  timeout of calls to the EHR's FHIR server and JWKS URLs (default 5).
``MASTCDS_CDS_LINK_TTL_SECONDS``  how long a card's "full evaluation" link works (default 3600).

The replay store and the JWKS cache live in the process: a deployment with
several worker processes behind one address needs sticky routing or a
shared store (documented limit).
"""

from __future__ import annotations

import asyncio
import binascii
import heapq
import json
import os
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import httpx
import jwt
import orjson

_ASYMMETRIC = ("ES256", "ES384", "ES512", "RS256", "RS384", "RS512", "PS256", "PS384", "PS512")
_REQUIRED_CLAIMS = ["iss", "aud", "exp", "iat", "jti"]
_REFETCH_AFTER_SECONDS = 30.0  # an unknown kid refetches the JWK Set at most this often (key rotation)


class SettingsError(ValueError):
    """An environment variable of the CDS service that cannot be used."""


class AuthError(Exception):
    """The call is not from a trusted CDS client; the message says why (safe to show the caller)."""


def _flag(value: str | None) -> bool:
    return (value or "").strip().lower() in ("1", "true", "yes", "on")


def _number(environ: Mapping[str, str], name: str, default: float) -> float:
    text = environ.get(name)
    if text is None or not text.strip():
        return default
    try:
        value = float(text)
    except ValueError:
        raise SettingsError(f"{name}: expected a number of seconds, got {text!r}") from None
    if value < 0:
        raise SettingsError(f"{name}: must not be negative, got {text!r}")
    return value


@dataclass(frozen=True)
class CdsSettings:
    """Everything the CDS Hooks service can be configured with (see the module docstring)."""

    issuers: Mapping[str, str | Mapping[str, Any]] = field(default_factory=dict)
    public_url: str | None = None
    sandbox: bool = False
    algorithms: tuple[str, ...] = _ASYMMETRIC
    leeway_seconds: float = 5.0
    max_token_seconds: float = 600.0
    jwks_ttl_seconds: float = 3600.0
    fhir_timeout_seconds: float = 5.0
    link_ttl_seconds: float = 3600.0

    def __post_init__(self) -> None:
        bad = [a for a in self.algorithms if a not in _ASYMMETRIC]
        if bad:
            raise SettingsError(f"MASTCDS_CDS_ALGORITHMS: {', '.join(bad)} not allowed; CDS Hooks forbids none and "
                                f"symmetric algorithms; accepted: {', '.join(_ASYMMETRIC)}")
        for issuer, jwks in self.issuers.items():
            if isinstance(jwks, str):
                if not jwks.startswith(("https://", "http://")):
                    raise SettingsError(f"MASTCDS_CDS_ISSUERS[{issuer!r}]: expected a JWKS URL or a JWK Set, got {jwks!r}")
            elif not isinstance(jwks, Mapping) or not isinstance(jwks.get("keys"), list):
                raise SettingsError(f"MASTCDS_CDS_ISSUERS[{issuer!r}]: a JWK Set needs a 'keys' list")

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> CdsSettings:
        environ = os.environ if environ is None else environ
        issuers_text = environ.get("MASTCDS_CDS_ISSUERS", "").strip()
        issuers: Any = {}
        if issuers_text:
            try:
                issuers = json.loads(issuers_text)
            except json.JSONDecodeError as error:
                raise SettingsError(f"MASTCDS_CDS_ISSUERS: not valid JSON ({error.msg})") from None
            if not isinstance(issuers, dict):
                raise SettingsError("MASTCDS_CDS_ISSUERS: expected a JSON object issuer -> JWKS URL or JWK Set")
        algorithms = tuple(a.strip() for a in environ.get("MASTCDS_CDS_ALGORITHMS", "").split(",") if a.strip())
        public_url = environ.get("MASTCDS_CDS_PUBLIC_URL", "").strip().rstrip("/") or None
        return cls(
            issuers=issuers,
            public_url=public_url,
            sandbox=_flag(environ.get("MASTCDS_CDS_SANDBOX")),
            algorithms=algorithms or _ASYMMETRIC,
            leeway_seconds=_number(environ, "MASTCDS_CDS_LEEWAY_SECONDS", 5.0),
            max_token_seconds=_number(environ, "MASTCDS_CDS_MAX_TOKEN_SECONDS", 600.0),
            jwks_ttl_seconds=_number(environ, "MASTCDS_CDS_JWKS_TTL_SECONDS", 3600.0),
            fhir_timeout_seconds=_number(environ, "MASTCDS_CDS_FHIR_TIMEOUT_SECONDS", 5.0),
            link_ttl_seconds=_number(environ, "MASTCDS_CDS_LINK_TTL_SECONDS", 3600.0),
        )


@dataclass(frozen=True)
class CdsClient:
    """A verified caller: the issuer and, when sent, the tenant (healthcare organisation)."""

    issuer: str
    tenant: str | None = None


class _ReplayGuard:
    """Remembers each (issuer, jti) until its token expires."""

    def __init__(self) -> None:
        self.seen: set[tuple[str, str]] = set()
        self.expiry: list[tuple[float, tuple[str, str]]] = []

    def first_use(self, key: tuple[str, str], expires: float, now: float) -> bool:
        while self.expiry and self.expiry[0][0] < now:
            self.seen.discard(heapq.heappop(self.expiry)[1])
        if key in self.seen:
            return False
        self.seen.add(key)
        heapq.heappush(self.expiry, (expires, key))
        return True


class CdsClientVerifier:
    """Checks the Bearer JWT of each call against the allowed issuers' keys (cached JWK Sets)."""

    def __init__(self, settings: CdsSettings, http: httpx.AsyncClient | None = None) -> None:
        self.settings = settings
        self.http = http
        self.replay = _ReplayGuard()
        self.cache: dict[str, tuple[float, dict[str, Any]]] = {}
        self.last_fetch: dict[str, float] = {}
        self.locks: dict[str, asyncio.Lock] = {}
        self.keys: dict[tuple[str, str, str], tuple[dict[str, Any], Any]] = {}

    async def _fetch(self, issuer: str, url: str) -> dict[str, Any]:
        client = self.http or httpx.AsyncClient(timeout=self.settings.fhir_timeout_seconds)
        try:
            response = await client.get(url, headers={"Accept": "application/json"})
            response.raise_for_status()
            jwks = response.json()
        except (httpx.HTTPError, ValueError) as error:
            raise AuthError(f"the JWK Set of issuer {issuer} could not be fetched ({type(error).__name__})") from None
        finally:
            if self.http is None:
                await client.aclose()
        if not isinstance(jwks, dict) or not isinstance(jwks.get("keys"), list):
            raise AuthError(f"the JWK Set of issuer {issuer} has no 'keys' list")
        return jwks

    async def _key_set(self, issuer: str, *, refresh: bool) -> dict[str, Any]:
        source = self.settings.issuers[issuer]
        if not isinstance(source, str):
            return dict(source)
        now = time.monotonic()
        cached = self.cache.get(issuer)
        if cached is not None and now - cached[0] < self.settings.jwks_ttl_seconds and not refresh:
            return cached[1]
        lock = self.locks.setdefault(issuer, asyncio.Lock())
        async with lock:
            cached = self.cache.get(issuer)
            fresh = cached is not None and now - cached[0] < self.settings.jwks_ttl_seconds
            recent = now - self.last_fetch.get(issuer, -1e9) < _REFETCH_AFTER_SECONDS
            if cached is not None and (fresh and not refresh or recent):
                return cached[1]
            self.last_fetch[issuer] = now
            jwks = await self._fetch(issuer, source)
            self.cache[issuer] = (time.monotonic(), jwks)
            return jwks

    async def _jwk(self, issuer: str, kid: str) -> dict[str, Any]:
        for refresh in (False, True):
            keys = (await self._key_set(issuer, refresh=refresh)).get("keys", [])
            match = [k for k in keys if isinstance(k, dict) and k.get("kid") == kid]
            if match:
                return match[0]
            if not isinstance(self.settings.issuers[issuer], str):
                break
        raise AuthError(f"no key {kid!r} in the JWK Set of issuer {issuer}")

    def _public_key(self, issuer: str, kid: str, jwk: dict[str, Any], alg: str) -> Any:
        """The key object of a JWK (parsing one costs more than verifying a signature, so it is kept).

        Kept per (issuer, kid, alg) together with the JWK it was parsed from, so a
        rotated key under the same kid is parsed again.
        """
        cached = self.keys.get((issuer, kid, alg))
        if cached is not None and cached[0] == jwk:
            return cached[1]
        if len(self.keys) > 1000:  # forged kids cannot get here (unknown kids are refused before)
            self.keys.clear()
        key = jwt.PyJWK(jwk, algorithm=alg).key
        self.keys[(issuer, kid, alg)] = (jwk, key)
        return key

    async def verify(self, authorization: str | None, audience: str) -> CdsClient:
        """The verified client, or :class:`AuthError` saying why the call is refused."""
        if not authorization or not authorization.startswith("Bearer "):
            raise AuthError("missing bearer token: CDS clients must send a signed JWT (Authorization: Bearer ...)")
        try:  # header and claims are trusted only once the signature below has been checked
            header, claims, signing_input, signature = _compact_jws(authorization[len("Bearer "):].strip())
        except ValueError:
            raise AuthError("the bearer token is not a JWT") from None
        alg = header.get("alg")
        if alg not in self.settings.algorithms:
            raise AuthError(f"algorithm {alg!r} not accepted; accepted: {', '.join(self.settings.algorithms)}")
        if str(header.get("typ", "")).upper() != "JWT":
            raise AuthError("JWT header typ must be 'JWT'")
        if "crit" in header:  # RFC 7515 §4.1.11: extensions the recipient does not understand MUST be refused
            raise AuthError("JWT header crit names extensions mastcds does not support")
        kid = header.get("kid")
        if not isinstance(kid, str) or not kid:
            raise AuthError("JWT header kid is required")
        issuer = claims.get("iss")
        if not isinstance(issuer, str) or issuer not in self.settings.issuers:
            raise AuthError(f"issuer {issuer!r} is not an allowed CDS client")
        jku = header.get("jku")
        if jku is not None and jku != self.settings.issuers[issuer]:
            raise AuthError(f"jku {jku!r} is not the JWK Set URL allowed for issuer {issuer}")
        jwk = await self._jwk(issuer, kid)
        if jwk.get("alg") not in (None, alg):
            raise AuthError(f"key {kid!r} is for {jwk.get('alg')}, the token says {alg}")
        try:
            key = self._public_key(issuer, kid, jwk, alg)
        except (jwt.PyJWTError, ValueError) as error:
            raise AuthError(f"key {kid!r} of issuer {issuer} cannot be used: {error}") from None
        try:
            verified = jwt.get_algorithm_by_name(alg).verify(signing_input, key, signature)
        except (jwt.PyJWTError, ValueError) as error:  # e.g. a P-256 key named for ES384
            raise AuthError(f"key {kid!r} of issuer {issuer} does not fit {alg}: {error}") from None
        if not verified:
            raise AuthError("bad signature")
        self._check_claims(claims, audience)
        if claims["exp"] - claims["iat"] > self.settings.max_token_seconds:
            raise AuthError(f"token lives longer than {self.settings.max_token_seconds:g} s")
        if not self.replay.first_use((issuer, claims["jti"]), float(claims["exp"]) + self.settings.leeway_seconds, time.time()):
            raise AuthError("token replayed: this jti was already used")
        tenant = claims.get("tenant")
        return CdsClient(issuer, tenant if isinstance(tenant, str) else None)

    def _check_claims(self, claims: dict[str, Any], audience: str) -> None:
        """RFC 7519 §4.1 as CDS Hooks uses it: every required claim, exp/iat/nbf against the clock, aud."""
        for name in _REQUIRED_CLAIMS:
            if name not in claims:
                raise AuthError(f"claim {name!r} is required")
        if not isinstance(claims["jti"], str) or not all(_is_number(claims[c]) for c in ("exp", "iat")):
            raise AuthError("claims jti (string), exp and iat (numbers) are required")
        now, leeway = time.time(), self.settings.leeway_seconds
        if claims["exp"] <= now - leeway:
            raise AuthError("token expired")
        if claims["iat"] > now + leeway:
            raise AuthError("token refused: issued in the future (iat)")
        nbf = claims.get("nbf")
        if nbf is not None and (not _is_number(nbf) or nbf > now + leeway):
            raise AuthError("token refused: not valid yet (nbf)")
        aud = claims["aud"]
        audiences = [aud] if isinstance(aud, str) else aud if isinstance(aud, list) else []
        if audience not in [a for a in audiences if isinstance(a, str)]:
            raise AuthError(f"wrong audience: expected {audience}")


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


_TO_STANDARD_ALPHABET = bytes.maketrans(b"-_", b"+/")


def _segment(text: str) -> bytes:
    """One segment of a compact JWS: base64url without padding (RFC 7515 §2), in its one canonical spelling.

    binascii's strict mode refuses any character outside the alphabet; only the
    last, partial group can carry stray bits, so only it is encoded again to
    compare (half the cost of a regular-expression check and a full re-encoding).
    """
    raw = text.encode("ascii")  # UnicodeEncodeError is a ValueError
    partial = len(raw) % 4
    if partial == 1 or b"+" in raw or b"/" in raw or b"=" in raw:  # standard base64's characters and padding
        raise ValueError("not base64url")
    standard = raw.translate(_TO_STANDARD_ALPHABET)
    data = binascii.a2b_base64(standard + b"=" * (-partial % 4), strict_mode=True)
    if partial and binascii.b2a_base64(data[1 - partial:], newline=False)[:partial] != standard[-partial:]:
        raise ValueError("not canonical base64url")  # stray bits in the last character
    return data


def _compact_jws(token: str) -> tuple[dict[str, Any], dict[str, Any], bytes, bytes]:
    """(header, claims, signing input, signature) of a compact JWS whose header and payload are JSON objects.

    Parsed here rather than by PyJWT's decode, whose per-character alphabet
    check took a sixth of a whole patient-view call (py-spy, bench/cds_hooks.py);
    the signature is still checked by PyJWT's algorithm objects (cryptography).
    """
    parts = token.split(".")
    if len(parts) != 3:
        raise ValueError("a compact JWS has three segments")
    header, claims = orjson.loads(_segment(parts[0])), orjson.loads(_segment(parts[1]))
    if not isinstance(header, dict) or not isinstance(claims, dict):
        raise ValueError("header and payload must be JSON objects")
    return header, claims, f"{parts[0]}.{parts[1]}".encode(), _segment(parts[2])
