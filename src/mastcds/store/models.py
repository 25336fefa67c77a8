"""The tables of the patient-record database (SQLAlchemy 2 declarative models).

Nothing clinical is ever overwritten. A patient's record is a set of *records*
(the findings, and one per episode, lab result, treatment, identifier); each
record has append-only *revisions*, and every write to a patient is one
numbered *change* (who, when, why). The current record is the latest revision
of each record; the record as it was at change N uses only revisions of changes
up to N. The ``patients.version`` counter is bumped first in every write, which
serialises writers on one patient (a row lock on PostgreSQL, the write lock of
``BEGIN IMMEDIATE`` on SQLite) and gives changes gap-free numbers.

Each revision keeps the exact sub-document it was given (``document``), so an
export reproduces the import, plus typed columns for querying (a lab's test,
value and unit as entered and in the canonical unit, dates, drugs).
"""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    DateTime,
    Float,
    ForeignKey,
    Integer,
    MetaData,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

# Named constraints, so migrations can refer to them on every database.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class UTCDateTime(TypeDecorator[datetime]):
    """Aware UTC datetimes in and out (SQLite would otherwise hand back naive ones)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("store times must be timezone-aware")
        return value.astimezone(timezone.utc)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=timezone.utc)
        return value.astimezone(timezone.utc)


def utc_now() -> datetime:
    return datetime.now(timezone.utc)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map = {datetime: UTCDateTime(), dict[str, Any]: JSON()}


class Patient(Base):
    """A patient, known by a pseudonymous key; identifiers are separate records."""

    __tablename__ = "patients"

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(64), unique=True)
    version: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(default=utc_now)


class Change(Base):
    """One write to one patient's record: number, author, time and reason."""

    __tablename__ = "changes"
    __table_args__ = (UniqueConstraint("patient_id", "version", name="uq_changes_patient_version"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    patient_id: Mapped[int] = mapped_column(ForeignKey("patients.id"), index=True)
    version: Mapped[int] = mapped_column(Integer)
    recorded_at: Mapped[datetime] = mapped_column(default=utc_now)
    actor: Mapped[str] = mapped_column(String(128))
    action: Mapped[str] = mapped_column(String(16))
    summary: Mapped[str] = mapped_column(String(200))
    reason: Mapped[str | None] = mapped_column(Text)


class Record(Base):
    """The identity of one item of a record across its revisions; its id orders lists."""

    __tablename__ = "records"

    id: Mapped[int] = mapped_column(primary_key=True)
    patient_id: Mapped[int] = mapped_column(ForeignKey("patients.id"), index=True)
    kind: Mapped[str] = mapped_column(String(16))


class _Revision:
    id: Mapped[int] = mapped_column(primary_key=True)
    record_id: Mapped[int] = mapped_column(ForeignKey("records.id"), index=True)
    change_id: Mapped[int] = mapped_column(ForeignKey("changes.id"), index=True)
    deleted: Mapped[bool] = mapped_column(Boolean, default=False)
    document: Mapped[dict[str, Any]]


class FindingRevision(_Revision, Base):
    """All findings of the case (every field but the three lists), versioned as one document."""

    __tablename__ = "finding_revisions"


class EpisodeRevision(_Revision, Base):
    __tablename__ = "episode_revisions"

    episode_key: Mapped[str | None] = mapped_column(String(64))
    date: Mapped[str | None] = mapped_column(String(10))
    trigger: Mapped[str | None] = mapped_column(String(32))


class LabResultRevision(_Revision, Base):
    __tablename__ = "lab_result_revisions"

    test: Mapped[str] = mapped_column(String(32))
    value: Mapped[float] = mapped_column(Float)
    unit: Mapped[str] = mapped_column(String(32))
    canonical_value: Mapped[float] = mapped_column(Float)
    canonical_unit: Mapped[str] = mapped_column(String(32))
    date: Mapped[str] = mapped_column(String(10))
    context: Mapped[str | None] = mapped_column(String(16))
    episode_key: Mapped[str | None] = mapped_column(String(64))


class TreatmentRevision(_Revision, Base):
    __tablename__ = "treatment_revisions"

    drug: Mapped[str] = mapped_column(String(128))
    dose_mg: Mapped[float | None] = mapped_column(Float)
    interval: Mapped[str | None] = mapped_column(String(64))
    start_date: Mapped[str] = mapped_column(String(10))
    end_date: Mapped[str | None] = mapped_column(String(10))
    indication: Mapped[str | None] = mapped_column(Text)


class IdentifierRevision(_Revision, Base):
    """A direct identifier (hospital number...); never exported unless asked for."""

    __tablename__ = "identifier_revisions"

    system: Mapped[str] = mapped_column(String(64))
    value: Mapped[str] = mapped_column(String(128))


class Evaluation(Base):
    """An evaluation as it was given: the case it read, the result, engine and editions."""

    __tablename__ = "evaluations"

    id: Mapped[int] = mapped_column(primary_key=True)
    patient_id: Mapped[int] = mapped_column(ForeignKey("patients.id"), index=True)
    patient_version: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(default=utc_now)
    actor: Mapped[str] = mapped_column(String(128))
    engine_version: Mapped[str] = mapped_column(String(32))
    editions: Mapped[dict[str, Any]]
    case_document: Mapped[dict[str, Any]]
    result: Mapped[dict[str, Any]]
    digest: Mapped[str] = mapped_column(String(64))


class AuditEntry(Base):
    """Who read or wrote which patient's record, when; ``detail`` never holds patient data."""

    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(default=utc_now, index=True)
    actor: Mapped[str] = mapped_column(String(128))
    action: Mapped[str] = mapped_column(String(16))
    patient_key: Mapped[str | None] = mapped_column(String(64), index=True)
    detail: Mapped[str] = mapped_column(String(200))


REVISION_MODELS: dict[str, type[_Revision]] = {
    "findings": FindingRevision,
    "episode": EpisodeRevision,
    "lab_result": LabResultRevision,
    "treatment": TreatmentRevision,
    "identifier": IdentifierRevision,
}
