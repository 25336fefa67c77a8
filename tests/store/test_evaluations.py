"""Evaluations with the real engine: stored with the case they read, the engine version and the editions."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from mastcds import __version__, evaluate
from mastcds.cli import app
from mastcds.store import service
from mastcds.store.database import Store

SEED = json.loads((Path(__file__).resolve().parents[2] / "examples" / "seed-case.json").read_text())
KEY = SEED["id"]


def test_evaluate_patient_stores_what_the_engine_gave(store: Store) -> None:
    service.import_case(store, SEED, actor="alice")
    result = service.evaluate_patient(store, KEY, actor="alice")
    assert result == evaluate(SEED)
    (stored,) = service.list_evaluations(store, KEY, actor="alice")
    assert stored.result == result and stored.case_document == SEED
    assert stored.engine_version == __version__ == result["engine_version"]
    assert stored.editions == result["editions"] and set(stored.editions) == set(result["guidelines"])


def test_a_past_evaluation_survives_corrections_exactly(store: Store) -> None:
    service.import_case(store, SEED, actor="alice")
    first = service.run_evaluation(store, KEY, actor="alice")
    service.update_findings(store, KEY, {"bone_marrow.cd25": True, "bone_marrow.multifocal_dense_infiltrates": False}, actor="bob", reason="revised histology")
    service.add_lab_result(store, KEY, {"test": "tryptase", "value": 12, "unit": "ng/mL", "date": "2013", "context": "baseline"}, actor="bob")
    second = service.run_evaluation(store, KEY, actor="bob")
    assert second.result != first.result
    again = service.get_evaluation(store, first.id, actor="carol")
    assert again == first
    assert json.dumps(again.result, sort_keys=True) == json.dumps(evaluate(SEED), sort_keys=True)
    assert evaluate(again.case_document) == again.result  # the snapshot re-evaluates to the same answer


def test_evaluation_show_as_text_report(store: Store) -> None:
    service.import_case(store, SEED, actor="alice")
    stored = service.run_evaluation(store, KEY, actor="alice")
    result = CliRunner().invoke(app, ["evaluation", "show", str(stored.id), "--format", "text", "--db", store.url, "--user", "u"])
    assert result.exit_code == 0, result.stderr
    assert f"evaluation {stored.id} of {KEY} (record version 1)" in result.stdout
    assert "WHO 2022" in result.stdout
