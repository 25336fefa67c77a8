"""Opening the database: engine settings that make writes durable and serialised, and migrations.

SQLite runs in WAL mode with ``synchronous=FULL``: a commit returns only once
the log is on disk, so an acknowledged write survives a killed process or a
power cut (``NORMAL`` may lose the last commits on power loss). Write
transactions start with ``BEGIN IMMEDIATE`` so two writers queue on the
database lock (``busy_timeout``) instead of one failing half-way; reads use a
plain ``BEGIN`` and never block writers. PostgreSQL needs nothing special:
writers lock the patient row they change.

Migrations (Alembic, shipped in ``mastcds/store/migrations``) run when a store
is opened, and with ``mastcds db upgrade``.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from importlib import resources
from pathlib import Path

from typing import TYPE_CHECKING

from sqlalchemy import Engine, create_engine, event, inspect, text
from sqlalchemy.engine import Connection, make_url
from sqlalchemy.exc import ArgumentError, OperationalError
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.pool import NullPool

from mastcds.atomic_file import create_private_file, private_directory
from mastcds.store.errors import DatabaseUnavailable
from mastcds.store.settings import database_url, shown_url

if TYPE_CHECKING:
    from alembic.config import Config

SQLITE_BUSY_TIMEOUT_MS = 60_000
_WRITE_OPTION = "mastcds_write"


def _sqlite_engine(url: str) -> Engine:
    database = make_url(url).database
    if database and database != ":memory:" and not database.startswith("file:"):
        # patient data: a new database is its owner's alone, whatever the umask, and SQLite gives
        # its -wal and -shm files the database file's permissions
        private_directory(Path(database).parent)
        create_private_file(database)
    # One connection per checkout: nothing stays open between operations, so a
    # killed process leaves no pooled state behind and tests can delete files.
    engine = create_engine(url, poolclass=NullPool, connect_args={"timeout": SQLITE_BUSY_TIMEOUT_MS / 1000})

    @event.listens_for(engine, "connect")
    def _configure(dbapi_connection, _record) -> None:  # type: ignore[no-untyped-def]
        # SQLAlchemy emits BEGIN itself (below); the driver's implicit one would
        # start transactions late and make SELECTs non-repeatable.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=FULL")
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _begin(connection: Connection) -> None:
        immediate = connection.get_execution_options().get(_WRITE_OPTION, False)
        connection.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")

    return engine


def make_engine(url: str) -> Engine:
    """An engine for ``url`` with the settings above (SQLite) or the defaults (PostgreSQL)."""
    try:
        parsed = make_url(url)
    except (ArgumentError, ValueError):
        raise DatabaseUnavailable.one("database", shown_url(url), "not a database URL or file path") from None
    if parsed.get_backend_name() == "sqlite":
        return _sqlite_engine(url)
    if parsed.get_backend_name() == "postgresql":
        return create_engine(url, pool_pre_ping=True)
    raise DatabaseUnavailable.one(
        "database", shown_url(url), "unsupported database; use a SQLite file or a postgresql+psycopg:// URL"
    )


def migrations_directory() -> str:
    return str(resources.files("mastcds.store").joinpath("migrations"))


def migration_config(connection: Connection | None = None) -> "Config":
    """Alembic's configuration without an ini file (also for ``command.revision`` when developing)."""
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", migrations_directory())
    config.attributes["connection"] = connection
    return config


class Store:
    """An opened patient-record database: the engine, and sessions for reading and for writing."""

    def __init__(self, url: str | None = None, *, upgrade: bool = True) -> None:
        self.url = database_url(url)
        self.engine = make_engine(self.url)
        self._read = sessionmaker(self.engine, expire_on_commit=False)
        self._write = sessionmaker(
            self.engine.execution_options(**{_WRITE_OPTION: True}), expire_on_commit=False
        )
        if upgrade:
            self.upgrade()

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    def __repr__(self) -> str:
        return f"Store({shown_url(self.url)!r})"

    @contextmanager
    def reading(self) -> Iterator[Session]:
        """A session for reads; it commits at the end (audit rows written alongside are kept)."""
        with self._guard(), self._read.begin() as session:
            yield session

    @contextmanager
    def writing(self) -> Iterator[Session]:
        """One write transaction: all of it is committed at the end, or none of it."""
        with self._guard(), self._write.begin() as session:
            yield session

    @contextmanager
    def _guard(self) -> Iterator[None]:
        try:
            yield
        except OperationalError as error:
            raise DatabaseUnavailable.one(
                "database", shown_url(self.url), f"database error: {error.orig or error}"
            ) from None

    def current_revision(self) -> str | None:
        """The schema's Alembic revision (``None`` for an empty database)."""
        with self._guard(), self.engine.connect() as connection:
            if not inspect(connection).has_table("alembic_version"):
                return None
            return connection.execute(text("SELECT version_num FROM alembic_version")).scalar()

    def upgrade(self) -> None:
        """Bring the schema to this version's head; a no-op when it is there already."""
        from alembic import command
        from alembic.script import ScriptDirectory

        scripts = ScriptDirectory.from_config(migration_config())
        current = self.current_revision()
        if current == scripts.get_current_head():
            return
        if current is not None and current not in {rev.revision for rev in scripts.walk_revisions()}:
            raise DatabaseUnavailable.one(
                "database",
                shown_url(self.url),
                f"schema revision {current} is newer than this mastcds knows; upgrade mastcds",
            )
        with self._guard(), self.engine.execution_options(**{_WRITE_OPTION: True}).begin() as connection:
            command.upgrade(migration_config(connection), "head")

    def close(self) -> None:
        self.engine.dispose()


def open_store(url: str | None = None) -> Store:
    """The store at ``url`` (see :func:`mastcds.store.settings.database_url`), migrated to head."""
    return Store(url)
