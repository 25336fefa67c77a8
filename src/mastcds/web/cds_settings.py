"""Everything the CDS Hooks service can be configured with, read once from the environment and checked at start-up.

Every setting is a ``MASTCDS_CDS_*`` environment variable; a value that cannot
be used is a :class:`SettingsError` naming the variable, so ``mastcds serve``
stops with that line instead of serving with a hole. docs/cds-hooks.md is the
operator's description of each one.

``MASTCDS_CDS_ISSUERS``
    JSON object: each trusted CDS client (EHR), by its JWT ``iss``, to either
    a JWKS URL (string), a JWK Set (``{"keys": [...]}``), or an object with
    ``jwks_urls`` (the only URLs its keys are fetched from, and the only ``jku``
    values accepted), ``keys`` (inline keys, used first: with ``jwks_urls`` a
    cache) and ``fhir_servers`` (the FHIR base URLs this client may send as
    ``fhirServer``; none: every call must be prefetched).
``MASTCDS_CDS_PUBLIC_URL``
    The public URL in front of ``/cds-services`` (``https://cds.example.org`` or
    ``https://example.org/mastcds``): the expected ``aud`` is this + the path
    called (never taken from the request's Host), and card links start with it.
    Required when issuers are configured.
``MASTCDS_CDS_SANDBOX``
    ``1``: accept calls without a JWT (the public CDS Hooks sandbox, local
    development). Never in production.
``MASTCDS_CDS_SANDBOX_FHIR_SERVERS``
    Comma list of the FHIR base URLs unauthenticated sandbox calls may name.
``MASTCDS_CDS_ALLOW_HTTP``
    ``1``: plain-http URLs are accepted (FHIR servers, JWKS URLs, the public
    URL); development on one machine only.
``MASTCDS_CDS_CORS_ORIGINS``
    Comma list of browser origins (``https://sandbox.cds-hooks.org``) allowed
    to call ``/cds-services`` from a web page; ``*`` only in sandbox mode.
``MASTCDS_CDS_ALGORITHMS``, ``MASTCDS_CDS_LEEWAY_SECONDS``, ``MASTCDS_CDS_MAX_TOKEN_SECONDS``,
``MASTCDS_CDS_JWKS_TTL_SECONDS``
    The client JWT's accepted algorithms (asymmetric only), clock skew, longest
    lifetime, and how long a fetched JWK Set is cached.
``MASTCDS_CDS_FHIR_TIMEOUT_SECONDS``, ``MASTCDS_CDS_FHIR_MAX_RESPONSE_BYTES``,
``MASTCDS_CDS_FHIR_MAX_CALL_BYTES``, ``MASTCDS_CDS_FHIR_MAX_PAGES``
    The budget of one service call's reads from the FHIR server: wall time
    (all requests and pages together; also bounds one JWK Set fetch), bytes of
    one response, bytes of all, pages of all.
``MASTCDS_CDS_LINK_TTL_SECONDS``
    How long a card's link to the full evaluation works.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import httpx

ASYMMETRIC_ALGORITHMS = ("ES256", "ES384", "ES512", "RS256", "RS384", "RS512", "PS256", "PS384", "PS512")
_ISSUER_FIELDS = ("jwks_urls", "keys", "fhir_servers")
# The EHR opens the chart and waits; CDS Hooks clients commonly give a service a few seconds.
DEFAULT_FHIR_SECONDS = 5.0
# A patient's Observations of the dozen codes mastcds asks for fit in well under a megabyte; these caps
# bound what one call can make the server hold (a 40 MB Bundle took the server to 3.5 GB: issue 16).
DEFAULT_RESPONSE_BYTES = 4 * 1024 * 1024
DEFAULT_CALL_BYTES = 16 * 1024 * 1024
DEFAULT_PAGES = 100
# Long enough to read the card and click; the case behind the link is deleted after it.
DEFAULT_LINK_SECONDS = 1800.0


class SettingsError(ValueError):
    """An environment variable of the CDS service that cannot be used; the message names it."""


def _flag(value: str | None) -> bool:
    return (value or "").strip().lower() in ("1", "true", "yes", "on")


def _number(environ: Mapping[str, str], name: str, default: float, *, integer: bool = False) -> float:
    text = environ.get(name)
    if text is None or not text.strip():
        return default
    try:
        value = int(text) if integer else float(text)
    except ValueError:
        kind = "a whole number" if integer else "a number"
        raise SettingsError(f"{name}: expected {kind}, got {text!r}") from None
    if not value >= 0 or value == float("inf"):
        raise SettingsError(f"{name}: must be a finite number, 0 or more, got {text!r}")
    return value


def _items(environ: Mapping[str, str], name: str) -> tuple[str, ...]:
    return tuple(item.strip() for item in environ.get(name, "").split(",") if item.strip())


def checked_url(url: Any, setting: str, *, allow_http: bool, origin_only: bool = False) -> str:
    """``url`` without a trailing slash, or :class:`SettingsError` naming ``setting``.

    https only unless ``allow_http``; never user:password@ (a credential in a
    setting ends up in logs), a query or a fragment (a base URL has neither).
    """
    if not isinstance(url, str):
        raise SettingsError(f"{setting}: expected a URL, got {url!r}")
    try:
        parsed = httpx.URL(url)
    except (httpx.InvalidURL, TypeError, ValueError):
        raise SettingsError(f"{setting}: {url!r} is not a URL") from None
    schemes = ("https", "http") if allow_http else ("https",)
    if parsed.scheme not in schemes or not parsed.host:
        accepted = "an https:// URL" + (" (or http://)" if allow_http else " (http:// only with MASTCDS_CDS_ALLOW_HTTP=1)")
        raise SettingsError(f"{setting}: {url!r} is not {accepted}")
    if parsed.userinfo or parsed.query or parsed.fragment or "#" in url:
        raise SettingsError(f"{setting}: {url!r} must have no user:password@, query or fragment")
    if origin_only and parsed.raw_path not in (b"", b"/"):
        raise SettingsError(f"{setting}: {url!r} is not an origin (scheme://host[:port], no path)")
    return str(parsed).rstrip("/")


@dataclass(frozen=True)
class Issuer:
    """One trusted CDS client: where its keys come from and which FHIR servers it may point mastcds at."""

    name: str
    keys: tuple[Mapping[str, Any], ...] = ()
    jwks_urls: tuple[str, ...] = ()
    fhir_servers: tuple[str, ...] = ()

    @classmethod
    def parse(cls, name: str, value: Any, *, allow_http: bool) -> Issuer:
        """From a setting's value: a JWKS URL, a JWK Set, or an object of :data:`_ISSUER_FIELDS`."""
        where = f"MASTCDS_CDS_ISSUERS[{name!r}]"
        if isinstance(value, Issuer):
            return value
        if isinstance(value, str):
            return cls(name, jwks_urls=(checked_url(value, where, allow_http=allow_http),))
        if not isinstance(value, Mapping):
            raise SettingsError(f"{where}: expected a JWKS URL, a JWK Set or an object with {', '.join(_ISSUER_FIELDS)}")
        unknown = sorted(set(value) - set(_ISSUER_FIELDS))
        if unknown:
            raise SettingsError(f"{where}: unknown field(s) {', '.join(unknown)}; accepted: {', '.join(_ISSUER_FIELDS)}")
        keys = value.get("keys", [])
        if not isinstance(keys, list) or not all(isinstance(k, Mapping) for k in keys):
            raise SettingsError(f"{where}.keys: expected a list of JWK objects")
        lists = {}
        for field_name in ("jwks_urls", "fhir_servers"):
            urls = value.get(field_name, [])
            if not isinstance(urls, list):
                raise SettingsError(f"{where}.{field_name}: expected a list of URLs")
            lists[field_name] = tuple(checked_url(u, f"{where}.{field_name}", allow_http=allow_http) for u in urls)
        if not keys and not lists["jwks_urls"]:
            raise SettingsError(f"{where}: give its keys (keys) or the URL(s) of its JWK Set (jwks_urls)")
        return cls(name, tuple(keys), lists["jwks_urls"], lists["fhir_servers"])


@dataclass(frozen=True)
class CdsSettings:
    """The CDS Hooks service's settings (see the module docstring); ``issuers`` values may be given raw, as in JSON."""

    issuers: Mapping[str, Any] = field(default_factory=dict)
    public_url: str | None = None
    sandbox: bool = False
    sandbox_fhir_servers: tuple[str, ...] = ()
    allow_http: bool = False
    cors_origins: tuple[str, ...] = ()
    algorithms: tuple[str, ...] = ASYMMETRIC_ALGORITHMS
    leeway_seconds: float = 5.0
    max_token_seconds: float = 600.0
    jwks_ttl_seconds: float = 3600.0
    fhir_timeout_seconds: float = DEFAULT_FHIR_SECONDS
    fhir_max_response_bytes: int = DEFAULT_RESPONSE_BYTES
    fhir_max_call_bytes: int = DEFAULT_CALL_BYTES
    fhir_max_pages: int = DEFAULT_PAGES
    link_ttl_seconds: float = DEFAULT_LINK_SECONDS

    def __post_init__(self) -> None:
        bad = [a for a in self.algorithms if a not in ASYMMETRIC_ALGORITHMS]
        if bad:
            raise SettingsError(f"MASTCDS_CDS_ALGORITHMS: {', '.join(bad)} not allowed; CDS Hooks forbids none and "
                                f"symmetric algorithms; accepted: {', '.join(ASYMMETRIC_ALGORITHMS)}")
        issuers = {name: Issuer.parse(name, value, allow_http=self.allow_http) for name, value in self.issuers.items()}
        object.__setattr__(self, "issuers", issuers)
        if self.public_url is not None:
            object.__setattr__(self, "public_url", checked_url(self.public_url, "MASTCDS_CDS_PUBLIC_URL",
                                                               allow_http=self.allow_http))
        elif issuers and not self.sandbox:
            # the expected audience must never come from the request (its Host header is the caller's to choose)
            raise SettingsError("MASTCDS_CDS_PUBLIC_URL: required when MASTCDS_CDS_ISSUERS is set: the public URL "
                                "in front of /cds-services (e.g. https://cds.example.org), from which the expected "
                                "JWT audience is built")
        object.__setattr__(self, "sandbox_fhir_servers", tuple(
            checked_url(u, "MASTCDS_CDS_SANDBOX_FHIR_SERVERS", allow_http=self.allow_http) for u in self.sandbox_fhir_servers))
        origins = tuple(o if o == "*" else checked_url(o, "MASTCDS_CDS_CORS_ORIGINS", allow_http=True, origin_only=True)
                        for o in self.cors_origins)
        if "*" in origins and not self.sandbox:
            raise SettingsError("MASTCDS_CDS_CORS_ORIGINS: '*' (any web page) only with MASTCDS_CDS_SANDBOX=1; "
                                "name the origins, e.g. https://sandbox.cds-hooks.org")
        object.__setattr__(self, "cors_origins", origins)
        for name in ("fhir_max_response_bytes", "fhir_max_call_bytes", "fhir_max_pages"):
            if getattr(self, name) < 1:
                raise SettingsError(f"MASTCDS_CDS_{name.upper()}: must be at least 1")

    def fhir_servers(self, issuer: str | None) -> tuple[str, ...]:
        """The FHIR bases a call may name: its issuer's list, or in sandbox mode (no issuer) the sandbox list."""
        if issuer is None:
            return self.sandbox_fhir_servers if self.sandbox else ()
        return self.issuers[issuer].fhir_servers

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
                raise SettingsError("MASTCDS_CDS_ISSUERS: expected a JSON object issuer -> JWKS URL, JWK Set or "
                                    "{jwks_urls, keys, fhir_servers}")
        return cls(
            issuers=issuers,
            public_url=environ.get("MASTCDS_CDS_PUBLIC_URL", "").strip() or None,
            sandbox=_flag(environ.get("MASTCDS_CDS_SANDBOX")),
            sandbox_fhir_servers=_items(environ, "MASTCDS_CDS_SANDBOX_FHIR_SERVERS"),
            allow_http=_flag(environ.get("MASTCDS_CDS_ALLOW_HTTP")),
            cors_origins=_items(environ, "MASTCDS_CDS_CORS_ORIGINS"),
            algorithms=_items(environ, "MASTCDS_CDS_ALGORITHMS") or ASYMMETRIC_ALGORITHMS,
            leeway_seconds=_number(environ, "MASTCDS_CDS_LEEWAY_SECONDS", 5.0),
            max_token_seconds=_number(environ, "MASTCDS_CDS_MAX_TOKEN_SECONDS", 600.0),
            jwks_ttl_seconds=_number(environ, "MASTCDS_CDS_JWKS_TTL_SECONDS", 3600.0),
            fhir_timeout_seconds=_number(environ, "MASTCDS_CDS_FHIR_TIMEOUT_SECONDS", DEFAULT_FHIR_SECONDS),
            fhir_max_response_bytes=int(_number(environ, "MASTCDS_CDS_FHIR_MAX_RESPONSE_BYTES", DEFAULT_RESPONSE_BYTES,
                                                integer=True)),
            fhir_max_call_bytes=int(_number(environ, "MASTCDS_CDS_FHIR_MAX_CALL_BYTES", DEFAULT_CALL_BYTES, integer=True)),
            fhir_max_pages=int(_number(environ, "MASTCDS_CDS_FHIR_MAX_PAGES", DEFAULT_PAGES, integer=True)),
            link_ttl_seconds=_number(environ, "MASTCDS_CDS_LINK_TTL_SECONDS", DEFAULT_LINK_SECONDS),
        )
