"""The audit log: who read or changed which patient's record, and when.

Every service function writes its entry in the same transaction as the work,
so a write and its audit entry are committed together or not at all. ``detail``
says what was done ("lab_result 17 added", "case exported") and never holds
patient data; the patient is named only by the pseudonymous key.
"""

from __future__ import annotations

from typing import Literal

from sqlalchemy import select
from sqlalchemy.orm import Session

from mastcds.store.database import Store
from mastcds.store.errors import StoreError
from mastcds.store.models import AuditEntry
from mastcds.store.views import AuditRecord

AuditAction = Literal["read", "create", "update", "delete", "export", "login"]
# export: a patient's data left the application as a file (a report, an action plan);
# login: a failed attempt to log in (the user name tried is the actor)
AUDIT_ACTIONS: tuple[str, ...] = ("read", "create", "update", "delete", "export", "login")
MAX_ACTOR_LENGTH = 128
MAX_DETAIL_LENGTH = 200


def checked_actor(actor: str) -> str:
    """The acting user's name, or :class:`StoreError`: every change must say who made it."""
    if not isinstance(actor, str) or not actor.strip():
        raise StoreError.one("user", actor, "the acting user must be named (--user or $MASTCDS_USER)")
    if len(actor.strip()) > MAX_ACTOR_LENGTH or not actor.isprintable():
        raise StoreError.one("user", actor, f"at most {MAX_ACTOR_LENGTH} printable characters")
    return actor.strip()


def log_access(session: Session, *, actor: str, action: AuditAction, patient_key: str | None, detail: str) -> None:
    """Add an audit entry to the caller's transaction."""
    if action not in AUDIT_ACTIONS:
        raise ValueError(f"audit action must be one of {AUDIT_ACTIONS}, got {action!r}")
    session.add(AuditEntry(actor=checked_actor(actor), action=action, patient_key=patient_key, detail=detail[:MAX_DETAIL_LENGTH]))


def record_access(
    store: Store, *, actor: str, action: AuditAction, detail: str, patient_key: str | None = None
) -> None:
    """An audit entry in its own transaction, for accesses made outside this package (the web app)."""
    with store.writing() as session:
        log_access(session, actor=actor, action=action, patient_key=patient_key, detail=detail)


def audit_entries(
    store: Store, *, patient_key: str | None = None, actor: str | None = None, limit: int = 100
) -> list[AuditRecord]:
    """The latest entries first, optionally for one patient or one user."""
    statement = select(AuditEntry).order_by(AuditEntry.id.desc()).limit(limit)
    if patient_key is not None:
        statement = statement.where(AuditEntry.patient_key == patient_key)
    if actor is not None:
        statement = statement.where(AuditEntry.actor == actor)
    with store.reading() as session:
        return [
            AuditRecord(e.id, e.at, e.actor, e.action, e.patient_key, e.detail) for e in session.scalars(statement)
        ]
