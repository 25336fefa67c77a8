"""Patients, their episodes, lab results, treatments and evaluations, over JSON.

Every route goes through :mod:`mastcds.store.service`, which checks each write
as a whole mastcds-case/1 case and writes the audit entry; here the caller's
token names the actor. Bodies that are case documents or parts of one are
taken as JSON objects and checked by the store, so that the problems name
fields the way the case schema does.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Body, Path, Query, Request, Response
from fastapi.responses import HTMLResponse

from mastcds.store import service
from mastcds.store.revisions import find_patient
from mastcds.store.service import import_into
from mastcds.store.errors import EvaluationNotFound
from mastcds.store.settings import PATIENT_KEY_PATTERN
from mastcds.store.views import Item, StoredEvaluation
from mastcds.web import figures
from mastcds.web.api.models import (
    ChangeOut,
    EvaluationOut,
    EvaluationSummaryOut,
    ItemOut,
    PatientCreated,
    PatientOut,
    PatientSummaryOut,
    RecordWritten,
    VersionOut,
)
from mastcds.web.api.responses import READ_ERRORS, WRITE_ERRORS
from mastcds.web.auth import ApiReader, ApiWriter, get_store
from mastcds.web.json_body import StrictJsonRoute
from mastcds.web.openapi import API_PREFIX, json_body

router = APIRouter(prefix=f"{API_PREFIX}/patients", tags=["patients"], route_class=StrictJsonRoute)

# The store's rule in the ECMA/JSON Schema dialect OpenAPI uses (no \A, \Z).
KEY_PATTERN = PATIENT_KEY_PATTERN.pattern.replace("\\A", "^").replace("\\Z", "$")
PatientKey = Annotated[str, Path(description="the patient's pseudonymous key", pattern=KEY_PATTERN, max_length=64)]
RecordId = Annotated[int, Path(ge=1, le=2**31 - 1, description="the record id of an episode, lab result or treatment")]
Reason = Annotated[str | None, Query(max_length=500, description="why the change was made (kept with it)")]
JsonObject = Annotated[dict[str, Any], Body()]
ITEM_ADDERS = {"episodes": service.add_episode, "lab-results": service.add_lab_result, "treatments": service.add_treatment}
ITEM_COMPONENTS = {"episodes": "Episode", "lab-results": "LabResult", "treatments": "Treatment"}


def _items(items: list[Item]) -> list[ItemOut]:
    return [ItemOut(record_id=item.record_id, document=item.document) for item in items]


def evaluation_summary(stored: StoredEvaluation) -> dict[str, Any]:
    guidelines = stored.result.get("guidelines") or {}
    return {
        "id": stored.id,
        "patient_key": stored.patient_key,
        "patient_version": stored.patient_version,
        "created_at": stored.created_at,
        "actor": stored.actor,
        "engine_version": stored.engine_version,
        "categories": {edition: (g or {}).get("category") for edition, g in guidelines.items()},
    }


# One answer holds at most this many patients (about 250 bytes each); the rest are pages away.
PATIENT_PAGE_MAX = 10_000
PATIENT_PAGE_DEFAULT = 1_000


@router.get(
    "",
    response_model=list[PatientSummaryOut],
    responses=READ_ERRORS,
    summary="List patients, by key, a page at a time",
    description="`X-Total-Count` gives the number of patients matching; a `Link` header with `rel=\"next\"` the next page.",
)
def list_patients(
    request: Request,
    response: Response,
    principal: ApiReader,
    q: Annotated[str | None, Query(max_length=64, description="keep keys containing this text (any case)")] = None,
    limit: Annotated[int, Query(ge=1, le=PATIENT_PAGE_MAX, description="patients per answer")] = PATIENT_PAGE_DEFAULT,
    offset: Annotated[int, Query(ge=0, le=2**31 - 1, description="patients to skip")] = 0,
) -> list[PatientSummaryOut]:
    patients = service.list_patients(get_store(request), actor=principal.actor)
    needle = (q or "").strip().casefold()
    matching = [p for p in patients if needle in p.key.casefold()]
    response.headers["X-Total-Count"] = str(len(matching))
    if offset + limit < len(matching):
        following = request.url.include_query_params(offset=offset + limit, limit=limit)
        response.headers["Link"] = f'<{following.path}?{following.query}>; rel="next"'
    return [PatientSummaryOut(**vars(p)) for p in matching[offset : offset + limit]]


@router.post(
    "",
    status_code=201,
    response_model=PatientCreated,
    responses=WRITE_ERRORS,
    summary="Create a patient from a case document",
    openapi_extra=json_body("Case", "the case; its `id`, if any, becomes the key unless `key` is given"),
)
def create_patient(
    request: Request,
    principal: ApiWriter,
    document: JsonObject,
    key: Annotated[str | None, Query(pattern=KEY_PATTERN, max_length=64)] = None,
    reason: Reason = None,
) -> PatientCreated:
    created = service.import_case(get_store(request), document, actor=principal.actor, key=key, reason=reason)
    return PatientCreated(key=created)


@router.get("/{key}", response_model=PatientOut, responses=READ_ERRORS, summary="The current record")
def show_patient(request: Request, principal: ApiReader, key: PatientKey) -> PatientOut:
    view = service.show_patient(get_store(request), key, actor=principal.actor)
    return PatientOut(
        key=view.key,
        version=view.version,
        created_at=view.created_at,
        updated_at=view.updated_at,
        case=view.case,
        episodes=_items(view.episodes),
        lab_results=_items(view.lab_results),
        treatments=_items(view.treatments),
        evaluations=view.evaluations,
    )


@router.get("/{key}/case", responses=READ_ERRORS, summary="The record as a case document, now or at a version")
def export_case(
    request: Request,
    principal: ApiReader,
    key: PatientKey,
    version: Annotated[int | None, Query(ge=1, le=2**31 - 1)] = None,
) -> dict[str, Any]:
    return service.export_case(get_store(request), key, actor=principal.actor, version=version)


@router.put(
    "/{key}/case",
    response_model=VersionOut,
    responses=WRITE_ERRORS,
    summary="Replace the record by a case document (a new version; nothing is lost)",
    openapi_extra=json_body("Case", "the whole case as it should now be"),
)
def replace_case(request: Request, principal: ApiWriter, key: PatientKey, document: JsonObject, reason: Reason = None) -> VersionOut:
    with get_store(request).writing() as session:
        find_patient(session, key)  # 404 rather than creating a patient
        import_into(session, document, actor=principal.actor, key=key, replace=True, reason=reason)
        return VersionOut(version=find_patient(session, key).version)


@router.patch(
    "/{key}/findings",
    response_model=VersionOut,
    responses=WRITE_ERRORS,
    summary="Set findings by path",
    description='Body: `{"bone_marrow.cd25": true, "labs.baseline_tryptase_ng_ml": 50.9}`; null sets a finding to unknown.',
)
def update_findings(request: Request, principal: ApiWriter, key: PatientKey, changes: JsonObject, reason: Reason = None) -> VersionOut:
    version = service.update_findings(get_store(request), key, changes, actor=principal.actor, reason=reason)
    return VersionOut(version=version)


@router.get("/{key}/history", response_model=list[ChangeOut], responses=READ_ERRORS, summary="Every change, oldest first")
def history(request: Request, principal: ApiReader, key: PatientKey) -> list[ChangeOut]:
    changes = service.patient_history(get_store(request), key, actor=principal.actor)
    return [ChangeOut(**{**vars(c), "edits": [vars(e) for e in c.edits]}) for c in changes]


def _list_route(kind: str, attribute: str) -> None:
    def list_items(request: Request, principal: ApiReader, key: PatientKey) -> list[ItemOut]:
        return _items(getattr(service.show_patient(get_store(request), key, actor=principal.actor), attribute))

    def add_item(request: Request, principal: ApiWriter, key: PatientKey, document: JsonObject, reason: Reason = None) -> RecordWritten:
        record_id = ITEM_ADDERS[kind](get_store(request), key, document, actor=principal.actor, reason=reason)
        return RecordWritten(record_id=record_id)

    router.add_api_route(
        f"/{{key}}/{kind}", list_items, methods=["GET"], response_model=list[ItemOut], responses=READ_ERRORS,
        summary=f"List {kind.replace('-', ' ')}", name=f"list_{attribute}",
    )
    router.add_api_route(
        f"/{{key}}/{kind}", add_item, methods=["POST"], status_code=201, response_model=RecordWritten,
        responses=WRITE_ERRORS, summary=f"Add one of the {kind.replace('-', ' ')}", name=f"add_{attribute}",
        openapi_extra=json_body(ITEM_COMPONENTS[kind], f"fields as in mastcds-case/1 `{attribute}`"),
    )


for _kind, _attribute in (("episodes", "episodes"), ("lab-results", "lab_results"), ("treatments", "treatments")):
    _list_route(_kind, _attribute)


@router.patch(
    "/{key}/records/{record_id}",
    response_model=VersionOut,
    responses=WRITE_ERRORS,
    summary="Correct fields of an episode, lab result or treatment (null = unknown)",
)
def correct_record(
    request: Request, principal: ApiWriter, key: PatientKey, record_id: RecordId, changes: JsonObject, reason: Reason = None
) -> VersionOut:
    version = service.correct_record(get_store(request), key, record_id, changes, actor=principal.actor, reason=reason)
    return VersionOut(version=version)


@router.delete(
    "/{key}/records/{record_id}",
    response_model=VersionOut,
    responses=WRITE_ERRORS,
    summary="Withdraw an episode, lab result or treatment (its history stays)",
)
def delete_record(request: Request, principal: ApiWriter, key: PatientKey, record_id: RecordId, reason: Reason = None) -> VersionOut:
    return VersionOut(version=service.delete_record(get_store(request), key, record_id, actor=principal.actor, reason=reason))


@router.post(
    "/{key}/evaluations",
    status_code=201,
    response_model=EvaluationOut,
    responses=WRITE_ERRORS,
    summary="Evaluate the current record and store the evaluation with the case it read",
)
def run_evaluation(request: Request, principal: ApiWriter, key: PatientKey) -> dict[str, Any]:
    stored = service.run_evaluation(get_store(request), key, actor=principal.actor)
    return {**evaluation_summary(stored), **_evaluation_body(stored)}


def _evaluation_body(stored: StoredEvaluation) -> dict[str, Any]:
    return {"editions": stored.editions, "case_document": stored.case_document, "result": stored.result}


@router.get(
    "/{key}/evaluations", response_model=list[EvaluationSummaryOut], responses=READ_ERRORS, summary="Stored evaluations, oldest first"
)
def list_evaluations(request: Request, principal: ApiReader, key: PatientKey) -> list[dict[str, Any]]:
    return [evaluation_summary(e) for e in service.list_evaluations(get_store(request), key, actor=principal.actor)]


@router.get(
    "/{key}/evaluations/{evaluation_id}", response_model=EvaluationOut, responses=READ_ERRORS, summary="A stored evaluation as it was given"
)
def get_evaluation(
    request: Request, principal: ApiReader, key: PatientKey, evaluation_id: Annotated[int, Path(ge=1, le=2**31 - 1)]
) -> dict[str, Any]:
    stored = service.get_evaluation(get_store(request), evaluation_id, actor=principal.actor)
    if stored.patient_key != key:
        raise EvaluationNotFound.one("evaluation", evaluation_id, "this patient has no stored evaluation with this id")
    return {**evaluation_summary(stored), **_evaluation_body(stored)}


@router.get(
    "/{key}/timeline",
    responses={**READ_ERRORS, 200: {"content": {"image/svg+xml": {}, "image/png": {}}, "description": "the timeline figure"}},
    response_class=Response,
    summary="The timeline figure (episodes, tryptase, treatments) of the current record",
)
def timeline(
    request: Request,
    principal: ApiReader,
    key: PatientKey,
    format: Annotated[Literal["svg", "png"], Query(description="image format")] = "svg",
) -> Response:
    body, media_type = figures.timeline_image(get_store(request), key, principal.actor, format)
    return Response(body, media_type=media_type)


@router.get(
    "/{key}/report",
    responses={**READ_ERRORS, 200: {"content": {"text/html": {}, "application/pdf": {}}, "description": "the case report"}},
    response_class=HTMLResponse,
    summary="The case report of the current record",
)
def report(
    request: Request,
    principal: ApiReader,
    key: PatientKey,
    format: Annotated[Literal["html", "pdf"], Query(description="HTML page or printable PDF")] = "pdf",
) -> Response:
    body, media_type, filename = figures.report_file(get_store(request), key, principal.actor, format)
    return Response(body, media_type=media_type, headers={"Content-Disposition": f'attachment; filename="{filename}"'})
