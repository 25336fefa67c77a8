"""The CDS Hooks service's state in the database: replay entries and card links shared by workers, written in batches.

On SQLite and on PostgreSQL (the ``store`` fixture). Two :class:`CdsStore`
objects on one database stand for two worker processes here;
test_cds_hooks_workers.py runs two real ones.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

from sqlalchemy import func, select

from mastcds.store import cds as tables
from mastcds.store.database import Store
from mastcds.web.cds_store import CdsStore, digest


def run(coroutine: Any) -> Any:
    return asyncio.run(coroutine)


def test_a_key_is_new_once_whichever_worker_sees_it(store: Store) -> None:
    first, second = CdsStore(store), CdsStore(store)
    key, later = digest("jti", "iss", "a"), time.time() + 600
    assert run(first.first_use(key, later)) is True
    assert run(second.first_use(key, later)) is False
    assert run(first.first_use(key, later)) is False


def test_the_same_key_twice_in_one_batch_is_new_once(store: Store) -> None:
    async def both() -> list[bool]:
        shared = CdsStore(store)
        key = digest("jti", "iss", "twice")
        return await asyncio.gather(shared.first_use(key, time.time() + 600), shared.first_use(key, time.time() + 600))
    assert sorted(run(both())) == [False, True]


def test_calls_in_flight_share_transactions(store: Store, monkeypatch: Any) -> None:
    statements: list[int] = []
    recorded = tables.first_uses

    def counting(session: Any, entries: Any) -> set[str]:
        statements.append(len(entries))
        return recorded(session, entries)

    monkeypatch.setattr(tables, "first_uses", counting)

    async def many() -> list[bool]:
        shared = CdsStore(store)
        return await asyncio.gather(*(shared.first_use(digest("jti", "iss", str(n)), time.time() + 600) for n in range(200)))

    assert all(run(many()))
    assert sum(statements) == 200 and len(statements) <= 3  # the first call's batch, then all that queued meanwhile


def test_expired_entries_and_links_are_pruned(store: Store, monkeypatch: Any) -> None:
    shared = CdsStore(store)
    past = time.time() - 1
    run(shared.first_use(digest("jti", "iss", "old"), past))
    run(shared.keep_link({"digest": digest("link", "old"), "expires": past, "issuer": None, "ehr_user": None,
                          "fhir_patient": "p1", "case_document": "{}"}))
    assert shared.link(digest("link", "old")) is None  # expired: gone for readers at once
    monkeypatch.setattr(shared, "_next_prune", 0.0)
    run(shared.first_use(digest("jti", "iss", "new"), time.time() + 600))  # the next batch prunes
    with store.reading() as session:
        assert session.scalar(select(func.count()).select_from(tables.CdsReplay)) == 1
        assert session.scalar(select(func.count()).select_from(tables.CdsLink)) == 0


def test_a_link_is_found_by_its_digest_until_it_expires(store: Store) -> None:
    shared = CdsStore(store)
    row = {"digest": digest("link", "t"), "expires": time.time() + 60, "issuer": "https://ehr.example.org/",
           "ehr_user": "Practitioner/1", "fhir_patient": "p1", "case_document": '{"patient": {}}'}
    run(shared.keep_link(row))
    found = CdsStore(store).link(digest("link", "t"))
    assert found is not None and (found.fhir_patient, found.ehr_user, found.case_document) == ("p1", "Practitioner/1",
                                                                                               '{"patient": {}}')


def test_a_database_failure_reaches_every_caller_of_the_batch(tmp_path: Any) -> None:
    broken = Store(f"sqlite:///{tmp_path / 'gone.db'}")
    with broken.engine.begin() as connection:
        connection.exec_driver_sql("DROP TABLE cds_replay")

    async def both() -> list[Any]:
        shared = CdsStore(broken)
        return await asyncio.gather(*(shared.first_use(digest("jti", "i", n), time.time()) for n in "ab"),
                                    return_exceptions=True)

    results = run(both())
    assert [type(r).__name__ for r in results] == ["DatabaseUnavailable", "DatabaseUnavailable"]
    broken.close()

