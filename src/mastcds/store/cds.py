"""What the CDS Hooks service keeps in the database, so that any number of worker processes share it.

* ``cds_replay``: each client JWT already used, until it expires; a second
  use is refused by whichever worker gets it.
* ``cds_links``: the case behind a card's "full evaluation" link, with the
  EHR's issuer, user and patient id for the audit log, until the link
  expires. This is patient data, kept for minutes. The link's URL holds the
  row's key and a secret of which only a SHA-256 digest is stored: the
  database alone gives no working link.
* ``cds_feedback``: the EHR's feedback on cards (card and suggestion ids,
  outcome, override reason): no patient data besides what a clinician may
  type into an override comment.

The keys of ``cds_replay`` and ``cds_links`` begin with their expiry (epoch
seconds, 10 digits), so that the thousands of rows a second a busy service
writes are appended at the end of their table rather than scattered through
it (a batch then changes a few pages, not one per row), and expired rows are
one range of the primary key to delete.

:class:`BatchWriter` writes replay entries and links: one short transaction
per batch, on a connection of its own, in the driver's own SQL.
"""

from __future__ import annotations

import os
import sqlite3
import threading
import time
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Float, String, Text, event, insert
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Mapped, Session, mapped_column

from mastcds.store.database import Store, make_engine
from mastcds.store.errors import DatabaseUnavailable
from mastcds.store.models import Base, utc_now
from mastcds.store.settings import shown_url

EXPIRY_DIGITS = 10  # epoch seconds: 10 digits until the year 2286
REPLAY_KEY_LENGTH = EXPIRY_DIGITS + 64  # + hex SHA-256 of the token's issuer and jti
LINK_KEY_LENGTH = EXPIRY_DIGITS + 16  # + 16 random hex digits
LINK_COLUMNS = ("key", "secret_digest", "created", "issuer", "ehr_user", "fhir_patient", "case_document")
SQLITE_CHECKPOINT_WAIT_SECONDS = 1.0
# Rows per INSERT statement (SQLite allows 32,766 bound values per statement since 3.32).
_ROWS_PER_STATEMENT = 500


def expiry_prefix(epoch_seconds: float, *, early: bool = False) -> str:
    """The first digits of a key that expires at ``epoch_seconds``: rounded up (a replay entry is never forgotten
    early) or, with ``early``, down (a link may stop working a fraction of a second early, never late)."""
    whole = int(epoch_seconds // 1) if early else -int(-epoch_seconds // 1)
    return f"{whole:0{EXPIRY_DIGITS}d}"


class CdsReplay(Base):
    """A client JWT already used: expiry prefix + SHA-256 of its (issuer, jti)."""

    __tablename__ = "cds_replay"

    key: Mapped[str] = mapped_column(String(REPLAY_KEY_LENGTH), primary_key=True)


class CdsLink(Base):
    """The case behind a card link: found by its key, opened only with the secret whose digest it keeps."""

    __tablename__ = "cds_links"

    key: Mapped[str] = mapped_column(String(LINK_KEY_LENGTH), primary_key=True)
    secret_digest: Mapped[str] = mapped_column(String(64))
    created: Mapped[float] = mapped_column(Float)  # epoch seconds
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


def find_link(session: Session, key: str) -> CdsLink | None:
    return session.get(CdsLink, key)


def add_feedback(session: Session, items: Sequence[dict[str, Any]]) -> None:
    if items:
        session.execute(insert(CdsFeedback), list(items))


class Locked(Exception):
    """SQLite's write lock is held by another connection (another worker): try again shortly."""


def _relaxed_sqlite(dbapi_connection: Any, _record: Any) -> None:
    """After the store's own settings: commits that do not wait for the disk, no sleeping busy handler, and no
    checkpoint on the committing connection (:func:`_checkpoints` does them, off the event loop)."""
    dbapi_connection.execute("PRAGMA synchronous=NORMAL")
    dbapi_connection.execute("PRAGMA busy_timeout=0")
    dbapi_connection.execute("PRAGMA wal_autocheckpoint=0")


# SQLite database files whose WAL this process checkpoints, every CHECKPOINT_EVERY_SECONDS, in one thread.
CHECKPOINT_EVERY_SECONDS = 1.0
_checkpointed: set[str] = set()
_checkpoint_lock = threading.Lock()


def _checkpoints(path: str) -> None:
    """Checkpoints ``path``'s WAL every second from a thread of its own, so that the fsyncs of a checkpoint (tens
    of milliseconds on a busy disk) never hold the event loop; stops once the file is gone."""
    with _checkpoint_lock:
        if path in _checkpointed:
            return
        _checkpointed.add(path)

    def run() -> None:
        while os.path.exists(path):
            time.sleep(CHECKPOINT_EVERY_SECONDS)
            try:
                connection = sqlite3.connect(path, timeout=SQLITE_CHECKPOINT_WAIT_SECONDS)
                try:
                    connection.execute("PRAGMA wal_checkpoint(PASSIVE)")
                finally:
                    connection.close()
            except sqlite3.Error:  # busy or gone: the next round tries again
                pass
        with _checkpoint_lock:
            _checkpointed.discard(path)

    threading.Thread(target=run, name="mastcds-cds-checkpoint", daemon=True).start()


class BatchWriter:
    """Writes a batch of calls' replay keys and link rows in one transaction that does not wait for the disk.

    The rows are worthless minutes later: SQLite commits with
    ``synchronous=NORMAL`` (PostgreSQL ``synchronous_commit=off``), so a killed
    process loses nothing and a power cut at most the last such commits, and
    a commit costs no fsync (4 ms each on the project's VM). The SQLite
    connection stays open (closing the last connection to a WAL database
    checkpoints it: 34 ms). While another worker holds SQLite's write lock the
    batch fails at once with :class:`Locked` instead of sleeping in SQLite's
    busy handler (1, 2, 5, 10... ms), so the caller can serve other calls and
    try again. The statements are the driver's own SQL, prepared before the
    transaction starts, so the write lock is held for a few statements:
    SQLAlchemy's executemany sent the replay rows one at a time (6.6 ms for 50)
    and its session and event machinery more than doubled a call's instructions.
    """

    def __init__(self, store: Store) -> None:
        self.url = store.url
        self.engine = make_engine(store.url, keep_connection=True)
        self.sqlite = self.engine.dialect.name == "sqlite"
        self.driver_error = self.engine.dialect.loaded_dbapi.Error  # sqlite3.Error or psycopg.Error
        if self.sqlite:
            event.listen(self.engine, "connect", _relaxed_sqlite)
            _checkpoints(make_url(store.url).database)
        self.mark = "?" if self.sqlite else "%s"
        self.insert_link = (f"INSERT INTO cds_links ({', '.join(LINK_COLUMNS)}) "
                            f"VALUES ({', '.join([self.mark] * len(LINK_COLUMNS))})")

    def write(self, calls: Sequence[tuple[str | None, Sequence[dict[str, Any]]]], prune_before: str | None) -> list[bool]:
        """Records each call's replay key (None: none to record) and, unless that key was recorded before, stores
        its link rows; per call, whether its key was new. With ``prune_before`` (an :func:`expiry_prefix`), deletes
        the replay entries and links that expired before it. :class:`Locked` when another worker holds SQLite's
        write lock (nothing written), :class:`DatabaseUnavailable` when the database fails."""
        keys = list(dict.fromkeys(key for key, _ in calls if key is not None))
        inserts = [(f"INSERT INTO cds_replay (key) VALUES {', '.join([f'({self.mark})'] * len(chunk))} "
                    "ON CONFLICT DO NOTHING RETURNING key", tuple(chunk))
                   for chunk in (keys[i:i + _ROWS_PER_STATEMENT] for i in range(0, len(keys), _ROWS_PER_STATEMENT))]
        try:
            connection = self.engine.raw_connection()
        except DBAPIError as error:
            raise DatabaseUnavailable.one("database", shown_url(self.url), f"database error: {error.orig}") from None
        try:
            cursor = connection.cursor()
            try:
                cursor.execute("BEGIN IMMEDIATE" if self.sqlite else "SET LOCAL synchronous_commit TO OFF")
            except sqlite3.OperationalError as error:
                if "locked" in str(error) or "busy" in str(error):
                    raise Locked from None
                raise
            new: set[str] = set()
            for statement, parameters in inserts:
                cursor.execute(statement, parameters)
                new.update(row[0] for row in cursor.fetchall())
            firsts, rows = [], []
            for key, links in calls:
                first = key is None or key in new
                new.discard(key)  # the same key twice in one batch: only its first use is new
                firsts.append(first)
                if first:
                    rows += [tuple(link[column] for column in LINK_COLUMNS) for link in links]
            if rows:
                cursor.executemany(self.insert_link, rows)
            if prune_before is not None:
                for table in ("cds_replay", "cds_links"):
                    cursor.execute(f"DELETE FROM {table} WHERE key < {self.mark}", (prune_before,))
            if self.sqlite:
                cursor.execute("COMMIT")
            else:
                connection.commit()
            return firsts
        except self.driver_error as error:
            self._roll_back(connection)
            raise DatabaseUnavailable.one("database", shown_url(self.url), f"database error: {error}") from None
        except Exception:
            self._roll_back(connection)
            raise
        finally:
            connection.close()  # back to its pool (SQLite: the one kept connection stays open)

    def _roll_back(self, connection: Any) -> None:
        try:
            if self.sqlite:
                if connection.driver_connection.in_transaction:
                    connection.driver_connection.execute("ROLLBACK")
            else:
                connection.rollback()
        except self.driver_error:
            pass
