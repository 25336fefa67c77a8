"""What the store hands back: plain frozen values, detached from any database session."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any


@dataclass(frozen=True)
class Item:
    """One episode, lab result, treatment or identifier, with the record id that names it."""

    record_id: int
    kind: str
    document: dict[str, Any]


@dataclass(frozen=True)
class PatientSummary:
    key: str
    version: int
    created_at: datetime
    updated_at: datetime
    episodes: int
    lab_results: int
    treatments: int
    evaluations: int


@dataclass(frozen=True)
class PatientView:
    """The current record: the case document plus the record ids needed to correct items."""

    key: str
    version: int
    created_at: datetime
    updated_at: datetime
    case: dict[str, Any]
    episodes: list[Item]
    lab_results: list[Item]
    treatments: list[Item]
    identifiers: list[Item]
    evaluations: int


@dataclass(frozen=True)
class Edit:
    """One field of one record before and after a change (``None`` side: created or deleted)."""

    record_id: int
    kind: str
    path: str
    before: Any
    after: Any
    created: bool = False
    deleted: bool = False


@dataclass(frozen=True)
class ChangeView:
    """One numbered change to a patient's record: who, when, why, and what it changed."""

    version: int
    recorded_at: datetime
    actor: str
    action: str
    summary: str
    reason: str | None
    edits: list[Edit] = field(default_factory=list)


@dataclass(frozen=True)
class StoredEvaluation:
    """An evaluation exactly as it was given, with the case it read (at ``patient_version``)."""

    id: int
    patient_key: str
    patient_version: int
    created_at: datetime
    actor: str
    engine_version: str
    editions: dict[str, Any]
    case_document: dict[str, Any]
    result: dict[str, Any]


@dataclass(frozen=True)
class AuditRecord:
    id: int
    at: datetime
    actor: str
    action: str
    patient_key: str | None
    detail: str
