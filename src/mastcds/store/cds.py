"""What the CDS Hooks service keeps in the database, so that any number of worker processes share it.

* ``cds_replay``: each client JWT's (issuer, ``jti``), as a SHA-256 digest,
  until the token expires; a second use is refused by whichever worker gets it.
* ``cds_links``: the case behind a card's "full evaluation" link, under the
  SHA-256 digest of the link's random token (the database alone gives no
  working link), with the EHR's issuer, user and patient id for the audit
  log, until the link expires. This is patient data, kept for minutes.
* ``cds_feedback``: the EHR's feedback on cards (card and suggestion ids,
  outcome, override reason): no patient data besides what a clinician may
  type into an override comment.

Expiry times are epoch seconds (``float``): the service writes thousands of
rows a second under load, and compares them with ``time.time()``.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Float, String, Text, delete, insert, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Mapped, Session, mapped_column

from mastcds.store.models import Base, utc_now

DIGEST_LENGTH = 64  # hex SHA-256


class CdsReplay(Base):
    """A client JWT already used: its (issuer, jti) digest, kept until the token expires."""

    __tablename__ = "cds_replay"

    digest: Mapped[str] = mapped_column(String(DIGEST_LENGTH), primary_key=True)
    expires: Mapped[float] = mapped_column(Float, index=True)


class CdsLink(Base):
    """The case behind a card link, found by the digest of the link's token."""

    __tablename__ = "cds_links"

    digest: Mapped[str] = mapped_column(String(DIGEST_LENGTH), primary_key=True)
    expires: Mapped[float] = mapped_column(Float, index=True)
    created_at: Mapped[datetime] = mapped_column(default=utc_now)
    issuer: Mapped[str | None] = mapped_column(Text)
    ehr_user: Mapped[str | None] = mapped_column(String(256))
    fhir_patient: Mapped[str] = mapped_column(String(64))
    case_document: Mapped[str] = mapped_column(Text)


class CdsFeedback(Base):
    """One feedback item an EHR sent on a card (CDS Hooks 2.0 "Feedback")."""

    __tablename__ = "cds_feedback"

    id: Mapped[int] = mapped_column(primary_key=True)
    received_at: Mapped[datetime] = mapped_column(default=utc_now, index=True)
    service: Mapped[str] = mapped_column(String(64))
    issuer: Mapped[str | None] = mapped_column(Text)
    card: Mapped[str] = mapped_column(String(128))
    outcome: Mapped[str] = mapped_column(String(16))
    detail: Mapped[dict[str, Any]] = mapped_column(JSON)


def _insert_if_absent(session: Session, table: Any) -> Any:
    """INSERT ... ON CONFLICT DO NOTHING for this session's database (SQLite 3.24+, PostgreSQL 9.5+)."""
    dialect = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
    return dialect.insert(table).on_conflict_do_nothing()


def first_uses(session: Session, entries: Sequence[tuple[str, float]]) -> set[str]:
    """Records each (digest, expiry) not seen before; the digests that were new (one statement for all)."""
    if not entries:
        return set()
    statement = _insert_if_absent(session, CdsReplay).returning(CdsReplay.digest)
    rows = [{"digest": digest, "expires": expires} for digest, expires in entries]
    return set(session.scalars(statement.values(rows)))


def add_links(session: Session, links: Iterable[dict[str, Any]]) -> None:
    rows = list(links)
    if rows:
        session.execute(insert(CdsLink), rows)


def find_link(session: Session, digest: str, now: float) -> CdsLink | None:
    """The link with this digest, unless it expired."""
    return session.scalars(select(CdsLink).where(CdsLink.digest == digest, CdsLink.expires >= now)).first()


def add_feedback(session: Session, items: Iterable[dict[str, Any]]) -> None:
    rows = list(items)
    if rows:
        session.execute(insert(CdsFeedback), rows)


def prune(session: Session, now: float) -> None:
    """Forget replay entries of expired tokens and the cases of expired links."""
    session.execute(delete(CdsReplay).where(CdsReplay.expires < now))
    session.execute(delete(CdsLink).where(CdsLink.expires < now))
