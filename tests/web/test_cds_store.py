"""The CDS Hooks service's state in the database: replay entries and card links shared by workers, written in batches.

On SQLite and on PostgreSQL (the ``store`` fixture). Two :class:`CdsStore`
objects on one database stand for two worker processes here;
test_cds_hooks_workers.py runs two real ones.
"""

from __future__ import annotations

import asyncio
import sqlite3
import threading
import time
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.engine import make_url

from mastcds.store import cds as tables
from mastcds.store.database import Store
from mastcds.web import cds_store
from mastcds.web.cds_store import CdsStore, new_link, replay_key


def run(coroutine: Any) -> Any:
    return asyncio.run(coroutine)


def link(expires: float) -> tuple[str, dict[str, Any]]:
    """A new link's URL token and its row."""
    token, key, secret_digest = new_link(expires)
    return token, {"key": key, "secret_digest": secret_digest, "created": time.time(), "issuer": "https://ehr.example.org/",
                   "ehr_user": "Practitioner/1", "fhir_patient": "p1", "case_document": '{"patient": {}}'}


def test_a_token_is_new_once_whichever_worker_sees_it(store: Store) -> None:
    first, second = CdsStore(store), CdsStore(store)
    key = replay_key("iss", "a", time.time() + 600)
    assert run(first.record_call(key)) is True
    assert run(second.record_call(key)) is False
    assert run(first.record_call(key)) is False


def test_the_links_of_a_replayed_call_are_not_stored(store: Store) -> None:
    shared = CdsStore(store)
    key, later = replay_key("iss", "b", time.time() + 600), time.time() + 600
    (kept, row), (dropped, replayed_row) = link(later), link(later)
    assert run(shared.record_call(key, [row])) is True
    assert run(shared.record_call(key, [replayed_row])) is False
    assert shared.link(kept) is not None and shared.link(dropped) is None
    sandbox, sandbox_row = link(later)
    assert run(shared.record_call(None, [sandbox_row])) is True and shared.link(sandbox) is not None


def test_the_same_token_twice_in_one_batch_is_new_once(store: Store) -> None:
    async def both() -> list[bool]:
        shared = CdsStore(store)
        key = replay_key("iss", "twice", time.time() + 600)
        return await asyncio.gather(shared.record_call(key), shared.record_call(key))
    assert sorted(run(both())) == [False, True]


def test_calls_of_one_turn_of_the_event_loop_share_one_transaction(store: Store, monkeypatch: Any) -> None:
    statements: list[int] = []
    recorded = tables.BatchWriter.write

    def counting(self: Any, calls: Any, prune_before: Any) -> list[bool]:
        statements.append(len(calls))
        return recorded(self, calls, prune_before)

    monkeypatch.setattr(tables.BatchWriter, "write", counting)

    async def many() -> list[bool]:
        shared = CdsStore(store)
        later = time.time() + 600
        return await asyncio.gather(*(shared.record_call(replay_key("iss", str(n), later)) for n in range(1200)))

    assert all(run(many())) and statements == [1200]


def test_a_link_opens_only_with_its_secret_and_until_it_expires(store: Store) -> None:
    shared = CdsStore(store)
    token, row = link(time.time() + 60)
    run(shared.record_call(None, [row]))
    found = CdsStore(store).link(token)  # any worker
    assert found is not None and (found.fhir_patient, found.ehr_user) == ("p1", "Practitioner/1")
    key, secret = token.split(".")
    assert shared.link(f"{key}.{'A' * 43}") is None  # the right row, the wrong secret
    assert shared.link(key) is None and shared.link("not a token") is None
    past, old_row = link(time.time() - 1)
    run(shared.record_call(None, [old_row]))
    assert shared.link(past) is None


def test_expired_entries_and_links_are_pruned(store: Store, monkeypatch: Any) -> None:
    shared = CdsStore(store)
    _, old_row = link(time.time() - 1)
    run(shared.record_call(replay_key("iss", "old", time.time() - 1), [old_row]))
    monkeypatch.setattr(shared, "_next_prune", 0.0)
    run(shared.record_call(replay_key("iss", "new", time.time() + 600)))  # this batch prunes
    with store.reading() as session:
        assert session.scalar(select(func.count()).select_from(tables.CdsReplay)) == 1
        assert session.scalar(select(func.count()).select_from(tables.CdsLink)) == 0


def test_expired_links_are_deleted_while_the_server_runs_without_calls(store: Store, monkeypatch: Any) -> None:
    monkeypatch.setattr(cds_store, "PRUNE_EVERY_SECONDS", 0.2)
    shared = CdsStore(store)

    async def idle_server() -> int:
        _, row = link(time.time() + 0.5)
        await shared.record_call(None, [row])  # the last call
        await asyncio.sleep(2.0)  # no call comes; the loop runs on
        with store.reading() as session:
            return session.scalar(select(func.count()).select_from(tables.CdsLink))

    assert run(idle_server()) == 0


def test_an_entry_is_kept_until_its_token_expires() -> None:
    assert tables.expiry_prefix(1_700_000_000.2) == "1700000001"  # rounded up: never forgotten early
    assert tables.expiry_prefix(1_700_000_000) == "1700000000"
    assert replay_key("iss", "j", 1_700_000_000.5).startswith("1700000001") and len(replay_key("iss", "j" * 256, 0)) == 74


def test_a_database_failure_reaches_every_caller_of_the_batch(tmp_path: Any) -> None:
    broken = Store(f"sqlite:///{tmp_path / 'gone.db'}")
    with broken.engine.begin() as connection:
        connection.exec_driver_sql("DROP TABLE cds_replay")

    async def both() -> list[Any]:
        shared = CdsStore(broken)
        return await asyncio.gather(*(shared.record_call(replay_key("i", n, time.time())) for n in "ab"),
                                    return_exceptions=True)

    assert [type(r).__name__ for r in run(both())] == ["DatabaseUnavailable", "DatabaseUnavailable"]
    broken.close()


def test_a_worker_waits_for_another_holding_sqlites_write_lock(tmp_path: Any) -> None:
    store = Store(f"sqlite:///{tmp_path / 'locked.db'}")
    other = sqlite3.connect(make_url(store.url).database, isolation_level=None, check_same_thread=False)
    other.execute("BEGIN IMMEDIATE")  # another worker's transaction
    threading.Timer(0.3, lambda: other.execute("COMMIT")).start()
    started = time.monotonic()
    assert run(CdsStore(store).record_call(replay_key("i", "locked", time.time() + 60))) is True
    assert 0.25 < time.monotonic() - started < 5
    other.close()
    store.close()


@pytest.mark.parametrize("rows", [1, 499, 500, 501, 1001])
def test_replay_keys_are_inserted_in_chunks_of_any_size(store: Store, rows: int) -> None:
    writer = tables.BatchWriter(store)
    keys = [replay_key("iss", f"{rows}-{n}", time.time() + 60) for n in range(rows)]
    assert writer.write([(key, []) for key in keys], None) == [True] * rows
    assert writer.write([(key, []) for key in keys[:3]], None) == [False] * min(rows, 3)


def test_the_writer_does_not_wait_for_the_disk_and_the_store_still_does(tmp_path: Any) -> None:
    store = Store(f"sqlite:///{tmp_path / 'sync.db'}")
    writer = tables.BatchWriter(store)
    writer.write([("k", [])], None)
    with writer.engine.connect() as connection:
        assert connection.exec_driver_sql("PRAGMA synchronous").scalar() == 1  # NORMAL
    with store.engine.connect() as connection:
        assert connection.exec_driver_sql("PRAGMA synchronous").scalar() == 2  # FULL, for patient records
    store.close()
