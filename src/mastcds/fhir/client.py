"""Reading an EHR's FHIR server on behalf of one CDS Hooks call: only an allowed base, its token sent nowhere else,
within a budget of time, bytes and pages.

The request names the server (``fhirServer``) and hands over an access token
(``fhirAuthorization``): both are the caller's to choose, so the server must be
one the operator allowed (:func:`allowed_base`), and the token goes only to
URLs on that base (same scheme, host and port, and under its path), never
through a redirect, never to a ``next`` link elsewhere. A server that sends
too much, too slowly or too many pages is cut off when the call's budget is
spent (:class:`Budget`): what was read by then is kept, and
:attr:`FhirClient.incomplete` says what was not, so that the cards can say so
rather than pretend they saw everything.
"""

from __future__ import annotations

import asyncio
import re
import zlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

import httpx
import orjson

# FHIR R4 "id" datatype (http://hl7.org/fhir/R4/datatypes.html#id): 1-64 of A-Z a-z 0-9 - .
FHIR_ID = re.compile(r"[A-Za-z0-9\-.]{1,64}")
_DEFAULT_PORTS = {"https": 443, "http": 80}


class FhirServerRefused(ValueError):
    """A URL mastcds will not read (not allowed, not https, credentials in it); the message says why."""


class FhirUnavailable(Exception):
    """The FHIR server could not be read: unreachable, an HTTP error, a redirect, or not JSON."""


class _Spent(Exception):
    """The call's budget of bytes or pages ran out; the message says which."""


@dataclass(frozen=True)
class Budget:
    """What one call may spend on the FHIR server: wall time of all reads together, bytes of one response and of all,
    and pages (requests) of all."""

    seconds: float
    response_bytes: int
    call_bytes: int
    pages: int


def is_fhir_id(value: Any) -> bool:
    return isinstance(value, str) and FHIR_ID.fullmatch(value) is not None


def _origin(url: httpx.URL) -> tuple[str, str, int | None]:
    return url.scheme, url.host, url.port or _DEFAULT_PORTS.get(url.scheme)


def allowed_base(url: str, allowed: Iterable[str], *, allow_http: bool) -> str:
    """``url`` as a normalised base when it is one of ``allowed`` (normalised bases), else :class:`FhirServerRefused`."""
    try:
        parsed = httpx.URL(url)
    except (httpx.InvalidURL, TypeError, ValueError):
        raise FhirServerRefused(f"fhirServer {url!r} is not a URL") from None
    if parsed.userinfo:
        raise FhirServerRefused("fhirServer must not carry user:password@")
    if parsed.scheme != "https" and not (allow_http and parsed.scheme == "http"):
        raise FhirServerRefused(f"fhirServer {url!r}: only https:// FHIR servers are read")
    if parsed.query or parsed.fragment:
        raise FhirServerRefused(f"fhirServer {url!r}: a FHIR base has no query or fragment")
    base = str(parsed).rstrip("/")
    if base not in allowed:
        raise FhirServerRefused(f"fhirServer {base} is not a FHIR server this client may name (allowed: "
                                f"{', '.join(allowed) or 'none'})")
    return base


def next_link(document: Any) -> str | None:
    """The ``next`` link of a Bundle, if any."""
    if not isinstance(document, Mapping):
        return None
    for link in document.get("link") or ():
        if isinstance(link, Mapping) and link.get("relation") == "next" and isinstance(link.get("url"), str):
            return link["url"]
    return None


def search_path(template: str, patient_id: str) -> str:
    """A prefetch template (``Observation?patient={{context.patientId}}&...``) for one patient, the id URL-encoded."""
    return template.replace("{{context.patientId}}", quote(patient_id, safe=""))


class FhirClient:
    """Reads of one FHIR base for one call, with its access token, within one :class:`Budget`."""

    def __init__(self, http: httpx.AsyncClient, base: str, access_token: str | None, budget: Budget) -> None:
        self.http = http
        self.base = httpx.URL(base + "/")
        self._origin = _origin(self.base)
        self._path = self.base.path.rstrip("/")
        self.budget = budget
        self.headers = {"Accept": "application/fhir+json", "Accept-Encoding": "gzip, identity"}
        if access_token is not None:
            self.headers["Authorization"] = f"Bearer {access_token}"
        self.call_bytes = ByteAllowance(budget.call_bytes)
        self.requests = 0
        self.incomplete: list[str] = []

    def on_base(self, url: httpx.URL) -> bool:
        """Whether ``url`` may receive the access token: same origin as the base, under its path, no credentials."""
        path = url.path
        return (not url.userinfo and _origin(url) == self._origin
                and (path == self._path or path.startswith(self._path + "/")))

    def resolve(self, link: str) -> httpx.URL | None:
        """A link from the server as an absolute URL on the base, or None (elsewhere, or not a URL)."""
        try:
            url = self.base.join(link)
        except (httpx.InvalidURL, TypeError, ValueError):
            return None
        return url if self.on_base(url) else None

    async def read(self, searches: Mapping[str, str], documents: Mapping[str, Any]) -> dict[str, list[Any]]:
        """The pages for each key: ``searches`` are paths relative to the base (first page read here), ``documents``
        Bundles already in hand; every ``next`` link on the base is followed while the budget lasts.

        Raises :class:`FhirUnavailable` when the server fails; when the budget runs out, keeps what was read and
        adds the reason to :attr:`incomplete`.
        """
        pages: dict[str, list[Any]] = {key: [] for key in (*searches, *documents)}

        async def one(key: str, first: Any, relative: str | None) -> None:
            try:
                if relative is not None:
                    url = self.resolve(relative)
                    if url is None:
                        raise FhirServerRefused(f"{relative!r} is not on the FHIR base")
                    first = await self.get(url)
                document = first
                while document is not None:
                    pages[key].append(document)
                    link = next_link(document)
                    if link is None:
                        return
                    url = self.resolve(link)
                    if url is None:
                        self.incomplete.append(f"{key}: the next page is not on the FHIR server, not read")
                        return
                    document = await self.get(url)
            except _Spent as spent:
                self.incomplete.append(f"{key}: {spent}")

        try:
            async with asyncio.timeout(self.budget.seconds), asyncio.TaskGroup() as group:
                for key, relative in searches.items():
                    group.create_task(one(key, None, relative))
                for key, document in documents.items():
                    group.create_task(one(key, document, None))
        except TimeoutError:
            self.incomplete.append(f"the FHIR server did not answer everything within {self.budget.seconds:g} s")
        except ExceptionGroup as failed:  # the first failure says why (all are the same kind)
            raise failed.exceptions[0] from None
        return pages

    async def get(self, url: httpx.URL) -> Any:
        """One GET on the base, its JSON (None for 404), counted against the budget."""
        if not self.on_base(url):  # every caller resolves first; this is the token's last guard
            raise FhirServerRefused("refusing to send the access token off the FHIR base")
        if self.requests >= self.budget.pages:
            raise _Spent(f"more than {self.budget.pages} pages")
        self.requests += 1
        try:
            async with self.http.stream("GET", url, headers=self.headers) as response:
                if response.status_code == 404:
                    return None
                if response.status_code != 200:
                    raise FhirUnavailable(f"HTTP {response.status_code} from the FHIR server")
                body = await bounded_body(response, self.budget.response_bytes, self.call_bytes)
        except TooLarge as large:
            raise _Spent(str(large)) from None
        except httpx.HTTPError as error:
            raise FhirUnavailable(f"the FHIR server could not be read ({type(error).__name__})") from None
        except ValueError as error:
            raise FhirUnavailable(str(error)) from None
        try:
            return orjson.loads(body)
        except orjson.JSONDecodeError:
            raise FhirUnavailable("the FHIR server answered something that is not JSON") from None


class TooLarge(Exception):
    """A body longer than its limit (after decompression); the message names the limit."""


class ByteAllowance:
    """Bytes left to several responses read at the same time (the call's budget), spent as they arrive."""

    def __init__(self, total: int) -> None:
        self.total = self.left = total


async def bounded_body(response: httpx.Response, limit: int, shared: ByteAllowance | None = None) -> bytes:
    """The body of a streamed response, decompressed as it arrives, refused (:class:`TooLarge`) as soon as it would
    pass ``limit`` bytes or what is left of ``shared`` (a gzip bomb stops there too); ValueError for an encoding
    other than gzip or identity."""
    declared = response.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise TooLarge(f"a response of {int(declared):,} bytes is over the limit of {limit:,} per response")
    encoding = response.headers.get("content-encoding", "identity").strip().lower()
    if encoding not in ("gzip", "identity"):
        raise ValueError(f"the server sent content-encoding {encoding!r} (asked for gzip or identity)")
    decoder = zlib.decompressobj(16 + zlib.MAX_WBITS) if encoding == "gzip" else None
    body = bytearray()
    async for chunk in response.aiter_raw():
        room = min(limit - len(body), shared.left if shared is not None else limit)
        data = chunk if decoder is None else decoder.decompress(chunk, room + 1)
        if len(data) > room:
            if shared is not None and shared.left < limit - len(body):
                raise TooLarge(f"over the limit of {shared.total:,} bytes per call")
            raise TooLarge(f"over the limit of {limit:,} bytes per response")
        body += data
        if shared is not None:
            shared.left -= len(data)
    return bytes(body)


def http_client(timeout: float) -> httpx.AsyncClient:
    """An HTTP client for FHIR servers and JWKS URLs: no redirects followed (a token must not travel with one)."""
    return httpx.AsyncClient(timeout=timeout, follow_redirects=False)
