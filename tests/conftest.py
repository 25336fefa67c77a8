"""Shared fixtures: patient-record databases, the same tests on SQLite and on PostgreSQL.

``db_url`` (and ``store`` on top of it) is parametrised over both databases.
PostgreSQL is ``$MASTCDS_TEST_POSTGRES_URL`` (a URL of a role that may create
databases) or a throwaway server these fixtures start (tests/store/pg_server.py).
Without either, the PostgreSQL cases skip and say why, except under CI
(``$CI`` set), where they fail: CI must test PostgreSQL.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError

POSTGRES_URL_ENV = "MASTCDS_TEST_POSTGRES_URL"


def _postgres_missing(reason: str) -> None:
    if os.environ.get("CI"):
        pytest.fail(f"PostgreSQL is required under CI: {reason}", pytrace=False)
    pytest.skip(f"no PostgreSQL server: {reason}")


@pytest.fixture(scope="session")
def postgres_server_url() -> Iterator[str]:
    """The URL of a PostgreSQL server's maintenance database, for creating test databases."""
    given = os.environ.get(POSTGRES_URL_ENV)
    if given:
        yield given
        return
    from tests.store.pg_server import PostgresServer, PostgresUnavailable

    try:
        server = PostgresServer.start()
    except PostgresUnavailable as error:
        _postgres_missing(str(error))
    try:
        yield server.url
    finally:
        server.stop()


def _admin(url: str):  # type: ignore[no-untyped-def]
    return create_engine(url, isolation_level="AUTOCOMMIT")


def _database_url(server_url: str, name: str) -> str:
    return make_url(server_url).set(database=name).render_as_string(hide_password=False)


@pytest.fixture(scope="session")
def postgres_template(postgres_server_url: str) -> Iterator[str]:
    """A database migrated once, copied for each test (much faster than migrating each time)."""
    from mastcds.store.database import Store

    name = f"mastcds_template_{secrets.token_hex(4)}"
    admin = _admin(postgres_server_url)
    try:
        with admin.connect() as connection:
            connection.execute(text(f'CREATE DATABASE "{name}"'))
    except DBAPIError as error:  # an unreachable server, or a role that may not create databases
        admin.dispose()
        _postgres_missing(f"cannot create a database on {make_url(postgres_server_url).render_as_string()}: {error}")
    Store(_database_url(postgres_server_url, name)).close()
    try:
        yield name
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture
def postgres_url(postgres_server_url: str, postgres_template: str) -> Iterator[str]:
    """A fresh, migrated PostgreSQL database for one test."""
    name = f"mastcds_test_{secrets.token_hex(6)}"
    admin = _admin(postgres_server_url)
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}" TEMPLATE "{postgres_template}" STRATEGY FILE_COPY'))
    try:
        yield _database_url(postgres_server_url, name)
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def db_url(request: pytest.FixtureRequest, tmp_path) -> str:  # type: ignore[no-untyped-def]
    """A fresh patient-record database URL: a SQLite file, or a PostgreSQL database."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'records.db'}"
    return request.getfixturevalue("postgres_url")


@pytest.fixture
def store(db_url: str):  # type: ignore[no-untyped-def]
    """An opened (migrated) store on ``db_url``."""
    from mastcds.store.database import Store

    opened = Store(db_url)
    try:
        yield opened
    finally:
        opened.close()
