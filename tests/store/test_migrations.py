"""The schema comes from the shipped migrations, matches the models, and upgrades on start-up."""

from __future__ import annotations

import importlib
import pkgutil
import tomllib
from pathlib import Path

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import inspect, text

import mastcds.store
from mastcds.store.database import Store, migration_config, migrations_directory
from mastcds.store.errors import DatabaseUnavailable
from mastcds.store.models import Base

ROOT = Path(__file__).resolve().parents[2]


def _all_models() -> None:
    # Every module of mastcds.store may declare tables on the shared Base.
    for module in pkgutil.iter_modules(mastcds.store.__path__):
        importlib.import_module(f"mastcds.store.{module.name}")


def test_a_new_database_is_migrated_to_head_on_opening(store: Store) -> None:
    head = ScriptDirectory.from_config(migration_config()).get_current_head()
    assert store.current_revision() == head
    with store.engine.connect() as connection:
        tables = set(inspect(connection).get_table_names())
    assert {"patients", "changes", "records", "finding_revisions", "lab_result_revisions", "evaluations", "audit_log"} <= tables


def test_models_and_migrations_describe_the_same_schema(store: Store) -> None:
    _all_models()
    with store.engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        assert compare_metadata(context, Base.metadata) == []


def test_downgrade_to_empty_and_upgrade_again(store: Store) -> None:
    with store.engine.begin() as connection:
        command.downgrade(migration_config(connection), "base")
    with store.engine.connect() as connection:
        assert set(inspect(connection).get_table_names()) <= {"alembic_version"}
    assert store.current_revision() is None
    store.upgrade()
    assert store.current_revision() == ScriptDirectory.from_config(migration_config()).get_current_head()


def test_opening_twice_is_a_no_op(db_url: str) -> None:
    Store(db_url).close()
    second = Store(db_url)
    assert second.current_revision() is not None
    second.close()


def test_a_schema_newer_than_the_code_is_refused(store: Store) -> None:
    with store.engine.begin() as connection:
        connection.execute(text("UPDATE alembic_version SET version_num = 'zzzz_future'"))
    with pytest.raises(DatabaseUnavailable, match="newer than this mastcds knows"):
        store.upgrade()


def test_sqlite_is_durable_and_waits_for_writers(tmp_path: Path) -> None:
    store = Store(str(tmp_path / "r.db"))
    with store.engine.connect() as connection:
        assert connection.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert connection.exec_driver_sql("PRAGMA synchronous").scalar() == 2  # FULL
        assert connection.exec_driver_sql("PRAGMA busy_timeout").scalar() >= 10_000
        assert connection.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
    store.close()


def test_unsupported_or_unparsable_urls_are_refused() -> None:
    with pytest.raises(DatabaseUnavailable, match="unsupported database"):
        Store("mysql://somewhere/db", upgrade=False)
    with pytest.raises(DatabaseUnavailable, match="not a database URL"):
        Store("postgresql+psycopg://host:notaport/db", upgrade=False)


def test_an_unreachable_server_is_a_clear_error() -> None:
    from tests.store.pg_server import free_port

    with pytest.raises(DatabaseUnavailable) as caught:
        Store(f"postgresql+psycopg://nobody:secret@127.0.0.1:{free_port()}/none")
    assert "secret" not in str(caught.value)
    assert "database error" in str(caught.value)


def test_migrations_are_shipped_as_package_data() -> None:
    patterns = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["package-data"]["mastcds"]
    shipped = Path(migrations_directory())
    files = [p for p in shipped.rglob("*") if p.is_file() and "__pycache__" not in p.parts]
    assert any(p.name == "env.py" for p in files) and any(p.parent.name == "versions" for p in files)
    package = shipped.parent.parent
    for path in files:
        relative = path.relative_to(package)
        assert any(relative.match(pattern) for pattern in patterns), f"{relative} is not package data"
