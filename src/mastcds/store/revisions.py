"""Reading a patient's record at any version and writing the revisions of one change.

Internal to :mod:`mastcds.store`: callers go through :mod:`mastcds.store.service`,
which owns transactions and the audit log. A write always goes the same way:
lock the patient and open a numbered change (:func:`begin_change`), build the
record as it should become (:class:`Draft`), check the whole case with
:func:`mastcds.case.load_case`, then write a revision for each record that
differs (:func:`commit_draft`). Nothing that the case schema rejects is stored.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from mastcds.case import CASE_SCHEMA_ID, Case, CaseError, Problem, load_case
from mastcds.store.errors import InvalidRecord, PatientNotFound
from mastcds.store.models import REVISION_MODELS, Change, Patient, Record
from mastcds.units import LAB_SPECS, to_canonical
from mastcds.store.views import Edit, Item

FINDINGS = "findings"
IDENTIFIER = "identifier"
# Case document list field -> record kind; list order is the order records were created.
LIST_KINDS = {"episodes": "episode", "lab_results": "lab_result", "treatments": "treatment"}
KIND_LISTS = {kind: name for name, kind in LIST_KINDS.items()}
_MANAGED = ("schema", "id")
_FIELD_ORDER = [info.alias or name for name, info in Case.model_fields.items()]


def find_patient(session: Session, key: str, *, lock: bool = False) -> Patient:
    statement = select(Patient).where(Patient.key == key)
    if lock:
        statement = statement.with_for_update()
    patient = session.scalars(statement).one_or_none()
    if patient is None:
        raise PatientNotFound.one("patient", key, "no patient with this key (see `mastcds patient list`)")
    return patient


def begin_change(
    session: Session, patient: Patient, *, actor: str, action: str, summary: str, reason: str | None
) -> Change:
    """Number the next change; the caller holds the patient row (locked, or just created)."""
    patient.version += 1
    change = Change(
        patient_id=patient.id,
        version=patient.version,
        actor=actor,
        action=action,
        summary=summary[:200],
        reason=reason,
    )
    session.add(change)
    session.flush()
    return change


@dataclass
class State:
    """A patient's record at one version: the findings document and the items of each kind."""

    key: str
    findings: Item | None
    items: dict[str, list[Item]]

    def case_document(self) -> dict[str, Any]:
        document: dict[str, Any] = {"schema": CASE_SCHEMA_ID, "id": self.key}
        document.update(self.findings.document if self.findings else {"patient": {}})
        for name, kind in LIST_KINDS.items():
            document[name] = [item.document for item in self.items[kind]]
        return _ordered(document)


def _ordered(document: dict[str, Any]) -> dict[str, Any]:
    rank = {name: i for i, name in enumerate(_FIELD_ORDER)}
    return dict(sorted(document.items(), key=lambda pair: rank.get(pair[0], len(rank))))


def _revision_rows(session: Session, patient: Patient, kind: str, version: int | None) -> list[Any]:
    model = REVISION_MODELS[kind]
    statement = (
        select(model, Change.version)
        .join(Record, model.record_id == Record.id)
        .join(Change, model.change_id == Change.id)
        .where(Record.patient_id == patient.id, Record.kind == kind)
        .order_by(model.record_id, Change.version)
    )
    if version is not None:
        statement = statement.where(Change.version <= version)
    return list(session.execute(statement))


def load_state(session: Session, patient: Patient, version: int | None = None) -> State:
    """The record as of change ``version`` (the latest when ``None``)."""
    items: dict[str, list[Item]] = {}
    for kind in REVISION_MODELS:
        latest: dict[int, Any] = {}
        for revision, _ in _revision_rows(session, patient, kind, version):
            latest[revision.record_id] = revision  # rows come in version order: the last one wins
        items[kind] = [
            Item(record_id, kind, revision.document)
            for record_id, revision in sorted(latest.items())
            if not revision.deleted
        ]
    findings = items.pop(FINDINGS)
    return State(patient.key, findings[0] if findings else None, items)


@dataclass
class Draft:
    """The record as a change wants it; ``None`` as record id marks a new item."""

    key: str
    findings: dict[str, Any]
    items: dict[str, list[tuple[int | None, dict[str, Any]]]] = field(default_factory=dict)

    @classmethod
    def from_state(cls, state: State) -> "Draft":
        findings = dict(state.findings.document) if state.findings else {"patient": {}}
        return cls(
            state.key,
            findings,
            {kind: [(item.record_id, dict(item.document)) for item in state.items[kind]] for kind in state.items},
        )

    @classmethod
    def from_document(cls, key: str, document: dict[str, Any], state: State | None) -> "Draft":
        """A whole case document as the new record; items keep record ids by position."""
        findings = {k: v for k, v in document.items() if k not in _MANAGED and k not in LIST_KINDS}
        items: dict[str, list[tuple[int | None, dict[str, Any]]]] = {}
        for name, kind in LIST_KINDS.items():
            old = state.items[kind] if state else []
            items[kind] = [
                (old[i].record_id if i < len(old) else None, dict(item))
                for i, item in enumerate(document.get(name, []))
            ]
        items[IDENTIFIER] = [(item.record_id, item.document) for item in state.items[IDENTIFIER]] if state else []
        return cls(key, findings, items)

    def index_of(self, kind: str, record_id: int) -> int | None:
        for i, (rid, _) in enumerate(self.items[kind]):
            if rid == record_id:
                return i
        return None

    def case_document(self) -> dict[str, Any]:
        document: dict[str, Any] = {"schema": CASE_SCHEMA_ID, "id": self.key, **self.findings}
        for name, kind in LIST_KINDS.items():
            document[name] = [doc for _, doc in self.items[kind]]
        return document

    def checked(self) -> Case:
        """The case this draft describes, or :class:`InvalidRecord` naming items by record id."""
        try:
            case = load_case(self.case_document())
        except CaseError as error:
            raise InvalidRecord([self._relabel(p) for p in error.problems]) from None
        normal = case.to_document()
        self.findings = {k: v for k, v in normal.items() if k not in _MANAGED and k not in LIST_KINDS}
        for name, kind in LIST_KINDS.items():
            self.items[kind] = [(rid, doc) for (rid, _), doc in zip(self.items[kind], normal.get(name, []))]
        return case

    def _relabel(self, problem: Problem) -> Problem:
        # "lab_results[3].unit" means nothing to a user who typed one lab: say
        # "lab_result.unit" for the new item and "lab_result#17.unit" for stored ones.
        match = re.match(r"^(episodes|lab_results|treatments)\[(\d+)\](.*)$", problem.path)
        if not match:
            return problem
        kind = LIST_KINDS[match.group(1)]
        index = int(match.group(2))
        entries = self.items[kind]
        record_id = entries[index][0] if index < len(entries) else None
        label = kind if record_id is None else f"{kind}#{record_id}"
        return Problem(label + match.group(3), problem.value, problem.message)


def _typed_columns(kind: str, document: dict[str, Any]) -> dict[str, Any]:
    if kind == "episode":
        return {"episode_key": document.get("id"), "date": document.get("date"), "trigger": document.get("trigger")}
    if kind == "lab_result":
        return {
            "test": document["test"],
            "value": document["value"],
            "unit": document["unit"],
            "canonical_value": to_canonical(document["test"], document["value"], document["unit"]),
            "canonical_unit": LAB_SPECS[document["test"]].canonical,
            "date": document["date"],
            "context": document.get("context"),
            "episode_key": document.get("episode_id"),
        }
    if kind == "treatment":
        return {name: document.get(name) for name in ("drug", "dose_mg", "interval", "start_date", "end_date", "indication")}
    if kind == IDENTIFIER:
        return {"system": document["system"], "value": document["value"]}
    return {}


def write_revision(
    session: Session, change: Change, kind: str, record_id: int, document: dict[str, Any], *, deleted: bool = False
) -> None:
    model = REVISION_MODELS[kind]
    session.add(
        model(record_id=record_id, change_id=change.id, deleted=deleted, document=document, **_typed_columns(kind, document))
    )


def new_record(session: Session, patient: Patient, kind: str) -> int:
    record = Record(patient_id=patient.id, kind=kind)
    session.add(record)
    session.flush()
    return record.id


def commit_draft(
    session: Session, patient: Patient, change: Change, state: State | None, draft: Draft
) -> dict[str, list[int]]:
    """Write what differs between ``state`` and the checked ``draft``; the record ids in draft order."""
    if state is None or state.findings is None:
        write_revision(session, change, FINDINGS, new_record(session, patient, FINDINGS), draft.findings)
    elif state.findings.document != draft.findings:
        write_revision(session, change, FINDINGS, state.findings.record_id, draft.findings)
    ids: dict[str, list[int]] = {}
    for kind, entries in draft.items.items():
        old = {item.record_id: item for item in (state.items[kind] if state else [])}
        ids[kind] = []
        for record_id, document in entries:
            if record_id is None:
                record_id = new_record(session, patient, kind)
                write_revision(session, change, kind, record_id, document)
            elif old.pop(record_id).document != document:
                write_revision(session, change, kind, record_id, document)
            ids[kind].append(record_id)
        for item in old.values():
            write_revision(session, change, kind, item.record_id, item.document, deleted=True)
    return ids


def _flatten(document: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    flat: dict[str, Any] = {}
    for key, value in document.items():
        path = f"{prefix}.{key}" if prefix else key
        if isinstance(value, dict) and value:
            flat.update(_flatten(value, path))
        else:
            flat[path] = value
    return flat


_MISSING = object()


def edits_between(
    record_id: int, kind: str, before: dict[str, Any] | None, after: dict[str, Any] | None, *, deleted: bool
) -> list[Edit]:
    """Field-level differences of one record between two revisions."""
    if before is None:
        return [Edit(record_id, kind, path, None, value, created=True) for path, value in _flatten(after or {}).items()]
    if deleted:
        return [Edit(record_id, kind, path, value, None, deleted=True) for path, value in _flatten(before).items()]
    old, new = _flatten(before), _flatten(after or {})
    edits = []
    for path in [*old, *(p for p in new if p not in old)]:
        was, now = old.get(path, _MISSING), new.get(path, _MISSING)
        if was != now:
            edits.append(
                Edit(record_id, kind, path, None if was is _MISSING else was, None if now is _MISSING else now)
            )
    return edits


def history_edits(session: Session, patient: Patient) -> dict[int, list[Edit]]:
    """Every change's field-level edits, by change version."""
    edits: dict[int, list[Edit]] = {}
    for kind in REVISION_MODELS:
        previous: dict[int, dict[str, Any]] = {}
        for revision, version in _revision_rows(session, patient, kind, None):
            before = previous.get(revision.record_id)
            edits.setdefault(version, []).extend(
                edits_between(revision.record_id, kind, before, revision.document, deleted=revision.deleted)
            )
            previous[revision.record_id] = revision.document
    return edits
