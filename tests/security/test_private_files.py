"""Files holding patient data are their owner's alone, whatever the umask (issue 16, item 13)."""

from __future__ import annotations

import os
import sqlite3
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest

from mastcds.atomic_file import write_atomically
from mastcds.screen.types import WORKLIST_COLUMNS
from mastcds.screen.worklist import write_worklist
from mastcds.store import service
from mastcds.store.database import Store
from mastcds.store.registry import IDENTIFIERS_FILE, export_registry


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.fixture(params=[0o000, 0o022])
def umask(request: pytest.FixtureRequest) -> Iterator[int]:
    previous = os.umask(request.param)
    try:
        yield request.param
    finally:
        os.umask(previous)


def test_a_new_sqlite_database_and_its_wal_and_shm_are_private(tmp_path: Path, umask: int) -> None:
    database = tmp_path / "new" / "records.db"
    store = Store(f"sqlite:///{database}")
    service.create_patient(store, "p1", actor="t")
    reader = sqlite3.connect(database)  # an open connection keeps the -wal and -shm files in place
    try:
        reader.execute("SELECT count(*) FROM patients").fetchone()
        service.create_patient(store, "p2", actor="t")
        files = {path.name: mode(path) for path in database.parent.iterdir()}
    finally:
        reader.close()
        store.close()
    assert files == {"records.db": 0o600, "records.db-wal": 0o600, "records.db-shm": 0o600}
    assert mode(database.parent) == 0o700


def test_a_registry_export_and_its_identifiers_are_private(tmp_path: Path, umask: int) -> None:
    store = Store(f"sqlite:///{tmp_path / 'records.db'}")
    service.create_patient(store, "p1", actor="t", identifiers={"mrn": "123"})
    export_registry(store, tmp_path / "out", actor="t", include_identifiers=True)
    store.close()
    assert mode(tmp_path / "out") == 0o700
    assert {path.name: mode(path) for path in (tmp_path / "out").iterdir()} == {"p1.json": 0o600, IDENTIFIERS_FILE: 0o600}


@pytest.mark.parametrize("suffix", [".csv", ".parquet"])
def test_a_worklist_is_private(tmp_path: Path, umask: int, suffix: str) -> None:
    row = {**{name: "x" for name in WORKLIST_COLUMNS}, "priority": 1, "rule_count": 1}
    out = tmp_path / f"worklist{suffix}"
    write_worklist([row], out)
    assert mode(out) == 0o600


def test_reports_and_single_exports_are_private(tmp_path: Path, umask: int) -> None:
    assert mode(write_atomically(tmp_path / "report.html", "<p>x</p>")) == 0o600
