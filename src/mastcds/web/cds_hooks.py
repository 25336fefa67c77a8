"""The HL7 CDS Hooks 2.0 service: discovery, patient-view and order-select (omalizumab) services, feedback, card links.

Mount it with ``add_cds_hooks(app, store)`` (settings from the environment,
:mod:`mastcds.web.cds_settings`; operator's guide: docs/cds-hooks.md).
Specification: https://cds-hooks.hl7.org/2.0/ ; hook contexts: CDS Hooks
Library 1.0 (patient-view, order-select).

* ``GET /cds-services``: discovery, with prefetch templates for the Patient,
  the Observations mastcds reads (by LOINC / SNOMED CT code, from
  :mod:`mastcds.fhir.codes`) and the Conditions.
* ``POST /cds-services/mastcds-patient-view``: cards "recurrent anaphylaxis
  without a baseline tryptase", "REMA score N: clonal mast cell disease
  likely", "baseline tryptase > 20 ng/mL without a mastocytosis work-up";
  ``cards: []`` when none applies (:mod:`mastcds.web.cds_cards`).
* ``POST /cds-services/mastcds-omalizumab-dose``: for a selected omalizumab
  MedicationRequest, the label-table dose with its cell and warnings, and a
  suggestion that sets it when the table gives one.
* ``POST /cds-services/{id}/feedback``: outcomes of the cards, stored.
* ``GET /cds-evaluations/{token}``: the full evaluation a card links to, a
  page for a logged-in mastcds reader (clinician or viewer), audited; the
  token is random (256 bits) and works ``MASTCDS_CDS_LINK_TTL_SECONDS``.

Data come from the request's prefetch; what the client did not prefetch is
read from ``fhirServer`` with ``fhirAuthorization``'s token by
:class:`mastcds.fhir.client.FhirClient`, and only when that server is one the
calling issuer may name; without either the service answers 412 as the
specification requires. When the FHIR reads' budget runs out first, the cards
say that the data are incomplete. JWT replay entries, card links and feedback
live in the database (:mod:`mastcds.web.cds_store`), so any number of worker
processes may serve one address. The evaluation runs in-process: a call
computes only the sections its cards read; the full evaluation behind a card's
link is computed when the link is opened.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Mapping
from typing import Any

import httpx
import orjson
from fastapi import APIRouter, Depends, FastAPI, HTTPException, Request
from fastapi.responses import Response
from starlette.middleware.cors import CORSMiddleware
from starlette.routing import Route
from starlette.types import ASGIApp, Receive, Scope, Send

from mastcds.case import Case, CaseError, load_case
from mastcds.engine import evaluate_case
from mastcds.evaluation import treatment as _treatment
from mastcds.fhir import codes
from mastcds.fhir.client import (
    Budget,
    FhirClient,
    FhirServerRefused,
    FhirUnavailable,
    allowed_base,
    http_client,
    is_fhir_id,
    next_link,
    search_path,
)
from mastcds.fhir.to_case import FhirImport, case_from_resources, resources_in
from mastcds.store.audit import record_access
from mastcds.store.database import Store
from mastcds.web.auth import PageReader
from mastcds.web.cds_auth import REPLAYED, AuthError, CdsClient, CdsClientVerifier
from mastcds.web.cds_cards import (
    card_links,
    card_sections,
    incomplete_card,
    omalizumab_card,
    patient_view_cards,
    problems_card,
)
from mastcds.web.cds_settings import CdsSettings
from mastcds.web.cds_spec import MAX_FEEDBACK_BYTES, Discovery, Feedback, HookRequest, read_json
from mastcds.web.cds_store import CdsStore, new_link
from mastcds.web.pages.evaluation_view import evaluation_context
from mastcds.web.pages.render import render

PATIENT_VIEW = "mastcds-patient-view"
OMALIZUMAB_DOSE = "mastcds-omalizumab-dose"
EVALUATION_PATH = "/cds-evaluations/"
SERVICE_CALL_PATH = "/cds-services/{service_id}"
_MAX_EHR_USER_CHARS = 256

_LOINC_QUERY = ",".join(
    f"{c.system}|{c.code}"
    for c in (*codes.LAB_TESTS.values(), codes.VARIANT_ASSESSMENT, codes.SYSTOLIC_BP, codes.BP_PANEL,
              *codes.EPISODE_FINDINGS.values())
)
_DOSE_QUERY = ",".join(f"{codes.LOINC}|{codes.LAB_TESTS[t].code}" for t in ("ige_total", "weight"))
SERVICES: dict[str, dict[str, Any]] = {
    PATIENT_VIEW: {
        "hook": "patient-view",
        "title": "mastcds: mastocytosis and recurrent anaphylaxis work-up",
        "description": "Flags recurrent anaphylaxis without a baseline tryptase, a REMA score suggesting clonal mast "
                       "cell disease, and a baseline tryptase above 20 ng/mL without a mastocytosis work-up.",
        "id": PATIENT_VIEW,
        "prefetch": {
            "patient": "Patient/{{context.patientId}}",
            "observations": "Observation?patient={{context.patientId}}&code=" + _LOINC_QUERY,
            "conditions": "Condition?patient={{context.patientId}}",
        },
        "usageRequirements": "Needs the Patient, the Observations and the Conditions, prefetched or readable "
                             "from fhirServer; bone-marrow findings are not read from FHIR.",
    },
    OMALIZUMAB_DOSE: {
        "hook": "order-select",
        "title": "mastcds: omalizumab dose from the label table",
        "description": "For a selected omalizumab order: the EU SmPC asthma-table dose for the baseline total IgE "
                       "and body weight, with the table cell, its warnings (outside the table, off-label use in "
                       "mastocytosis) and, when the table gives a dose, a suggestion setting it.",
        "id": OMALIZUMAB_DOSE,
        "prefetch": {
            "patient": "Patient/{{context.patientId}}",
            "observations": "Observation?patient={{context.patientId}}&code=" + _DOSE_QUERY,
            "conditions": "Condition?patient={{context.patientId}}",
        },
    },
}


class CdsService:
    """The settings, the shared store, and the client verifier of one mounted router."""

    def __init__(self, settings: CdsSettings, store: Store, http: httpx.AsyncClient | None = None) -> None:
        self.settings = settings
        self.store = CdsStore(store)
        self.http = http
        self.verifier = CdsClientVerifier(settings, http)
        self.budget = Budget(settings.fhir_timeout_seconds, settings.fhir_max_response_bytes,
                             settings.fhir_max_call_bytes, settings.fhir_max_pages)

    def public_base(self, request: Request) -> str:
        """Where card links point: the configured public URL; only in sandbox mode, without one, this request's."""
        if self.settings.public_url:
            return self.settings.public_url
        path = request.url.path
        prefix = path[: path.find("/cds-services")] if "/cds-services" in path else ""
        return f"{request.url.scheme}://{request.url.netloc}{prefix}"

    async def verified(self, request: Request) -> CdsClient | None:
        """The verified caller (None in sandbox mode), its token not yet recorded, or 401. The audience is the
        configured public URL + the path called, never anything from the request's headers."""
        if self.settings.sandbox:
            return None
        if not self.settings.issuers or self.settings.public_url is None:
            raise _unauthorised("no CDS client is configured for this service (MASTCDS_CDS_ISSUERS)")
        path = request.scope["path"]  # not request.url, which parses the whole URL again on each call
        audience = self.settings.public_url + (path[path.find("/cds-services"):] if "/cds-services" in path else path)
        try:
            return await self.verifier.verify(request.headers.get("Authorization"), audience)
        except AuthError as error:
            raise _unauthorised(str(error)) from None

    async def client(self, request: Request) -> CdsClient | None:
        """The verified caller, its token recorded as used (a dependency of discovery and feedback), or 401."""
        caller = await self.verified(request)
        await self.record(caller)
        return caller

    async def record(self, caller: CdsClient | None, links: list[dict[str, Any]] | None = None) -> None:
        """Records the caller's token as used and stores the card links in one transaction, or 401 for a replay."""
        if not await self.store.record_call(None if caller is None else caller.replay_key, links):
            raise _unauthorised(REPLAYED)

    def link(self, request: Request, document: Mapping[str, Any], hook: HookRequest,
             caller: CdsClient | None) -> tuple[str, dict[str, Any]]:
        """A new card link: its URL and the row that stores the case behind it."""
        token, key, secret_digest = new_link(time.time() + self.settings.link_ttl_seconds)
        user = hook.context.get("userId")
        row = {
            "key": key, "secret_digest": secret_digest, "created": time.time(),
            "issuer": caller.issuer if caller else None, "fhir_patient": hook.context["patientId"],
            "ehr_user": user if isinstance(user, str) and len(user) <= _MAX_EHR_USER_CHARS and user.isprintable() else None,
            "case_document": orjson.dumps(document).decode(),
        }
        return f"{self.public_base(request)}{EVALUATION_PATH}{token}", row


def _unauthorised(message: str) -> HTTPException:
    return HTTPException(401, message, headers={"WWW-Authenticate": 'Bearer error="invalid_token"'})


# ---------------------------------------------------------------- FHIR data: prefetch, else the FHIR server
def check_fhir_server(service: CdsService, hook: HookRequest, caller: CdsClient | None) -> str | None:
    """The request's fhirServer as an allowed base (None when it names none), or 400."""
    if hook.fhirServer is None:
        if hook.fhirAuthorization is not None:  # CDS Hooks 2.0: fhirServer is REQUIRED when fhirAuthorization is sent
            raise HTTPException(400, "fhirAuthorization was sent without fhirServer")
        return None
    try:
        return allowed_base(hook.fhirServer, service.settings.fhir_servers(caller.issuer if caller else None),
                            allow_http=service.settings.allow_http)
    except FhirServerRefused as refused:
        setting = "MASTCDS_CDS_ISSUERS fhir_servers" if caller else "MASTCDS_CDS_SANDBOX_FHIR_SERVERS"
        raise HTTPException(400, f"{refused} (set by {setting})") from None


async def gather_data(service: CdsService, hook: HookRequest, base: str | None,
                      templates: Mapping[str, str]) -> tuple[list[dict[str, Any]], list[str]]:
    """The resources answering the prefetch templates, prefetched or read from ``base``, and what could not be read
    within the budget (reasons); 412 when data are missing and cannot be read."""
    prefetch = hook.prefetch or {}
    missing = [key for key in templates
               if key not in prefetch or (isinstance(prefetch[key], Mapping)
                                          and prefetch[key].get("resourceType") == "OperationOutcome")]
    if base is None:
        if missing:
            raise HTTPException(412, f"prefetch {', '.join(missing)} missing and no fhirServer to read it from")
        # everything prefetched and no server to page through (the common, hot path)
        unread = [f"{key}: the prefetched Bundle has more pages and no fhirServer was named to read them"
                  for key in templates if next_link(prefetch[key]) is not None]
        return [resource for key in templates for resource in resources_in(prefetch[key])], unread
    patient_id = hook.context["patientId"]
    token = hook.fhirAuthorization.access_token if hook.fhirAuthorization is not None else None
    http = service.http or http_client(service.budget.seconds)
    try:
        client = FhirClient(http, base, token, service.budget)
        pages = await client.read({key: search_path(templates[key], patient_id) for key in missing},
                                  {key: prefetch[key] for key in templates if key not in missing})
    except FhirUnavailable as error:
        raise HTTPException(412, str(error)) from None
    finally:
        if service.http is None:
            await http.aclose()
    return [resource for key in templates for page in pages[key] for resource in resources_in(page)], client.incomplete


def _selected_omalizumab_orders(context: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    selections = {s for s in context.get("selections") or [] if isinstance(s, str)}
    orders = []
    for resource in resources_in(context.get("draftOrders")):
        if f"{resource.get('resourceType')}/{resource.get('id')}" not in selections:
            continue
        if resource.get("resourceType") == "MedicationRequest" and codes.is_omalizumab(resource.get("medicationCodeableConcept")):
            orders.append(resource)
    return orders


def _today() -> str:
    return dt.date.today().isoformat()


def _case(resources: list[dict[str, Any]], patient_id: str,
          extra_treatments: list[dict[str, Any]] = ()) -> tuple[dict[str, Any], Case, FhirImport]:
    """The case built from the FHIR data (its document, the checked Case, and the import's account)."""
    imported = case_from_resources(resources, patient_id=patient_id, today=_today())
    document = imported.case
    if extra_treatments:
        document["treatments"] = [*document.get("treatments", []), *extra_treatments]
    try:
        case = load_case(document)
    except CaseError as error:  # a mapping defect; reported on a card rather than failing the EHR's call
        imported.problems.extend(error.problems)
        document = {"patient": {}}
        case = load_case(document)
    return document, case, imported


def _cards_response(cards: list[dict[str, Any]]) -> Response:
    """The cards as JSON (FastAPI would validate them against the response model a second time)."""
    return Response(orjson.dumps({"cards": cards}), media_type="application/json")


def _patient_id(hook: HookRequest) -> str:
    patient_id = hook.context.get("patientId")
    if not is_fhir_id(patient_id):
        raise HTTPException(400, "context.patientId is required: a FHIR id (1-64 of A-Z a-z 0-9 - .)")
    return patient_id


# ---------------------------------------------------------------- CORS for browser-based clients
class CdsHooksCors:
    """CORS for ``/cds-services`` only (CDS Hooks 2.0: browser-based CDS clients need it), for the configured origins.

    Preflights are answered here; the pages and the JSON API send no CORS
    headers. Clients authenticate by the JWT in ``Authorization``, never by
    cookies, so credentials are not allowed.
    """

    def __init__(self, app: ASGIApp, origins: tuple[str, ...]) -> None:
        self.app = app
        self.cors = CORSMiddleware(app, allow_origins=origins, allow_methods=("GET", "POST"),
                                   allow_headers=("Authorization", "Content-Type"), max_age=600)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["path"].startswith("/cds-services"):
            await self.cors(scope, receive, send)
        else:
            await self.app(scope, receive, send)


# ---------------------------------------------------------------- the router
def add_cds_hooks(app: FastAPI, store: Store, settings: CdsSettings | None = None,
                  http: httpx.AsyncClient | None = None) -> APIRouter:
    """Adds the CDS Hooks endpoints to ``app``, the service call ahead of any route added later; the router included.

    The service call, which an EHR waits on each time a chart opens, goes on the
    application's own router, where its path alone selects it. Dispatched through
    an included router it cost FastAPI 0.165 about 110,000 instructions, 3.7% of a
    patient-view call (bench/cds_hooks_instructions.py). The discovery, feedback
    and evaluation-link endpoints are included as a router. CORS is added only
    when origins are configured.
    """
    router = cds_hooks_router(store, settings, http, with_service_call=False)
    app.router.add_route(SERVICE_CALL_PATH, router.service_call.endpoint, methods=["POST"],  # type: ignore[attr-defined]
                         include_in_schema=False)
    app.include_router(router)
    origins = router.state.settings.cors_origins  # type: ignore[attr-defined]
    if origins:
        app.add_middleware(CdsHooksCors, origins=origins)
    return router


def cds_hooks_router(store: Store, settings: CdsSettings | None = None, http: httpx.AsyncClient | None = None, *,
                     with_service_call: bool = True) -> APIRouter:
    """The CDS Hooks endpoints on ``store``; ``settings`` default to the environment (``MASTCDS_CDS_*``).

    Without ``with_service_call`` the service call is left to the caller to mount (:func:`add_cds_hooks`);
    it is the router's ``service_call`` attribute either way.
    """
    service = CdsService(settings or CdsSettings.from_env(), store, http)
    router = APIRouter(tags=["CDS Hooks"])

    @router.get("/cds-services", response_model=Discovery, response_model_exclude_none=True,
                responses={401: {"description": "No valid client JWT"}})
    async def discovery(_: CdsClient | None = Depends(service.client)) -> dict[str, Any]:
        return {"services": list(SERVICES.values())}

    async def call(request: Request) -> Response:
        """A service call: 200 with the cards; 400 wrong hook, no patient, a fhirServer not allowed or
        fhirAuthorization without it, 401 no valid client JWT, 404 unknown service, 412 FHIR data unavailable,
        415 not JSON, 422 not a hook request.

        A plain Starlette route: FastAPI's parameter and dependency solving cost a tenth of the call's CPU,
        and the answer is the specification's (see :class:`mastcds.web.cds_spec.CardsResponse`), not mastcds's
        OpenAPI.
        """
        request.scope["route"] = call_route  # FastAPI names only its own routes; the access log prints this one's template
        service_id = request.path_params["service_id"]
        caller = await service.verified(request)  # its token is recorded with the card links, in one transaction
        hook = await read_json(request, HookRequest)
        definition = SERVICES.get(service_id)
        if definition is None:
            raise HTTPException(404, f"no CDS service {service_id!r}")
        if hook.hook != definition["hook"]:
            raise HTTPException(400, f"service {service_id} answers the {definition['hook']} hook, not {hook.hook!r}")
        patient_id = _patient_id(hook)
        base = check_fhir_server(service, hook, caller)
        if base is not None:  # no read of the EHR's server on a replayed token
            await service.record(caller)
            caller_to_record = None
        else:
            caller_to_record = caller
        if service_id == OMALIZUMAB_DOSE:
            orders = _selected_omalizumab_orders(hook.context)
            resources, unread = await gather_data(service, hook, base, definition["prefetch"]) if orders else ([], [])
            cards, links = [], []
            for order in orders:
                reason = next((r.get("text") for r in order.get("reasonCode") or [] if isinstance(r, Mapping)), None)
                draft = {"drug": "omalizumab", "start_date": _today(), **({"indication": reason} if reason else {})}
                document, case, imported = _case(resources, patient_id, [draft])
                link, row = service.link(request, document, hook, caller)
                links.append(row)
                if unread:
                    cards.append(incomplete_card(unread, link))
                cards.append(omalizumab_card(order, _treatment.omalizumab(case, []), link))
                if imported.problems:
                    cards.append(problems_card(imported.problems, link))
            await service.record(caller_to_record, links)
            return _cards_response(cards)
        resources, unread = await gather_data(service, hook, base, definition["prefetch"])
        document, case, imported = _case(resources, patient_id)
        cards = patient_view_cards(document, card_sections(case), imported, None)
        if unread:
            cards.insert(0, incomplete_card(unread, None))
        links = []
        if cards:
            link, row = service.link(request, document, hook, caller)
            links.append(row)
            for card in cards:
                card["links"] = card_links(link)
        await service.record(caller_to_record, links)
        return _cards_response(cards)

    call_route = Route(SERVICE_CALL_PATH, call, methods=["POST"], include_in_schema=False)  # the route the access log names
    if with_service_call:
        router.add_route(SERVICE_CALL_PATH, call, methods=["POST"], include_in_schema=False)

    @router.post("/cds-services/{service_id}/feedback",
                 responses={401: {"description": "No valid client JWT"}, 404: {"description": "Unknown service"},
                            413: {"description": f"Body over {MAX_FEEDBACK_BYTES} bytes"}})
    async def feedback(service_id: str, request: Request,
                       caller: CdsClient | None = Depends(service.client)) -> dict[str, int]:
        if service_id not in SERVICES:
            raise HTTPException(404, f"no CDS service {service_id!r}")
        body = await read_json(request, Feedback, MAX_FEEDBACK_BYTES)
        for item in body.feedback:
            if item.outcome == "accepted" and not item.acceptedSuggestions:
                raise HTTPException(400, f"card {item.card}: an accepted outcome needs acceptedSuggestions")
        await service.store.keep_feedback([
            {"service": service_id, "issuer": caller.issuer if caller else None, "card": item.card,
             "outcome": item.outcome, "detail": item.model_dump(exclude_none=True, exclude={"card", "outcome"})}
            for item in body.feedback])
        return {"received": len(body.feedback)}

    @router.get(EVALUATION_PATH + "{token}", include_in_schema=False)
    def evaluation_link(request: Request, token: str, principal: PageReader, all: bool = False) -> Response:
        """The full evaluation behind a card, for a logged-in reader (the login page first, then back here),
        audited as a read of that EHR patient's data."""
        found = service.store.link(token)
        if found is None:
            raise HTTPException(404, "this evaluation link is unknown or has expired")
        record_access(store, actor=principal.actor, action="read",
                      detail=f"CDS Hooks card link: evaluation of EHR Patient/{found.fhir_patient} "
                             f"(issuer {found.issuer or 'sandbox'}, EHR user {found.ehr_user or 'not given'})")
        evaluation = evaluate_case(load_case(orjson.loads(found.case_document)))
        created = dt.datetime.fromtimestamp(found.created, dt.timezone.utc).strftime("%Y-%m-%d %H:%M")
        context = {"key": None, "stored": None, "history": [], "show_all": all, "cds_link": found, "cds_created": created}
        return render(request, "evaluation.html", {**context, **evaluation_context(evaluation)})

    router.state = service  # type: ignore[attr-defined]  (tests and the benchmark read the settings and the store)
    router.service_call = call_route  # type: ignore[attr-defined]
    return router
