"""Writes that may skip waiting for the disk (``Store.writing(durable=False)``) never weaken the others."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import text

from mastcds.store.database import Store

FULL, NORMAL = 2, 1  # PRAGMA synchronous values


def _synchronous(store: Store, *, durable: bool) -> int:
    with store.writing(durable=durable) as session:
        return session.execute(text("PRAGMA synchronous")).scalar_one()


def test_a_kept_sqlite_connection_is_durable_again_after_a_relaxed_write(tmp_path: Path) -> None:
    Store(str(tmp_path / "r.db")).close()
    kept = Store(str(tmp_path / "r.db"), upgrade=False, keep_connection=True)
    assert [_synchronous(kept, durable=d) for d in (False, True, False, True)] == [NORMAL, FULL, NORMAL, FULL]
    kept.close()


def test_postgresql_relaxes_only_the_one_transaction(store: Store) -> None:
    if store.dialect != "postgresql":
        assert _synchronous(store, durable=True) == FULL
        return
    with store.writing(durable=False) as session:
        assert session.execute(text("SHOW synchronous_commit")).scalar_one() == "off"
    with store.writing() as session:
        assert session.execute(text("SHOW synchronous_commit")).scalar_one() == "on"
