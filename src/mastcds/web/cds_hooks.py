"""The HL7 CDS Hooks 2.0 service: discovery, patient-view and order-select (omalizumab) services, feedback.

Mount it with ``app.include_router(cds_hooks_router())`` (settings from the
environment, see :mod:`mastcds.web.cds_auth`). Specification:
https://cds-hooks.hl7.org/2.0/ ; hook contexts: CDS Hooks Library 1.0
(patient-view, order-select).

* ``GET /cds-services``: discovery, with prefetch templates for the Patient,
  the Observations mastcds reads (by LOINC / SNOMED CT code, from
  :mod:`mastcds.fhir.codes`) and the Conditions.
* ``POST /cds-services/mastcds-patient-view``: cards "recurrent anaphylaxis
  without a baseline tryptase", "REMA score N: clonal mast cell disease
  likely", "baseline tryptase > 20 ng/mL without a mastocytosis work-up";
  ``cards: []`` when none applies.
* ``POST /cds-services/mastcds-omalizumab-dose``: for a selected omalizumab
  MedicationRequest, the label-table dose with its cell and warnings and a
  suggestion that sets the dose.
* ``POST /cds-services/{id}/feedback``: outcomes of the cards, kept in memory
  (card and suggestion ids only; no patient data).
* ``GET /cds-evaluations/{token}``: the full evaluation a card links to; the
  token is random (256 bits), lives ``MASTCDS_CDS_LINK_TTL_SECONDS`` and is
  kept only in this process's memory.

Data come from the request's prefetch; what the client did not prefetch is
fetched from ``fhirServer`` with ``fhirAuthorization`` (async, concurrent);
without either the service answers 412 as the specification requires. The
evaluation runs in-process and needs no database: a call computes only the
sections its cards read; the full evaluation behind a card's link is
computed when the link is opened.
"""

from __future__ import annotations

import asyncio
import copy
import datetime as dt
import random
import secrets
import time
from collections import OrderedDict, deque
from collections.abc import Mapping
from typing import Any, Literal

import httpx
import orjson
from fastapi import APIRouter, Depends, FastAPI, HTTPException, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import Response
from pydantic import BaseModel, ConfigDict, Field, ValidationError
from starlette.routing import Route

from mastcds.case import Case, CaseError, Problem, load_case
from mastcds.engine import evaluate_case
from mastcds.evaluation import episodes as _episodes
from mastcds.evaluation import treatment as _treatment
from mastcds.fhir import codes
from mastcds.fhir.to_case import (
    FhirImport,
    case_from_resources,
    dosage_dose_mg,
    dosage_interval,
    first_dosage,
    resources_in,
)
from mastcds.rules.mediators.hat import hat_adjusted_tryptase
from mastcds.web.cds_auth import AuthError, CdsClient, CdsClientVerifier, CdsSettings

PATIENT_VIEW = "mastcds-patient-view"
OMALIZUMAB_DOSE = "mastcds-omalizumab-dose"

# ---------------------------------------------------------------- clinical thresholds of the cards
# "Recurrent": more than one episode of anaphylaxis.
RECURRENT_ANAPHYLAXIS_EPISODES = 2
# SM minor criterion: basal serum tryptase > 20 ng/mL (strict), WHO 2016 / WHO 2022 / ICC 2022
# (docs/criteria-reference.md §1.1, §1.3; http://ashpublications.com/view-large/6541824).
BASELINE_TRYPTASE_MINOR_CRITERION_NG_ML = 20.0

SOURCE_WORKUP = {
    "label": "ECNM diagnostic algorithm (Valent et al., Am J Blood Res 2013)",
    "url": "https://pmc.ncbi.nlm.nih.gov/articles/PMC3649810/",
}
SOURCE_REMA = {
    "label": "REMA score (Alvarez-Twose et al., JACI 2010); McMurray et al., Blood 2024",
    "url": "http://identifiers.org/pubmed/20434205",
}
SOURCE_TRYPTASE = {
    "label": "WHO 2022 / ICC 2022 SM minor criterion: basal tryptase > 20 ng/mL",
    "url": "https://pmc.ncbi.nlm.nih.gov/articles/PMC9252913",
}
SOURCE_OMALIZUMAB = {"label": "Xolair EU SmPC section 4.2 dosing tables (via mastcds)"}
TOPIC_SYSTEM = f"{codes.MASTCDS_CANONICAL}/CodeSystem/cds-card-topic"

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
                       "mastocytosis) and a suggestion setting the dose.",
        "id": OMALIZUMAB_DOSE,
        "prefetch": {
            "patient": "Patient/{{context.patientId}}",
            "observations": "Observation?patient={{context.patientId}}&code=" + _DOSE_QUERY,
            "conditions": "Condition?patient={{context.patientId}}",
        },
    },
}
_MAX_PAGES = 20


# ---------------------------------------------------------------- the specification's JSON shapes
class _Spec(BaseModel):
    model_config = ConfigDict(extra="allow")


class FhirAuthorization(_Spec):
    access_token: str
    token_type: Literal["Bearer"]
    expires_in: int
    scope: str
    subject: str
    patient: str | None = None


class HookRequest(_Spec):
    hook: str
    hookInstance: str
    fhirServer: str | None = None
    fhirAuthorization: FhirAuthorization | None = None
    context: dict[str, Any]
    prefetch: dict[str, Any] | None = None


class Coding(BaseModel):
    system: str
    code: str
    display: str | None = None


class Source(BaseModel):
    label: str
    url: str | None = None
    icon: str | None = None
    topic: Coding | None = None


class Action(BaseModel):
    type: Literal["create", "update", "delete"]
    description: str
    resource: dict[str, Any] | None = None
    resourceId: str | None = None


class Suggestion(BaseModel):
    label: str
    uuid: str | None = None
    isRecommended: bool | None = None
    actions: list[Action] | None = None


class Link(BaseModel):
    label: str
    url: str
    type: Literal["absolute", "smart"]
    appContext: str | None = None


class Card(BaseModel):
    uuid: str | None = None
    summary: str = Field(max_length=139)
    detail: str | None = None
    indicator: Literal["info", "warning", "critical"]
    source: Source
    suggestions: list[Suggestion] | None = None
    selectionBehavior: Literal["at-most-one", "any"] | None = None
    overrideReasons: list[Coding] | None = None
    links: list[Link] | None = None


class CardsResponse(BaseModel):
    """The specification's answer to a service call. The service writes the cards as JSON itself (:func:`_card`);
    the tests validate every answer against this model and the models above."""

    cards: list[Card]


class Service(BaseModel):
    hook: str
    title: str | None = None
    description: str
    id: str
    prefetch: dict[str, str] | None = None
    usageRequirements: str | None = None


class Discovery(BaseModel):
    services: list[Service]


class AcceptedSuggestion(BaseModel):
    id: str


class OverrideReason(BaseModel):
    reason: Coding | None = None
    userComment: str | None = None


class FeedbackItem(BaseModel):
    card: str
    outcome: Literal["accepted", "overridden"]
    acceptedSuggestions: list[AcceptedSuggestion] | None = None
    overrideReason: OverrideReason | None = None
    outcomeTimestamp: str


class Feedback(BaseModel):
    feedback: list[FeedbackItem]


_JSON_TYPES = ("application/json",)


async def read_hook_request(request: Request) -> HookRequest:
    """The hook request of a service call, parsed by orjson and checked by its model.

    Read here rather than declared as a FastAPI body parameter: an EHR's
    prefetch (tens of kB) comes with every call, and FastAPI's generic body
    and dependency handling cost about a tenth of the call's CPU. Errors keep
    FastAPI's shape: 422 with ``detail`` naming the JSON error or each invalid
    element (``loc`` from ``body``); another content type is a 415.
    """
    media_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if not (media_type in _JSON_TYPES or media_type.endswith("+json")):
        raise HTTPException(415, f"content type {media_type or '(none)'!r}: a CDS Hooks call is application/json")
    body = await request.body()
    try:
        document = orjson.loads(body)
    except orjson.JSONDecodeError as error:
        raise RequestValidationError([{"type": "json_invalid", "loc": ("body", error.pos), "msg": "JSON decode error",
                                       "input": {}, "ctx": {"error": error.msg}}]) from None
    try:
        return HookRequest.model_validate(document)
    except ValidationError as error:
        raise RequestValidationError([{**item, "loc": ("body", *item["loc"])}
                                      for item in error.errors(include_url=False)], body=document) from None


# ---------------------------------------------------------------- state kept by one service instance
class _Links:
    """Cases behind card links: random token -> (expiry, case document, its evaluation once asked for), oldest dropped first.

    The full evaluation (all three SM editions enumerate the completions of
    unknown findings: milliseconds) is computed when a clinician opens the
    link, not on the EHR's latency-critical call. The case is kept as JSON
    bytes, which the garbage collector does not walk: thousands of kept
    ``Case`` objects made each full collection pause every call in flight.
    """

    def __init__(self, ttl: float, capacity: int = 10_000) -> None:
        self.ttl, self.capacity = ttl, capacity
        self.items: OrderedDict[str, list[Any]] = OrderedDict()

    def put(self, document: Mapping[str, Any]) -> str:
        """Keep a case document that ``load_case`` accepted; the token of its link."""
        token = secrets.token_urlsafe(32)
        now = time.monotonic()
        self.items[token] = [now + self.ttl, orjson.dumps(document), None]
        while len(self.items) > self.capacity or (self.items and next(iter(self.items.values()))[0] < now):
            self.items.popitem(last=False)
        return token

    def get(self, token: str) -> dict[str, Any] | None:
        item = self.items.get(token)
        if item is None or item[0] < time.monotonic():
            return None
        if item[2] is None:
            item[2] = evaluate_case(load_case(orjson.loads(item[1])))
        return item[2]


class CdsService:
    """The settings, the client verifier, the links and the feedback log of one mounted router."""

    def __init__(self, settings: CdsSettings, http: httpx.AsyncClient | None = None) -> None:
        self.settings = settings
        self.http = http
        self.verifier = CdsClientVerifier(settings, http)
        self.links = _Links(settings.link_ttl_seconds)
        self.feedback: deque[dict[str, Any]] = deque(maxlen=10_000)

    def public_base(self, request: Request) -> str:
        if self.settings.public_url:
            return self.settings.public_url
        path = request.url.path
        prefix = path[: path.find("/cds-services")] if "/cds-services" in path else ""
        return f"{request.url.scheme}://{request.url.netloc}{prefix}"

    def endpoint_url(self, request: Request) -> str:
        path = request.scope["path"]  # not request.url, which parses the whole URL again on each call
        return self.public_base(request) + (path[path.find("/cds-services"):] if "/cds-services" in path else path)


# ---------------------------------------------------------------- FHIR data: prefetch, else the FHIR server
def _expand(template: str, context: Mapping[str, Any]) -> str:
    query = template
    for name in ("patientId", "userId", "encounterId"):
        value = context.get(name)
        if isinstance(value, str):
            query = query.replace("{{context.%s}}" % name, value)
    return query


async def _get(http: httpx.AsyncClient, url: str, headers: dict[str, str]) -> Any:
    response = await http.get(url, headers=headers)
    if response.status_code == 404:
        return None
    response.raise_for_status()
    return response.json()


async def _follow_pages(http: httpx.AsyncClient | None, document: Any, headers: dict[str, str]) -> list[Any]:
    pages = [document]
    while http is not None and len(pages) < _MAX_PAGES and isinstance(document, Mapping):
        following = [link.get("url") for link in document.get("link") or []
                     if isinstance(link, Mapping) and link.get("relation") == "next"]
        if not following or not isinstance(following[0], str):
            break
        document = await _get(http, following[0], headers)
        pages.append(document)
    return pages


async def gather_data(service: CdsService, hook: HookRequest, templates: Mapping[str, str]) -> list[dict[str, Any]]:
    """The resources answering the prefetch templates: prefetched, else read from fhirServer; else 412."""
    prefetch = hook.prefetch or {}
    missing = [key for key in templates
               if key not in prefetch or (isinstance(prefetch[key], Mapping)
                                          and prefetch[key].get("resourceType") == "OperationOutcome")]
    if missing and not hook.fhirServer:
        raise HTTPException(412, f"prefetch {', '.join(missing)} missing and no fhirServer to read it from")
    if not hook.fhirServer:
        # everything prefetched and no server to page through: no tasks to schedule (the common, hot path)
        return [resource for key in templates for resource in resources_in(prefetch[key])]
    headers = {"Accept": "application/fhir+json"}
    if hook.fhirAuthorization is not None:
        headers["Authorization"] = f"Bearer {hook.fhirAuthorization.access_token}"
    base = (hook.fhirServer or "").rstrip("/")
    own_client = service.http is None and bool(base)
    http = service.http or (httpx.AsyncClient(timeout=service.settings.fhir_timeout_seconds) if base else None)
    try:
        async def fetch(key: str) -> list[Any]:
            if key in missing:
                document = await _get(http, f"{base}/{_expand(templates[key], hook.context)}", headers)
            else:
                document = prefetch[key]
            return await _follow_pages(http if base else None, document, headers)

        try:
            results = await asyncio.gather(*(fetch(key) for key in templates))
        except (httpx.HTTPError, ValueError) as error:
            raise HTTPException(412, f"the FHIR server could not be read ({type(error).__name__})") from None
    finally:
        if own_client and http is not None:
            await http.aclose()
    return [resource for pages in results for page in pages for resource in resources_in(page)]


# ---------------------------------------------------------------- cards
# RFC 9562 version 4: version field 0b0100 (bits 76-79), variant 0b10 (bits 62-63); the other 122 bits random
_UUID4_KEEP = ~((0xF << 76) | (0b11 << 62))
_UUID4_SET = (4 << 76) | (0b10 << 62)


def _card_id() -> str:
    """A random (version 4) UUID for a card or suggestion, drawn from the process's PRNG, not os.urandom.

    The id must be unique (the EHR's feedback names it), not secret: nothing is
    granted by knowing one. ``uuid.uuid4`` made a system call per card, 1-2% of
    a patient-view call each (bench/cds_hooks.py). ``random`` reseeds itself in
    a forked worker, so workers do not repeat each other's ids. The version
    and variant bits are set and the text laid out as ``str(uuid.UUID(int=...,
    version=4))`` does (tests compare the two), without the ``UUID`` object and
    its checks: 1.0% fewer instructions per patient-view call with two cards.
    """
    bits = random.getrandbits(128) & _UUID4_KEEP | _UUID4_SET
    text = f"{bits:032x}"
    return f"{text[:8]}-{text[8:12]}-{text[12:16]}-{text[16:20]}-{text[20:]}"


def _card(summary: str, indicator: str, source: Mapping[str, str], topic: str, detail: str,
          link: str | None, **extra: Any) -> dict[str, Any]:
    """A card as the JSON the EHR receives (the :class:`Card` shape; tests validate every answer against it).

    Cards are plain dicts, serialised once by orjson: building the pydantic
    models on each call cost about a tenth of the call's CPU, and the service
    fills every field itself.
    """
    card = {
        "uuid": _card_id(), "summary": summary, "detail": detail, "indicator": indicator,
        "source": {**source, "topic": {"system": TOPIC_SYSTEM, "code": topic, "display": topic.replace("-", " ")}},
        **{key: value for key, value in extra.items() if value is not None},
    }
    if link:
        card["links"] = _links(link)
    return card


def _links(url: str) -> list[dict[str, str]]:
    return [{"label": "Full mastcds evaluation", "url": url, "type": "absolute"}]


def _work_up_done(case: Mapping[str, Any], imported: FhirImport) -> bool:
    """A mast-cell diagnosis is recorded, or a KIT D816V result or bone-marrow findings exist."""
    recorded = [d for d in imported.recorded_diagnoses if d != "history of anaphylaxis"]
    marrow = case.get("bone_marrow") or {}
    return bool(recorded) or (case.get("molecular") or {}).get("kit_d816v") is not None or any(
        marrow.get(k) is not None for k in ("multifocal_dense_infiltrates", "infiltration_percent", "biopsy_date")
    )


def patient_view_cards(case: Mapping[str, Any], evaluation: Mapping[str, Any], imported: FhirImport,
                       link: str | None) -> list[dict[str, Any]]:
    """The cards for one patient (``evaluation`` needs its rema and tryptase sections); none when nothing applies."""
    cards: list[dict[str, Any]] = []
    episodes = case.get("episodes") or []
    baseline = (case.get("labs") or {}).get("baseline_tryptase_ng_ml")
    worked_up = _work_up_done(case, imported)
    if len(episodes) >= RECURRENT_ANAPHYLAXIS_EPISODES and baseline is None:
        cards.append(_card(
            "Recurrent anaphylaxis without a baseline tryptase: consider measuring it",
            "warning", SOURCE_WORKUP, "baseline-tryptase",
            f"{len(episodes)} anaphylaxis episodes are recorded and no baseline serum tryptase. A baseline "
            "(basal) tryptase, drawn at least 24 h after complete resolution of a reaction, is the first screen "
            "for systemic mastocytosis and hereditary alpha-tryptasemia.", link))
    rema = evaluation.get("rema") or {}
    if rema.get("clonal_likely") is True and not worked_up:
        shown = rema["score"] if rema.get("score") is not None else f">= {rema.get('min')}"
        cards.append(_card(
            f"REMA score {shown}: clonal mast cell disease likely - consider a bone marrow biopsy and KIT D816V",
            "warning", SOURCE_REMA, "rema-score",
            "A REMA score of 2 or more predicts clonal mast cell disease in patients with anaphylaxis "
            "(sex, skin signs during episodes, presyncope/syncope, baseline tryptase). Suggested work-up: "
            "bone marrow biopsy and high-sensitivity KIT D816V; with a baseline tryptase of 11.5 ng/mL or more, "
            "tryptase genotyping (TPSAB1) first.\n\n" + "\n".join(
                f"* {item.get('reason')}" for item in rema.get("items") or [] if item.get("reason")), link))
    tryptase = evaluation.get("tryptase") or {}
    adjusted = tryptase.get("hat_adjusted_baseline_ng_ml")
    if (baseline is not None and baseline > BASELINE_TRYPTASE_MINOR_CRITERION_NG_ML and not worked_up
            and (adjusted is None or adjusted > BASELINE_TRYPTASE_MINOR_CRITERION_NG_ML)):
        cards.append(_card(
            f"Baseline tryptase {baseline:g} ng/mL > 20 without a mastocytosis work-up",
            "warning", SOURCE_TRYPTASE, "tryptase-above-20",
            f"A basal serum tryptase above {BASELINE_TRYPTASE_MINOR_CRITERION_NG_ML:g} ng/mL is a minor criterion "
            "of systemic mastocytosis (WHO 2022, ICC 2022), and no mastocytosis diagnosis, KIT D816V result or "
            "bone marrow finding is recorded. Work-up: skin examination, high-sensitivity KIT D816V in blood, "
            "bone marrow biopsy; consider TPSAB1 genotyping for hereditary alpha-tryptasemia.", link))
    if imported.problems:
        cards.append(_problems_card(imported.problems, link))
    return cards


def _problems_card(problems: list[Problem], link: str | None) -> dict[str, Any]:
    return _card(
        f"{len(problems)} FHIR value(s) could not be used by mastcds (unit, range or date)", "info",
        {"label": "mastcds FHIR import"}, "data-quality",
        "\n".join(f"* {p}" for p in problems[:20]), link)


def _dose_text(dose: int, weeks: int) -> str:
    return f"{dose} mg every {weeks} weeks"


def _update_dose(order: Mapping[str, Any], dose_mg: int, weeks: int) -> dict[str, Any]:
    updated = copy.deepcopy(dict(order))
    updated["dosageInstruction"] = [{
        "text": f"{_dose_text(dose_mg, weeks)} subcutaneously",
        "timing": {"repeat": {"frequency": 1, "period": weeks, "periodUnit": "wk"}},
        "doseAndRate": [{"doseQuantity": {"value": dose_mg, "unit": "mg", "system": codes.UCUM, "code": "mg"}}],
    }]
    return updated


def _ordered_dose(order: Mapping[str, Any]) -> tuple[float | None, str | None]:
    dosage = first_dosage(order)
    return dosage_dose_mg(dosage)[0], dosage_interval(dosage)


def omalizumab_card(order: Mapping[str, Any], dose: Mapping[str, Any] | None, link: str | None) -> dict[str, Any]:
    """The dose card for one selected omalizumab order (``dose`` is the evaluation's DOSE, or None)."""
    if dose is None:
        return _card("Omalizumab: no baseline total IgE or body weight on record - the dose cannot be checked",
                     "warning", SOURCE_OMALIZUMAB, "omalizumab-dose",
                     "The label tables dose omalizumab by the baseline total serum IgE (IU/mL) measured before "
                     "treatment and the body weight (kg). Record both to check this order.", link)
    cell = dose.get("cell") or {}
    where = f"IgE {cell.get('ige_band')} IU/mL, weight {cell.get('weight_band')} kg" if cell else "no cell"
    warnings = [str(w) for w in dose.get("warnings") or []]
    lines = [f"* Table: {dose.get('table')} (cell: {where})"]
    injections = ", ".join(f"{i.get('count')} x {i.get('syringe_mg')} mg" for i in dose.get("injections") or [])
    if injections:
        lines.append(f"* Injections: {injections}")
    lines += [f"* Warning: {w}" for w in warnings]
    if dose.get("source"):
        lines.append(f"* Source: {dose['source']}")
    ordered_mg, ordered_interval = _ordered_dose(order)
    target, within = None, bool(dose.get("within_table"))
    if dose.get("dose_mg") is not None and dose.get("interval_weeks") is not None:
        target = (int(dose["dose_mg"]), int(dose["interval_weeks"]))
        summary = f"Omalizumab {_dose_text(*target)} by the label table ({where})"
    elif dose.get("nearest_cell"):
        nearest = dose["nearest_cell"]
        target = (int(nearest["dose_mg"]), int(nearest["interval_weeks"]))
        summary = f"Omalizumab: IgE or weight outside the label table; nearest cell {_dose_text(*target)}"
    else:
        summary = "Omalizumab: the label table gives no dose for this IgE and weight"
    already = target is not None and ordered_mg == target[0] and ordered_interval == f"q{target[1]}w"
    suggestions = None
    if target is not None and not already:
        label = f"Set the dose to {_dose_text(*target)}" + ("" if within else " (nearest cell, outside the table)")
        suggestions = [{
            "label": label, "uuid": _card_id(), "isRecommended": within,
            "actions": [{"type": "update", "description": label, "resource": _update_dose(order, *target)}],
        }]
    indicator = "info" if within and not warnings else "warning"
    return _card(
        summary[:139], indicator, SOURCE_OMALIZUMAB, "omalizumab-dose", "\n".join(lines), link,
        suggestions=suggestions, selectionBehavior="at-most-one" if suggestions else None,
        overrideReasons=[
            {"system": f"{codes.MASTCDS_CANONICAL}/CodeSystem/override-reason", "code": "specialist-dose",
             "display": "Dose set by the treating specialist (off-label use)"},
            {"system": f"{codes.MASTCDS_CANONICAL}/CodeSystem/override-reason", "code": "newer-data",
             "display": "Newer IgE or weight than the record holds"},
        ],
    )


def _selected_omalizumab_orders(context: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    selections = {s for s in context.get("selections") or [] if isinstance(s, str)}
    orders = []
    for resource in resources_in(context.get("draftOrders")):
        if f"{resource.get('resourceType')}/{resource.get('id')}" not in selections:
            continue
        if resource.get("resourceType") == "MedicationRequest" and codes.is_omalizumab(resource.get("medicationCodeableConcept")):
            orders.append(resource)
    return orders


# ---------------------------------------------------------------- the router
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


def card_sections(case: Case) -> dict[str, Any]:
    """What the patient-view cards read of the evaluation, built by the engine's own glue: the REMA section and,
    of the tryptase section, the HαT-adjusted baseline.

    Only these are computed on the EHR's call: they take a fraction of a
    millisecond where the full evaluation takes several (see bench/cds_hooks.py).
    The tryptase section's per-episode 20% + 2 rows, which no card reads, cost
    74,000 instructions, 2.6% of a patient-view call (tests check the cards
    against those of the full evaluation).
    """
    adjusted = hat_adjusted_tryptase(_episodes.baseline_tryptase(case), case.molecular.tpsab1_extra_alpha_copies)
    return {"rema": _episodes.rema(case, []), "tryptase": {"hat_adjusted_baseline_ng_ml": adjusted}}


def _cards_response(cards: list[dict[str, Any]]) -> Response:
    """The cards as JSON (FastAPI would validate them against the response model a second time)."""
    return Response(orjson.dumps({"cards": cards}), media_type="application/json")


SERVICE_CALL_PATH = "/cds-services/{service_id}"


def add_cds_hooks(app: FastAPI, settings: CdsSettings | None = None, http: httpx.AsyncClient | None = None) -> APIRouter:
    """Adds the CDS Hooks endpoints to ``app``, the service call ahead of any route added later; the router included.

    The service call, which an EHR waits on each time a chart opens, goes on the
    application's own router, where its path alone selects it. Dispatched through
    an included router it cost FastAPI 0.165 about 110,000 instructions, 3.7% of a
    patient-view call (bench/cds_hooks_instructions.py). The discovery, feedback
    and evaluation-link endpoints are included as a router.
    """
    router = cds_hooks_router(settings, http, with_service_call=False)
    app.router.add_route(SERVICE_CALL_PATH, router.service_call.endpoint, methods=["POST"],  # type: ignore[attr-defined]
                         include_in_schema=False)
    app.include_router(router)
    return router


def cds_hooks_router(settings: CdsSettings | None = None, http: httpx.AsyncClient | None = None, *,
                     with_service_call: bool = True) -> APIRouter:
    """The CDS Hooks endpoints; ``settings`` default to the environment (``MASTCDS_CDS_*``).

    Without ``with_service_call`` the service call is left to the caller to mount (:func:`add_cds_hooks`);
    it is the router's ``service_call`` attribute either way.
    """
    service = CdsService(settings or CdsSettings.from_env(), http)
    router = APIRouter(tags=["CDS Hooks"])

    async def client(request: Request) -> CdsClient | None:
        if service.settings.sandbox:
            return None
        try:
            return await service.verifier.verify(request.headers.get("Authorization"), service.endpoint_url(request))
        except AuthError as error:
            raise HTTPException(401, str(error), headers={"WWW-Authenticate": 'Bearer error="invalid_token"'}) from None

    @router.get("/cds-services", response_model=Discovery, response_model_exclude_none=True,
                responses={401: {"description": "No valid client JWT"}})
    async def discovery(_: CdsClient | None = Depends(client)) -> dict[str, Any]:
        return {"services": list(SERVICES.values())}

    async def call(request: Request) -> Response:
        """A service call: 200 with the cards; 400 wrong hook or no patient, 401 no valid client JWT, 404 unknown
        service, 412 FHIR data unavailable, 415 not JSON, 422 not a hook request.

        A plain Starlette route: FastAPI's parameter and dependency solving cost a tenth of the call's CPU,
        and the answer is the specification's (see :class:`CardsResponse`), not mastcds's OpenAPI.
        """
        request.scope["route"] = call_route  # FastAPI names only its own routes; the access log prints this one's template
        service_id = request.path_params["service_id"]
        await client(request)
        hook = await read_hook_request(request)
        definition = SERVICES.get(service_id)
        if definition is None:
            raise HTTPException(404, f"no CDS service {service_id!r}")
        if hook.hook != definition["hook"]:
            raise HTTPException(400, f"service {service_id} answers the {definition['hook']} hook, not {hook.hook!r}")
        patient_id = hook.context.get("patientId")
        if not isinstance(patient_id, str) or not patient_id:
            raise HTTPException(400, "context.patientId is required")
        base = service.public_base(request)
        if service_id == OMALIZUMAB_DOSE:
            orders = _selected_omalizumab_orders(hook.context)
            if not orders:
                return _cards_response([])
            resources = await gather_data(service, hook, definition["prefetch"])
            cards = []
            for order in orders:
                reason = next((r.get("text") for r in order.get("reasonCode") or [] if isinstance(r, Mapping)), None)
                draft = {"drug": "omalizumab", "start_date": _today(), **({"indication": reason} if reason else {})}
                document, case, imported = _case(resources, patient_id, [draft])
                link = f"{base}/cds-evaluations/{service.links.put(document)}"
                cards.append(omalizumab_card(order, _treatment.omalizumab(case, []), link))
                if imported.problems:
                    cards.append(_problems_card(imported.problems, link))
            return _cards_response(cards)
        resources = await gather_data(service, hook, definition["prefetch"])
        document, case, imported = _case(resources, patient_id)
        cards = patient_view_cards(document, card_sections(case), imported, None)
        if cards:
            link = f"{base}/cds-evaluations/{service.links.put(document)}"
            for card in cards:
                card["links"] = _links(link)
        return _cards_response(cards)

    call_route = Route(SERVICE_CALL_PATH, call, methods=["POST"], include_in_schema=False)  # the route the access log names
    if with_service_call:
        router.add_route(SERVICE_CALL_PATH, call, methods=["POST"], include_in_schema=False)

    @router.post("/cds-services/{service_id}/feedback",
                 responses={401: {"description": "No valid client JWT"}, 404: {"description": "Unknown service"}})
    async def feedback(service_id: str, body: Feedback, client_id: CdsClient | None = Depends(client)) -> dict[str, int]:
        if service_id not in SERVICES:
            raise HTTPException(404, f"no CDS service {service_id!r}")
        for item in body.feedback:
            if item.outcome == "accepted" and not item.acceptedSuggestions:
                raise HTTPException(400, f"card {item.card}: an accepted outcome needs acceptedSuggestions")
        for item in body.feedback:
            service.feedback.append({"service": service_id, "issuer": client_id.issuer if client_id else None,
                                     **item.model_dump(exclude_none=True)})
        return {"received": len(body.feedback)}

    @router.get("/cds-evaluations/{token}", responses={404: {"description": "Unknown or expired link"}})
    async def evaluation_link(token: str) -> dict[str, Any]:
        evaluation = service.links.get(token)
        if evaluation is None:
            raise HTTPException(404, "this evaluation link is unknown or has expired")
        return evaluation

    router.state = service  # type: ignore[attr-defined]  (tests and the benchmark read the feedback log)
    router.service_call = call_route  # type: ignore[attr-defined]
    return router
