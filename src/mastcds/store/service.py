"""The patient-record API: what the command line and the web app call.

Every function is one transaction (all of it is stored, or none of it), names
the acting user (``actor``) and writes an audit entry. Every write is checked
as a whole mastcds-case/1 case, so the store never holds what the case schema
rejects; refusals raise :class:`mastcds.store.errors.StoreError` subclasses
whose ``problems`` name the field, the value and what is accepted. Corrections
never overwrite: each write is a numbered change (who, when, why) and any
earlier version can be read back.

Opening::

    store = open_store(url_or_path_or_None)      # mastcds.store.database; migrates to head

Patients (keys are pseudonyms: letters, digits, '.', '_', '-'; generated when not given)::

    create_patient(store, key=None, *, actor, findings=None, identifiers=None, reason=None) -> str
    import_case(store, document, *, actor, key=None, replace=False, reason=None, identifiers=()) -> str
    export_case(store, key, *, actor, version=None) -> dict          # mastcds-case/1 document
    patient_case(store, key, *, actor, version=None) -> mastcds.case.Case
    list_patients(store, *, actor) -> list[PatientSummary]
    show_patient(store, key, *, actor) -> PatientView
    patient_history(store, key, *, actor) -> list[ChangeView]
    find_patient_by_identifier(store, system, value, *, actor) -> str | None

Changes (each returns the record id it wrote, except update_findings: the new version)::

    update_findings(store, key, changes: {"bone_marrow.cd25": True, ...}, *, actor, reason=None) -> int
    add_episode(store, key, episode: dict, *, actor, reason=None) -> int
    add_lab_result(store, key, lab: dict, *, actor, reason=None) -> int
    add_treatment(store, key, treatment: dict, *, actor, reason=None) -> int
    stop_treatment(store, key, end_date, *, record_id=None, drug=None, actor, reason=None) -> int
    correct_record(store, key, record_id, changes: dict, *, actor, reason=None) -> int
    delete_record(store, key, record_id, *, actor, reason=None) -> int
    add_identifier(store, key, system, value, *, actor, reason=None) -> int

Evaluations (stored with the case they read, engine version and editions)::

    evaluate_patient(store, key, *, actor, evaluator=None) -> dict   # the evaluation-contract object
    run_evaluation(store, key, *, actor, evaluator=None) -> StoredEvaluation
    list_evaluations(store, key, *, actor) -> list[StoredEvaluation]
    get_evaluation(store, evaluation_id, *, actor) -> StoredEvaluation   # exactly as it was given

Whole registries: :mod:`mastcds.store.registry`; the audit log: :mod:`mastcds.store.audit`.
"""

from __future__ import annotations

import hashlib
import json
import secrets
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from mastcds.case import TEXT_MAX_LENGTH, Case, CaseError, Problem, load_case, unstorable_text
from mastcds.store.audit import checked_actor, log_access
from mastcds.store.database import Store
from mastcds.store.errors import (
    EvaluationNotFound,
    IntegrityFailure,
    InvalidRecord,
    PatientExists,
    RecordNotFound,
    StoreError,
)
from mastcds.store.models import REVISION_MODELS, Change, Evaluation, Patient, Record
from mastcds.store.revisions import (
    IDENTIFIER,
    KIND_LISTS,
    LIST_KINDS,
    Draft,
    State,
    begin_change,
    commit_draft,
    find_patient,
    history_edits,
    load_state,
)
from mastcds.store.settings import PATIENT_KEY_PATTERN, PATIENT_KEY_RULE
from mastcds.store.views import ChangeView, PatientSummary, PatientView, StoredEvaluation

Evaluator = Callable[[dict[str, Any]], dict[str, Any]]
IDENTIFIER_SYSTEM_MAX = 64
IDENTIFIER_VALUE_MAX = 128


# ---------------------------------------------------------------- helpers


def _checked_key(key: str) -> str:
    if not isinstance(key, str) or not PATIENT_KEY_PATTERN.match(key):
        raise StoreError.one("key", key, f"not a usable patient key; {PATIENT_KEY_RULE}")
    return key


def new_patient_key() -> str:
    """A random pseudonymous key, for patients entered without one."""
    return "P-" + secrets.token_hex(5).upper()


def _reason(reason: str | None) -> str | None:
    if reason:
        problem = unstorable_text(reason)
        if problem is None and len(reason) > TEXT_MAX_LENGTH:
            problem = f"at most {TEXT_MAX_LENGTH} characters"
        if problem is not None:
            raise StoreError.one("reason", reason, problem)
    return reason.strip() if reason and reason.strip() else None


def _state(session: Session, key: str, *, lock: bool) -> tuple[Patient, State]:
    patient = find_patient(session, key, lock=lock)
    return patient, load_state(session, patient)


def _write(
    session: Session,
    patient: Patient,
    state: State | None,
    draft: Draft,
    *,
    actor: str,
    action: str,
    summary: str,
    reason: str | None,
) -> tuple[Change, dict[str, list[int]]]:
    draft.checked()
    change = begin_change(session, patient, actor=actor, action=action, summary=summary, reason=_reason(reason))
    ids = commit_draft(session, patient, change, state, draft)
    log_access(session, actor=actor, action="create" if action == "create" else "update", patient_key=patient.key, detail=summary)
    return change, ids


def _new_patient(session: Session, key: str) -> Patient:
    if session.scalars(select(Patient.id).where(Patient.key == key)).first() is not None:
        raise PatientExists.one("key", key, "a patient with this key exists already")
    patient = Patient(key=key, version=0)
    session.add(patient)
    try:
        session.flush()
    except IntegrityError:  # created meanwhile by another process; the transaction is rolled back
        raise PatientExists.one("key", key, "a patient with this key exists already") from None
    return patient


def _checked_identifier(system: str, value: str) -> dict[str, str]:
    problems = []
    for name, text, limit in (("identifier.system", system, IDENTIFIER_SYSTEM_MAX), ("identifier.value", value, IDENTIFIER_VALUE_MAX)):
        if not isinstance(text, str) or not text.strip() or len(text) > limit or not text.isprintable():
            problems.append(Problem(name, text, f"expected 1-{limit} printable characters"))
    if problems:
        raise InvalidRecord(problems)
    return {"system": system.strip(), "value": value.strip()}


def _identifier_owner(session: Session, system: str, value: str) -> str | None:
    model = REVISION_MODELS[IDENTIFIER]
    latest = select(func.max(model.id)).group_by(model.record_id).scalar_subquery()
    statement = (
        select(Patient.key)
        .join(Record, Record.patient_id == Patient.id)
        .join(model, model.record_id == Record.id)
        .where(model.id.in_(latest), model.deleted.is_(False), model.system == system, model.value == value)
    )
    return session.scalars(statement).first()


def _add_identifiers(session: Session, patient: Patient, draft: Draft, identifiers: Iterable[tuple[str, str]]) -> None:
    for system, value in identifiers:
        document = _checked_identifier(system, value)
        owner = _identifier_owner(session, document["system"], document["value"])
        if owner is not None or any(doc == document for _, doc in draft.items[IDENTIFIER]):
            raise InvalidRecord.one("identifier", f"{system}={value}", f"already belongs to patient {owner or patient.key}")
        draft.items[IDENTIFIER].append((None, document))


# ---------------------------------------------------------------- patients


def create_patient(
    store: Store,
    key: str | None = None,
    *,
    actor: str,
    findings: Mapping[str, Any] | None = None,
    identifiers: Mapping[str, str] | None = None,
    reason: str | None = None,
) -> str:
    """A new patient with optional findings (``{"patient": {"sex": "male"}, ...}``); returns the key."""
    actor = checked_actor(actor)
    document = {"patient": {}, **dict(findings or {})}
    for name in ("schema", "id", *LIST_KINDS):
        document.pop(name, None)
    return import_case(
        store, document, actor=actor, key=key or new_patient_key(), reason=reason, identifiers=(identifiers or {}).items()
    )


def import_case(
    store: Store,
    document: Any,
    *,
    actor: str,
    key: str | None = None,
    replace: bool = False,
    reason: str | None = None,
    identifiers: Iterable[tuple[str, str]] = (),
) -> str:
    """Store a mastcds-case/1 document as a patient's record; returns the key.

    The key is ``key``, else the document's ``id``, else a new pseudonym; the
    exported document carries the key as its ``id``. With ``replace`` an
    existing record becomes this document (a new version; nothing is lost).
    """
    actor = checked_actor(actor)
    with store.writing() as session:
        return import_into(session, document, actor=actor, key=key, replace=replace, reason=reason, identifiers=identifiers)


def import_into(
    session: Session,
    document: Any,
    *,
    actor: str,
    key: str | None,
    replace: bool,
    reason: str | None,
    identifiers: Iterable[tuple[str, str]] = (),
) -> str:
    """:func:`import_case` inside the caller's transaction (a registry import is one transaction)."""
    try:
        case = load_case(document)
    except CaseError as error:
        raise InvalidRecord(error.problems) from None
    key = _checked_key(key or case.id or new_patient_key())
    existing = session.scalars(select(Patient).where(Patient.key == key).with_for_update()).one_or_none()
    if existing is not None and not replace:
        raise PatientExists.one("key", key, "a patient with this key exists already")
    if existing is None:
        patient, state, action, summary = _new_patient(session, key), None, "create", "patient created"
    else:
        patient, state, action, summary = existing, load_state(session, existing), "update", "case replaced by import"
    draft = Draft.from_document(key, case.to_document(), state)
    _add_identifiers(session, patient, draft, identifiers)
    _write(session, patient, state, draft, actor=actor, action=action, summary=summary, reason=reason)
    return key


def export_case(store: Store, key: str, *, actor: str, version: int | None = None) -> dict[str, Any]:
    """The patient's case document, as it is now or as it was at change ``version``."""
    actor = checked_actor(actor)
    with store.writing() as session:
        patient = find_patient(session, key)
        if version is not None and not 1 <= version <= patient.version:
            raise StoreError.one("version", version, f"this patient has versions 1-{patient.version}")
        document = load_state(session, patient, version).case_document()
        log_access(session, actor=actor, action="read", patient_key=key, detail=f"case exported (version {version or patient.version})")
    return document


def patient_case(store: Store, key: str, *, actor: str, version: int | None = None) -> Case:
    """The patient's :class:`Case` (now, or at change ``version``) for reports and figures."""
    return load_case(export_case(store, key, actor=actor, version=version))


def _counts(session: Session) -> dict[tuple[int, str], int]:
    counts: dict[tuple[int, str], int] = {}
    for kind in LIST_KINDS.values():
        model = REVISION_MODELS[kind]
        latest = select(func.max(model.id)).group_by(model.record_id).scalar_subquery()
        statement = (
            select(Record.patient_id, func.count())
            .join(model, model.record_id == Record.id)
            .where(model.id.in_(latest), model.deleted.is_(False))
            .group_by(Record.patient_id)
        )
        for patient_id, count in session.execute(statement):
            counts[(patient_id, kind)] = count
    return counts


def _updated_at(session: Session, patient: Patient) -> Any:
    return session.scalars(
        select(Change.recorded_at).where(Change.patient_id == patient.id, Change.version == patient.version)
    ).one()


def _evaluation_count(session: Session, patient_id: int | None = None) -> dict[int, int]:
    statement = select(Evaluation.patient_id, func.count()).group_by(Evaluation.patient_id)
    if patient_id is not None:
        statement = statement.where(Evaluation.patient_id == patient_id)
    return {patient_id: count for patient_id, count in session.execute(statement)}


def list_patients(store: Store, *, actor: str) -> list[PatientSummary]:
    """Every patient by key, with counts and the time of the last change."""
    actor = checked_actor(actor)
    with store.writing() as session:
        counts = _counts(session)
        evaluations = _evaluation_count(session)
        rows = session.execute(
            select(Patient, Change.recorded_at)
            .join(Change, (Change.patient_id == Patient.id) & (Change.version == Patient.version))
            .order_by(Patient.key)
        ).all()
        summaries = [
            PatientSummary(
                key=patient.key,
                version=patient.version,
                created_at=patient.created_at,
                updated_at=updated,
                episodes=counts.get((patient.id, "episode"), 0),
                lab_results=counts.get((patient.id, "lab_result"), 0),
                treatments=counts.get((patient.id, "treatment"), 0),
                evaluations=evaluations.get(patient.id, 0),
            )
            for patient, updated in rows
        ]
        log_access(session, actor=actor, action="read", patient_key=None, detail=f"patient list ({len(summaries)} patients)")
    return summaries


def show_patient(store: Store, key: str, *, actor: str) -> PatientView:
    """The current record with the record ids of its items."""
    actor = checked_actor(actor)
    with store.writing() as session:
        patient, state = _state(session, key, lock=False)
        view = PatientView(
            key=patient.key,
            version=patient.version,
            created_at=patient.created_at,
            updated_at=_updated_at(session, patient),
            case=state.case_document(),
            episodes=state.items["episode"],
            lab_results=state.items["lab_result"],
            treatments=state.items["treatment"],
            identifiers=state.items[IDENTIFIER],
            evaluations=_evaluation_count(session, patient.id).get(patient.id, 0),
        )
        log_access(session, actor=actor, action="read", patient_key=key, detail="record shown")
    return view


def patient_history(store: Store, key: str, *, actor: str) -> list[ChangeView]:
    """Every change, oldest first, with the fields it changed (before and after)."""
    actor = checked_actor(actor)
    with store.writing() as session:
        patient = find_patient(session, key)
        edits = history_edits(session, patient)
        changes = session.scalars(select(Change).where(Change.patient_id == patient.id).order_by(Change.version))
        history = [
            ChangeView(c.version, c.recorded_at, c.actor, c.action, c.summary, c.reason, edits.get(c.version, []))
            for c in changes
        ]
        log_access(session, actor=actor, action="read", patient_key=key, detail="history shown")
    return history


def find_patient_by_identifier(store: Store, system: str, value: str, *, actor: str) -> str | None:
    """The key of the patient holding this identifier now, if any."""
    actor = checked_actor(actor)
    with store.writing() as session:
        key = _identifier_owner(session, system, value)
        log_access(session, actor=actor, action="read", patient_key=key, detail="patient looked up by identifier")
    return key


# ---------------------------------------------------------------- changes


def update_findings(
    store: Store, key: str, changes: Mapping[str, Any], *, actor: str, reason: str | None = None
) -> int:
    """Set findings by path (``notes``, ``bone_marrow.cd25``; ``None`` = unknown); returns the new version."""
    actor = checked_actor(actor)
    if not changes:
        raise StoreError.one("changes", {}, "nothing to change")
    with store.writing() as session:
        patient, state = _state(session, key, lock=True)
        draft = Draft.from_state(state)
        for path, value in changes.items():
            _set_path(draft.findings, path, value)
        fields = ", ".join(changes)
        change, _ = _write(session, patient, state, draft, actor=actor, action="update", summary=f"findings set: {fields}", reason=reason)
        return change.version


def _set_path(findings: dict[str, Any], path: str, value: Any) -> None:
    parts = path.split(".")
    if len(parts) > 2 or not all(parts) or parts[0] in ("schema", "id", *LIST_KINDS):
        raise StoreError.one(
            path, value, "expected a findings field as FIELD or SECTION.FIELD (lists have their own commands)"
        )
    if len(parts) == 1:
        findings[parts[0]] = value
        return
    section = findings.get(parts[0])
    section = dict(section) if isinstance(section, dict) else {}
    section[parts[1]] = value
    findings[parts[0]] = section


def _add_item(store: Store, key: str, kind: str, document: Any, *, actor: str, reason: str | None) -> int:
    actor = checked_actor(actor)
    if not isinstance(document, Mapping):
        raise InvalidRecord.one(kind, document, f"a {kind} must be a JSON object")
    with store.writing() as session:
        patient, state = _state(session, key, lock=True)
        draft = Draft.from_state(state)
        draft.items[kind].append((None, dict(document)))
        _, ids = _write(session, patient, state, draft, actor=actor, action="update", summary=f"{kind} added", reason=reason)
        return ids[kind][-1]


def add_episode(store: Store, key: str, episode: Mapping[str, Any], *, actor: str, reason: str | None = None) -> int:
    """Add an anaphylaxis or mediator episode (fields as in mastcds-case/1 ``episodes``)."""
    return _add_item(store, key, "episode", episode, actor=actor, reason=reason)


def add_lab_result(store: Store, key: str, lab: Mapping[str, Any], *, actor: str, reason: str | None = None) -> int:
    """Add a lab result with its unit and date; the unit must convert exactly to the canonical one."""
    return _add_item(store, key, "lab_result", lab, actor=actor, reason=reason)


def add_treatment(store: Store, key: str, treatment: Mapping[str, Any], *, actor: str, reason: str | None = None) -> int:
    """Add a treatment with its start (and, when known, its end)."""
    return _add_item(store, key, "treatment", treatment, actor=actor, reason=reason)


def _item_index(draft: Draft, record_id: int, kinds: tuple[str, ...]) -> tuple[str, int]:
    for kind in kinds:
        index = draft.index_of(kind, record_id)
        if index is not None:
            return kind, index
    names = " or ".join(kinds)
    raise RecordNotFound.one("record", record_id, f"this patient has no current {names} with this record id (see `mastcds patient show`)")


def stop_treatment(
    store: Store,
    key: str,
    end_date: str,
    *,
    record_id: int | None = None,
    drug: str | None = None,
    actor: str,
    reason: str | None = None,
) -> int:
    """Give an ongoing treatment (by record id, or by drug when one is ongoing) its end date."""
    actor = checked_actor(actor)
    if (record_id is None) == (drug is None):
        raise StoreError.one("treatment", record_id or drug, "name the treatment by record id or by drug, not both")
    with store.writing() as session:
        patient, state = _state(session, key, lock=True)
        draft = Draft.from_state(state)
        if record_id is None:
            ongoing = [rid for rid, doc in draft.items["treatment"] if doc.get("drug") == drug and doc.get("end_date") is None]
            if len(ongoing) != 1:
                found = "no ongoing treatment" if not ongoing else f"{len(ongoing)} ongoing treatments (record ids {', '.join(map(str, ongoing))})"
                raise RecordNotFound.one("treatment", drug, f"{found} with this drug; give the record id")
            record_id = ongoing[0]
        _, index = _item_index(draft, record_id, ("treatment",))
        rid, document = draft.items["treatment"][index]
        if document.get("end_date") is not None:
            raise StoreError.one(
                "treatment.end_date", document["end_date"], "this treatment has ended already; use `mastcds record correct` to change the date"
            )
        draft.items["treatment"][index] = (rid, {**document, "end_date": end_date})
        _write(session, patient, state, draft, actor=actor, action="update", summary=f"treatment {record_id} stopped", reason=reason)
        return record_id


def correct_record(
    store: Store, key: str, record_id: int, changes: Mapping[str, Any], *, actor: str, reason: str | None = None
) -> int:
    """Change fields of an episode, lab result or treatment (``None`` = unknown); returns the new version."""
    actor = checked_actor(actor)
    if not changes:
        raise StoreError.one("changes", {}, "nothing to change")
    with store.writing() as session:
        patient, state = _state(session, key, lock=True)
        draft = Draft.from_state(state)
        kind, index = _item_index(draft, record_id, tuple(KIND_LISTS))
        rid, document = draft.items[kind][index]
        draft.items[kind][index] = (rid, {**document, **changes})
        change, _ = _write(
            session, patient, state, draft, actor=actor, action="update", summary=f"{kind} {record_id} corrected", reason=reason
        )
        return change.version


def delete_record(store: Store, key: str, record_id: int, *, actor: str, reason: str | None = None) -> int:
    """Withdraw an episode, lab result, treatment or identifier (its history stays); returns the new version."""
    actor = checked_actor(actor)
    with store.writing() as session:
        patient, state = _state(session, key, lock=True)
        draft = Draft.from_state(state)
        kind, index = _item_index(draft, record_id, (*KIND_LISTS, IDENTIFIER))
        del draft.items[kind][index]
        draft.checked()
        change = begin_change(
            session, patient, actor=actor, action="delete", summary=f"{kind} {record_id} deleted", reason=_reason(reason)
        )
        commit_draft(session, patient, change, state, draft)
        log_access(session, actor=actor, action="delete", patient_key=key, detail=f"{kind} {record_id} deleted")
        return change.version


def add_identifier(store: Store, key: str, system: str, value: str, *, actor: str, reason: str | None = None) -> int:
    """Attach a direct identifier (``mrn``, ``12345``); one patient per identifier."""
    actor = checked_actor(actor)
    with store.writing() as session:
        patient, state = _state(session, key, lock=True)
        draft = Draft.from_state(state)
        _add_identifiers(session, patient, draft, [(system, value)])
        _, ids = _write(session, patient, state, draft, actor=actor, action="update", summary="identifier added", reason=reason)
        return ids[IDENTIFIER][-1]


# ---------------------------------------------------------------- evaluations


def _digest(evaluation: Evaluation) -> str:
    payload = {
        "patient_version": evaluation.patient_version,
        "engine_version": evaluation.engine_version,
        "editions": evaluation.editions,
        "case_document": evaluation.case_document,
        "result": evaluation.result,
    }
    text = json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _stored(evaluation: Evaluation, key: str) -> StoredEvaluation:
    if _digest(evaluation) != evaluation.digest:
        raise IntegrityFailure.one("evaluation", evaluation.id, "stored evaluation does not match its checksum; it was altered")
    return StoredEvaluation(
        id=evaluation.id,
        patient_key=key,
        patient_version=evaluation.patient_version,
        created_at=evaluation.created_at,
        actor=evaluation.actor,
        engine_version=evaluation.engine_version,
        editions=evaluation.editions,
        case_document=evaluation.case_document,
        result=evaluation.result,
    )


def _engine_evaluate(case: dict[str, Any]) -> dict[str, Any]:
    from mastcds import evaluate

    return evaluate(case)


def run_evaluation(store: Store, key: str, *, actor: str, evaluator: Evaluator | None = None) -> StoredEvaluation:
    """Evaluate the current record and store the result with the case it read."""
    actor = checked_actor(actor)
    evaluate = evaluator or _engine_evaluate
    with store.writing() as session:
        patient = find_patient(session, key)
        document = load_state(session, patient).case_document()
        try:
            result = evaluate(document)
        except CaseError as error:
            raise InvalidRecord(error.problems) from None
        from mastcds import __version__

        evaluation = Evaluation(
            patient_id=patient.id,
            patient_version=patient.version,
            actor=actor,
            engine_version=str(result.get("engine_version", __version__)),
            editions=result.get("editions") or {},
            case_document=document,
            result=result,
        )
        evaluation.digest = _digest(evaluation)
        session.add(evaluation)
        session.flush()
        log_access(session, actor=actor, action="create", patient_key=key, detail=f"evaluation {evaluation.id} stored")
        # Hand back what a later read will give, not the in-memory objects.
        session.refresh(evaluation)
        return _stored(evaluation, key)


def evaluate_patient(store: Store, key: str, *, actor: str, evaluator: Evaluator | None = None) -> dict[str, Any]:
    """The evaluation-contract object for the patient's current record, stored as a new evaluation."""
    return run_evaluation(store, key, actor=actor, evaluator=evaluator).result


def list_evaluations(store: Store, key: str, *, actor: str) -> list[StoredEvaluation]:
    """The patient's stored evaluations, oldest first."""
    actor = checked_actor(actor)
    with store.writing() as session:
        patient = find_patient(session, key)
        rows = session.scalars(select(Evaluation).where(Evaluation.patient_id == patient.id).order_by(Evaluation.id))
        evaluations = [_stored(row, key) for row in rows]
        log_access(session, actor=actor, action="read", patient_key=key, detail="evaluations listed")
    return evaluations


def get_evaluation(store: Store, evaluation_id: int, *, actor: str) -> StoredEvaluation:
    """A stored evaluation exactly as it was given (checked against its checksum)."""
    actor = checked_actor(actor)
    with store.writing() as session:
        row = session.execute(
            select(Evaluation, Patient.key).join(Patient, Patient.id == Evaluation.patient_id).where(Evaluation.id == evaluation_id)
        ).one_or_none()
        if row is None:
            raise EvaluationNotFound.one("evaluation", evaluation_id, "no stored evaluation has this id")
        evaluation, key = row
        stored = _stored(evaluation, key)
        log_access(session, actor=actor, action="read", patient_key=key, detail=f"evaluation {evaluation_id} shown")
    return stored


__all__ = [
    "Evaluator",
    "add_episode",
    "add_identifier",
    "add_lab_result",
    "add_treatment",
    "correct_record",
    "create_patient",
    "delete_record",
    "evaluate_patient",
    "export_case",
    "find_patient_by_identifier",
    "get_evaluation",
    "import_case",
    "import_into",
    "list_evaluations",
    "list_patients",
    "new_patient_key",
    "patient_case",
    "patient_history",
    "run_evaluation",
    "show_patient",
    "stop_treatment",
    "update_findings",
]
