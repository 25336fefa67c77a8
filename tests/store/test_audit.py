"""Every read and write leaves an audit entry naming who, what and which patient, never patient data."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from mastcds.store import registry, service
from mastcds.store.audit import AUDIT_ACTIONS, audit_entries, log_access, record_access
from mastcds.store.database import Store

SEED = json.loads((Path(__file__).resolve().parents[2] / "examples" / "seed-case.json").read_text())
SECRETS = ["MRN-991-SECRET", "wasp sting at the lake", "123.456", "Dr. Private Note", "seed-case report"]


def fake_engine(case: dict) -> dict:
    return {"engine_version": "t", "editions": {}, "guidelines": {}}


def test_each_operation_is_audited_with_its_action(store: Store, tmp_path: Path) -> None:
    steps = [
        ("create", "p1", lambda: service.import_case(store, {**SEED, "notes": SECRETS[3]}, actor="alice", key="p1", identifiers=[("mrn", SECRETS[0])])),
        ("update", "p1", lambda: service.add_episode(store, "p1", {"id": "x", "trigger_detail": SECRETS[1]}, actor="bob")),
        ("update", "p1", lambda: service.add_lab_result(store, "p1", {"test": "tryptase", "value": 123.456, "unit": "ng/mL", "date": "2020"}, actor="bob")),
        ("update", "p1", lambda: service.update_findings(store, "p1", {"notes": SECRETS[4]}, actor="bob")),
        ("read", "p1", lambda: service.show_patient(store, "p1", actor="carol")),
        ("read", "p1", lambda: service.export_case(store, "p1", actor="carol")),
        ("read", "p1", lambda: service.patient_history(store, "p1", actor="carol")),
        ("read", "p1", lambda: service.find_patient_by_identifier(store, "mrn", SECRETS[0], actor="carol")),
        ("read", None, lambda: service.list_patients(store, actor="carol")),
        ("create", "p1", lambda: service.run_evaluation(store, "p1", actor="dave", evaluator=fake_engine)),
        ("read", "p1", lambda: service.list_evaluations(store, "p1", actor="dave")),
        ("read", "p1", lambda: service.get_evaluation(store, 1, actor="dave")),
        ("delete", "p1", lambda: service.delete_record(store, "p1", service.show_patient(store, "p1", actor="erin").lab_results[-1].record_id, actor="erin")),
        ("read", "p1", lambda: registry.export_registry(store, tmp_path / "out", actor="frank", include_identifiers=True)),
    ]
    for action, key, step in steps:
        before = len(audit_entries(store, limit=10_000))
        step()
        entries = audit_entries(store, limit=10_000)
        new = entries[: len(entries) - before]
        assert new, f"no audit entry for a {action}"
        assert (new[0].action, new[0].patient_key) == (action, key)  # latest first
    everything = audit_entries(store, limit=10_000)
    assert {e.actor for e in everything} == {"alice", "bob", "carol", "dave", "erin", "frank"}
    for entry in everything:
        assert not any(secret in entry.detail for secret in SECRETS), entry.detail
    assert audit_entries(store, patient_key="p1", actor="bob", limit=2)[0].detail == "findings set: notes"


def test_refused_writes_leave_no_audit_entry(store: Store) -> None:
    service.create_patient(store, "p1", actor="alice")
    count = len(audit_entries(store))
    with pytest.raises(service.InvalidRecord):
        service.add_lab_result(store, "p1", {"test": "tryptase", "value": 1, "unit": "mol", "date": "2020"}, actor="bob")
    assert len(audit_entries(store)) == count


def test_accesses_from_outside_the_store_can_be_audited(store: Store) -> None:
    record_access(store, actor="web:alice", action="read", detail="record page viewed", patient_key="p9")
    (entry,) = audit_entries(store)
    assert (entry.actor, entry.action, entry.patient_key, entry.detail) == ("web:alice", "read", "p9", "record page viewed")
    with pytest.raises(ValueError, match="audit action must be one of"):
        with store.writing() as session:
            log_access(session, actor="x", action="print", patient_key=None, detail="")  # type: ignore[arg-type]
    assert AUDIT_ACTIONS == ("read", "create", "update", "delete", "export", "login")
