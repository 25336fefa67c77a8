"""Who is calling the CDS Hooks service: the signed JWT of a trusted CDS client (EHR).

CDS Hooks 2.0 "Trusting CDS Clients" (https://cds-hooks.hl7.org/2.0/#trusting-cds-clients):
every call (discovery too) carries ``Authorization: Bearer <JWT>`` signed by
the client with an asymmetric key from its JWK Set; header ``alg``, ``kid``,
``typ: JWT`` (``jku`` optional); claims ``iss``, ``aud`` (the URL of the
endpoint called), ``exp``, ``iat``, ``jti`` all required. ``none`` and
symmetric (HMAC) algorithms SHALL NOT be used; services SHOULD allow-list
``iss`` and ``jku``. A token is refused when: the issuer is not allowed, its
``jku`` is not one of the issuer's configured JWKS URLs, the key is unknown,
the signature, audience or expiry is wrong, a claim is missing, it lives
longer than allowed, it names ``crit`` extensions, it or its ``jti`` is
longer than mastcds reads, or its ``jti`` was already used (a replay: the
verified client carries its replay key, which the caller records in the
database with :class:`mastcds.web.cds_store.CdsStore`, so that every worker
process sees it).

Keys come from the issuer's inline ``keys`` first, then from its configured
JWKS URLs (never from a URL only the token names), cached per URL for
``MASTCDS_CDS_JWKS_TTL_SECONDS`` in each process. Settings:
:mod:`mastcds.web.cds_settings`.
"""

from __future__ import annotations

import asyncio
import binascii
import time
from dataclasses import dataclass
from typing import Any

import httpx
import jwt
import orjson

from mastcds.fhir.client import TooLarge, bounded_body, http_client
from mastcds.web.cds_settings import CdsSettings, Issuer, SettingsError
from mastcds.web.cds_store import replay_key

__all__ = ["REPLAYED", "AuthError", "CdsClient", "CdsClientVerifier", "CdsSettings", "SettingsError"]

_REQUIRED_CLAIMS = ["iss", "aud", "exp", "iat", "jti"]
_REFETCH_AFTER_SECONDS = 30.0  # an unknown kid refetches the JWK Set at most this often (key rotation)
# A CDS client's JWT is a few hundred bytes (RS384: ~700); the cap keeps a hostile header from costing parsing time.
MAX_TOKEN_CHARS = 8192
# UUIDs (36 characters) are what clients send; the cap bounds the replay store's input (it keeps a digest).
MAX_JTI_CHARS = 256
# A JWK Set of a few RSA keys is a few kB.
MAX_JWKS_BYTES = 256 * 1024


REPLAYED = "token replayed: this jti was already used"


class AuthError(Exception):
    """The call is not from a trusted CDS client; the message says why (safe to show the caller)."""


@dataclass(frozen=True)
class CdsClient:
    """A verified caller: the issuer and, when sent, the tenant (healthcare organisation); the key of its token in
    the replay store (:func:`mastcds.web.cds_store.replay_key`)."""

    issuer: str
    tenant: str | None
    replay_key: str


class CdsClientVerifier:
    """Checks the Bearer JWT of each call against the allowed issuers' keys (the replay check is the caller's: see
    :class:`CdsClient`)."""

    def __init__(self, settings: CdsSettings, http: httpx.AsyncClient | None = None) -> None:
        self.settings = settings
        self.http = http
        self.cache: dict[str, tuple[float, list[Any]]] = {}  # JWKS URL -> (fetched at, its keys)
        self.last_fetch: dict[str, float] = {}
        self.locks: dict[str, asyncio.Lock] = {}
        self.keys: dict[tuple[str, str, str], tuple[dict[str, Any], Any]] = {}

    async def _fetch(self, issuer: str, url: str) -> list[Any]:
        """The keys at a configured JWKS URL: no redirect followed, at most :data:`MAX_JWKS_BYTES`, within the
        FHIR time budget."""
        client = self.http or http_client(self.settings.fhir_timeout_seconds)
        try:
            async with asyncio.timeout(self.settings.fhir_timeout_seconds), \
                    client.stream("GET", url, headers={"Accept": "application/json"}) as response:
                if response.status_code != 200:
                    raise AuthError(f"the JWK Set of issuer {issuer} could not be fetched (HTTP {response.status_code})")
                jwks = orjson.loads(await bounded_body(response, MAX_JWKS_BYTES))
        except (httpx.HTTPError, ValueError, TooLarge, TimeoutError) as error:
            raise AuthError(f"the JWK Set of issuer {issuer} could not be fetched ({type(error).__name__})") from None
        finally:
            if self.http is None:
                await client.aclose()
        if not isinstance(jwks, dict) or not isinstance(jwks.get("keys"), list):
            raise AuthError(f"the JWK Set of issuer {issuer} has no 'keys' list")
        return jwks["keys"]

    async def _key_set(self, issuer: str, url: str, *, refresh: bool) -> list[Any]:
        """The keys at ``url`` (one of the issuer's configured JWKS URLs), cached; ``refresh`` at most every
        :data:`_REFETCH_AFTER_SECONDS` (no fetch storm from forged kids)."""
        now = time.monotonic()
        cached = self.cache.get(url)
        if cached is not None and now - cached[0] < self.settings.jwks_ttl_seconds and not refresh:
            return cached[1]
        async with self.locks.setdefault(url, asyncio.Lock()):
            cached = self.cache.get(url)
            fresh = cached is not None and now - cached[0] < self.settings.jwks_ttl_seconds
            recent = now - self.last_fetch.get(url, -1e9) < _REFETCH_AFTER_SECONDS
            if cached is not None and (fresh and not refresh or recent):
                return cached[1]
            self.last_fetch[url] = now
            keys = await self._fetch(issuer, url)
            self.cache[url] = (time.monotonic(), keys)
            return keys

    async def _jwk(self, issuer: Issuer, kid: str, jku: str | None) -> dict[str, Any]:
        """The key ``kid``: inline first, then at the token's ``jku`` (already checked to be configured) or the
        issuer's configured JWKS URLs, cached, then fetched again once in case the client rotated its keys."""
        found = _key_with(issuer.keys, kid)
        urls = (jku,) if jku is not None else issuer.jwks_urls
        for refresh in (False, True):
            for url in urls if found is None else ():
                found = _key_with(await self._key_set(issuer.name, url, refresh=refresh), kid)
                if found is not None:
                    break
        if found is None:
            raise AuthError(f"no key {kid!r} in the JWK Set of issuer {issuer.name}")
        return found

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
        """The verified client (its token not yet recorded as used), or :class:`AuthError` saying why it is refused."""
        if not authorization or not authorization.startswith("Bearer "):
            raise AuthError("missing bearer token: CDS clients must send a signed JWT (Authorization: Bearer ...)")
        if len(authorization) > MAX_TOKEN_CHARS:
            raise AuthError(f"the bearer token is longer than {MAX_TOKEN_CHARS} characters")
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
        client = self.settings.issuers[issuer]
        jku = header.get("jku")
        if jku is not None and jku not in client.jwks_urls:  # never fetch keys from a URL only the token names
            raise AuthError(f"jku {jku!r} is not a JWK Set URL configured for issuer {issuer} "
                            f"(MASTCDS_CDS_ISSUERS jwks_urls: {', '.join(client.jwks_urls) or 'none'})")
        jwk = await self._jwk(client, kid, jku)
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
        tenant = claims.get("tenant")
        return CdsClient(issuer, tenant if isinstance(tenant, str) else None,
                         replay_key(issuer, claims["jti"], claims["exp"] + self.settings.leeway_seconds))

    def _check_claims(self, claims: dict[str, Any], audience: str) -> None:
        """RFC 7519 §4.1 as CDS Hooks uses it: every required claim, exp/iat/nbf against the clock, aud."""
        for name in _REQUIRED_CLAIMS:
            if name not in claims:
                raise AuthError(f"claim {name!r} is required")
        if not isinstance(claims["jti"], str) or not all(_is_number(claims[c]) for c in ("exp", "iat")):
            raise AuthError("claims jti (string), exp and iat (numbers) are required")
        if not 0 < len(claims["jti"]) <= MAX_JTI_CHARS:
            raise AuthError(f"claim jti must have 1-{MAX_JTI_CHARS} characters")
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


def _key_with(keys: Any, kid: str) -> dict[str, Any] | None:
    return next((k for k in keys if isinstance(k, dict) and k.get("kid") == kid), None)


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
