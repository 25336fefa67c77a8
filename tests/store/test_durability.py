"""A write that was acknowledged before the process (or the database server) was killed is there afterwards."""

from __future__ import annotations

import os
import signal
import subprocess
from collections.abc import Iterator

import pytest
from sqlalchemy import create_engine, text

from mastcds.store import service
from mastcds.store.database import Store
from tests.store.test_concurrency import start_worker

ACKS_BEFORE_KILL = 5


def acknowledged_rounds(worker: subprocess.Popen[str], wanted: int) -> int:
    """Read the worker's output until it has acknowledged ``wanted`` rounds; the last round acknowledged."""
    assert worker.stdout.readline().strip() == "READY"
    last = 0
    while last < wanted:
        line = worker.stdout.readline()
        assert line, f"worker ended early: {worker.stderr.read()[-2000:]}"
        last = int(line.split()[1])
    return last


def assert_rounds_present(store: Store, rounds: int) -> None:
    case = service.export_case(store, "p1", actor="check")
    episodes = {e["id"] for e in case["episodes"]}
    assert {f"alpha-{i}" for i in range(1, rounds + 1)} <= episodes
    assert len(case["lab_results"]) >= rounds
    assert case["patient"]["weight_kg"] >= rounds
    versions = [c.version for c in service.patient_history(store, "p1", actor="check")]
    assert versions == list(range(1, len(versions) + 1))
    # and the database takes writes again (no lock or half transaction left behind)
    service.add_lab_result(store, "p1", {"test": "tryptase", "value": 1, "unit": "ng/mL", "date": "2021"}, actor="check")


def kill(worker: subprocess.Popen[str]) -> int:
    """SIGKILL the worker (if it is still alive); its exit status."""
    if worker.poll() is None:
        os.kill(worker.pid, signal.SIGKILL)
    worker.wait(timeout=60)
    worker.stdout.close()
    worker.stderr.close()
    return worker.returncode


def test_acknowledged_writes_survive_sigkill_of_the_writer(store: Store) -> None:
    service.create_patient(store, "p1", actor="setup")
    worker = start_worker(store.url, "alpha", "patient.weight_kg", 0)
    rounds = acknowledged_rounds(worker, ACKS_BEFORE_KILL)
    assert kill(worker) == -signal.SIGKILL
    reopened = Store(store.url)
    assert_rounds_present(reopened, rounds)
    if reopened.dialect == "sqlite":
        with reopened.engine.connect() as connection:
            assert connection.exec_driver_sql("PRAGMA integrity_check").scalar() == "ok"
    reopened.close()


@pytest.fixture
def crashable_server() -> Iterator[object]:
    """A PostgreSQL server of its own with production settings (fsync on), to be killed."""
    from tests.conftest import _postgres_missing
    from tests.store.pg_server import PostgresServer, PostgresUnavailable

    if os.environ.get("MASTCDS_TEST_POSTGRES_URL"):
        pytest.skip("a server given by MASTCDS_TEST_POSTGRES_URL is not ours to kill")
    try:
        server = PostgresServer.start(fast=False)
    except PostgresUnavailable as error:
        _postgres_missing(str(error))
    try:
        yield server
    finally:
        server.stop()


@pytest.mark.postgres
def test_acknowledged_writes_survive_sigkill_of_the_postgres_server(crashable_server) -> None:  # type: ignore[no-untyped-def]
    server = crashable_server
    admin = create_engine(server.url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text("CREATE DATABASE records"))
    admin.dispose()
    url = server.url.rsplit("/", 1)[0] + "/records"
    store = Store(url)
    service.create_patient(store, "p1", actor="setup")
    store.close()
    worker = start_worker(url, "alpha", "patient.weight_kg", 0)
    rounds = acknowledged_rounds(worker, ACKS_BEFORE_KILL)
    server.crash()
    kill(worker)  # it may have died already, of the lost connection
    server.start_again(fast=False)
    reopened = Store(url)
    assert_rounds_present(reopened, rounds)
    reopened.close()
