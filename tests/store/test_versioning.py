"""Corrections never overwrite: earlier values, authors, times and reasons stay, and any version reads back."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text

from mastcds.store import service
from mastcds.store.database import Store
from mastcds.store.errors import IntegrityFailure, RecordNotFound, StoreError

SEED = json.loads((Path(__file__).resolve().parents[2] / "examples" / "seed-case.json").read_text())
TRYPTASE = {"test": "tryptase", "value": 20.5, "unit": "ug/L", "date": "2013-02", "context": "baseline"}


@pytest.fixture
def seeded(store: Store) -> Store:
    service.import_case(store, SEED, actor="alice", reason="first visit")
    return store


KEY = SEED["id"]


def test_a_finding_correction_keeps_the_earlier_value_and_who_changed_it(seeded: Store) -> None:
    version = service.update_findings(seeded, KEY, {"bone_marrow.cd25": True, "patient.weight_kg": 104}, actor="bob", reason="flow cytometry report")
    assert version == 2
    now = service.export_case(seeded, KEY, actor="x")
    assert now["bone_marrow"]["cd25"] is True and now["patient"]["weight_kg"] == 104
    before = service.export_case(seeded, KEY, actor="x", version=1)
    assert before == SEED
    history = service.patient_history(seeded, KEY, actor="x")
    assert [(c.version, c.actor, c.action, c.reason) for c in history] == [
        (1, "alice", "create", "first visit"),
        (2, "bob", "update", "flow cytometry report"),
    ]
    edits = {(e.path, e.before, e.after) for e in history[1].edits}
    assert edits == {("bone_marrow.cd25", None, True), ("patient.weight_kg", 106, 104)}
    assert history[0].recorded_at <= history[1].recorded_at and history[1].recorded_at.tzinfo is not None


def test_item_corrections_and_withdrawals_keep_history(seeded: Store) -> None:
    lab = service.add_lab_result(seeded, KEY, TRYPTASE, actor="carol")
    service.correct_record(seeded, KEY, lab, {"value": 25.0}, actor="dave", reason="transcription error")
    labs = service.export_case(seeded, KEY, actor="x")["lab_results"]
    assert labs[-1]["value"] == 25.0 and len(labs) == 5
    service.delete_record(seeded, KEY, lab, actor="erin", reason="duplicate of an earlier result")
    assert len(service.export_case(seeded, KEY, actor="x")["lab_results"]) == 4
    assert service.export_case(seeded, KEY, actor="x", version=2)["lab_results"][-1]["value"] == 20.5
    assert service.export_case(seeded, KEY, actor="x", version=3)["lab_results"][-1]["value"] == 25.0
    history = service.patient_history(seeded, KEY, actor="x")
    assert [c.summary for c in history[1:]] == [
        "lab_result added",
        f"lab_result {lab} corrected",
        f"lab_result {lab} deleted",
    ]
    assert [(e.path, e.before, e.after) for e in history[2].edits] == [("value", 20.5, 25.0)]
    assert all(e.deleted for e in history[3].edits) and history[3].action == "delete"
    with pytest.raises(RecordNotFound):
        service.correct_record(seeded, KEY, lab, {"value": 1.0}, actor="x")


def test_list_order_survives_corrections(seeded: Store) -> None:
    show = service.show_patient(seeded, KEY, actor="x")
    first = show.treatments[0].record_id
    service.correct_record(seeded, KEY, first, {"indication": "corrected"}, actor="x")
    treatments = service.export_case(seeded, KEY, actor="x")["treatments"]
    assert treatments[0]["indication"] == "corrected"
    assert [t["drug"] for t in treatments] == [t["drug"] for t in SEED["treatments"]]


def test_stopping_a_treatment(seeded: Store) -> None:
    omalizumab = service.stop_treatment(seeded, KEY, "2013-05", drug="omalizumab", actor="x", reason="remission")
    stopped = next(t for t in service.show_patient(seeded, KEY, actor="x").treatments if t.record_id == omalizumab)
    assert stopped.document["end_date"] == "2013-05"
    with pytest.raises(StoreError, match="has ended already"):
        service.stop_treatment(seeded, KEY, "2014", record_id=omalizumab, actor="x")
    with pytest.raises(RecordNotFound, match="no ongoing treatment"):
        service.stop_treatment(seeded, KEY, "2015", drug="cromolyn", actor="x")
    service.add_treatment(seeded, KEY, {"drug": "cromolyn", "start_date": "2013"}, actor="x")
    service.add_treatment(seeded, KEY, {"drug": "cromolyn", "start_date": "2014"}, actor="x")
    with pytest.raises(RecordNotFound, match="2 ongoing treatments"):
        service.stop_treatment(seeded, KEY, "2015", drug="cromolyn", actor="x")
    with pytest.raises(StoreError, match="not both"):
        service.stop_treatment(seeded, KEY, "2015", drug="cromolyn", record_id=omalizumab, actor="x")


def test_versions_outside_the_history_are_refused(seeded: Store) -> None:
    for version in (0, 2, -1):
        with pytest.raises(StoreError, match="versions 1-1"):
            service.export_case(seeded, KEY, actor="x", version=version)


def fake_engine(case: dict[str, Any]) -> dict[str, Any]:
    return {
        "schema": "mastcds-evaluation/1",
        "case_id": case["id"],
        "engine_version": "0.0-test",
        "editions": {"who2022": "WHO 5th edition"},
        "guidelines": {"who2022": {"category": "ISM" if case["bone_marrow"].get("cd25") else None, "possible_categories": ["ISM", "none"]}},
        "tryptase": {"baseline_ng_ml": case["labs"].get("baseline_tryptase_ng_ml")},
        "ratio": 1 / 3,
    }


def test_a_past_evaluation_is_shown_exactly_as_it_was(seeded: Store) -> None:
    first = service.run_evaluation(seeded, KEY, actor="alice", evaluator=fake_engine)
    service.update_findings(seeded, KEY, {"bone_marrow.cd25": True, "labs.baseline_tryptase_ng_ml": 60}, actor="bob")
    second = service.run_evaluation(seeded, KEY, actor="bob", evaluator=fake_engine)
    again = service.get_evaluation(seeded, first.id, actor="carol")
    assert again == first
    assert again.result == fake_engine(SEED) and again.result["ratio"] == 1 / 3
    assert again.case_document == SEED and again.patient_version == 1
    assert (again.engine_version, again.editions) == ("0.0-test", {"who2022": "WHO 5th edition"})
    assert second.patient_version == 2 and second.result["guidelines"]["who2022"]["category"] == "ISM"
    assert [e.id for e in service.list_evaluations(seeded, KEY, actor="x")] == [first.id, second.id]


def test_evaluate_patient_returns_the_contract_object(seeded: Store) -> None:
    assert service.evaluate_patient(seeded, KEY, actor="alice", evaluator=fake_engine) == fake_engine(SEED)


def test_an_altered_evaluation_is_detected(seeded: Store) -> None:
    stored = service.run_evaluation(seeded, KEY, actor="alice", evaluator=fake_engine)
    with seeded.engine.begin() as connection:
        connection.execute(
            text("UPDATE evaluations SET result = :result WHERE id = :id"),
            {"result": json.dumps({**stored.result, "engine_version": "forged"}), "id": stored.id},
        )
    with pytest.raises(IntegrityFailure, match="altered"):
        service.get_evaluation(seeded, stored.id, actor="x")
