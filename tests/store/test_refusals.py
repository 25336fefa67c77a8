"""Bad input is refused with the field, the value and what is accepted, and leaves the database as it was."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from mastcds.store import registry, revisions, service
from mastcds.store.database import Store
from mastcds.store.errors import InvalidRecord, PatientExists, PatientNotFound, RecordNotFound, StoreError
from mastcds.store.models import Base

SEED = json.loads((Path(__file__).resolve().parents[2] / "examples" / "seed-case.json").read_text())
KEY = SEED["id"]
LAB = {"test": "tryptase", "value": 20.5, "unit": "ng/mL", "date": "2013-02"}


def snapshot(store: Store) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table: equal snapshots mean nothing was written."""
    with store.engine.connect() as connection:
        return {
            table.name: sorted(tuple(map(repr, row)) for row in connection.execute(select(table)))
            for table in Base.metadata.sorted_tables
        }


@pytest.fixture
def seeded(store: Store) -> Store:
    service.import_case(store, SEED, actor="alice")
    return store


def refused(store: Store, error: type[StoreError], action: Callable[[], object]) -> StoreError:
    before = snapshot(store)
    with pytest.raises(error) as caught:
        action()
    assert snapshot(store) == before, "a refused write changed the database"
    return caught.value


def only_problem(error: StoreError) -> tuple[str, Any, str]:
    (problem,) = error.problems
    return problem.path, problem.value, problem.message


def test_unknown_patient(seeded: Store) -> None:
    for action in (
        lambda: service.add_lab_result(seeded, "nobody", LAB, actor="x"),
        lambda: service.export_case(seeded, "nobody", actor="x"),
        lambda: service.update_findings(seeded, "nobody", {"notes": "x"}, actor="x"),
        lambda: service.run_evaluation(seeded, "nobody", actor="x", evaluator=lambda case: {}),
        lambda: service.patient_history(seeded, "nobody", actor="x"),
    ):
        error = refused(seeded, PatientNotFound, action)
        assert only_problem(error)[:2] == ("patient", "nobody")


def test_wrong_unit_names_the_accepted_units(seeded: Store) -> None:
    error = refused(seeded, InvalidRecord, lambda: service.add_lab_result(seeded, KEY, {**LAB, "unit": "mmol/L"}, actor="x"))
    path, value, message = only_problem(error)
    assert (path, value) == ("lab_result.unit", "mmol/L")
    assert "ng/ml" in message and "ug/l" in message


def test_implausible_value_names_the_range(seeded: Store) -> None:
    error = refused(seeded, InvalidRecord, lambda: service.add_lab_result(seeded, KEY, {**LAB, "test": "hemoglobin", "unit": "g/L", "value": 400}, actor="x"))
    path, value, message = only_problem(error)
    assert (path, value) == ("lab_result.value", 400)
    assert "0-30 g/dL" in message and "after conversion from g/L" in message


def test_end_date_before_start(seeded: Store) -> None:
    treatment = {"drug": "omalizumab", "start_date": "2013-05", "end_date": "2013-04"}
    error = refused(seeded, InvalidRecord, lambda: service.add_treatment(seeded, KEY, treatment, actor="x"))
    assert only_problem(error) == ("treatment.end_date", "2013-04", "end date is before the start date 2013-05")
    omalizumab = service.show_patient(seeded, KEY, actor="x").treatments[4].record_id
    error = refused(seeded, InvalidRecord, lambda: service.stop_treatment(seeded, KEY, "2011-08", record_id=omalizumab, actor="x"))
    assert only_problem(error)[:2] == (f"treatment#{omalizumab}.end_date", "2011-08")


def test_impossible_dates(seeded: Store) -> None:
    error = refused(seeded, InvalidRecord, lambda: service.add_lab_result(seeded, KEY, {**LAB, "date": "2013-02-30"}, actor="x"))
    assert only_problem(error) == ("lab_result.date", "2013-02-30", "day must be 01-28 in that month")
    error = refused(seeded, InvalidRecord, lambda: service.update_findings(seeded, KEY, {"evaluation_date": "13/02/2013"}, actor="x"))
    assert only_problem(error)[:2] == ("evaluation_date", "13/02/2013")


def test_unknown_fields_and_wrong_types(seeded: Store) -> None:
    error = refused(seeded, InvalidRecord, lambda: service.update_findings(seeded, KEY, {"bone_marrow.cd117": True}, actor="x"))
    assert only_problem(error)[0] == "bone_marrow.cd117" and "unknown field" in only_problem(error)[2]
    error = refused(seeded, InvalidRecord, lambda: service.update_findings(seeded, KEY, {"bone_marrow.cd25": "yes"}, actor="x"))
    assert only_problem(error)[:2] == ("bone_marrow.cd25", "yes")
    error = refused(seeded, InvalidRecord, lambda: service.add_episode(seeded, KEY, {"trigger": "moon"}, actor="x"))
    assert only_problem(error)[:2] == ("episode.trigger", "moon")
    for path in ("episodes", "lab_results.0", "bone_marrow.cd25.x", "id", ""):
        refused(seeded, StoreError, lambda: service.update_findings(seeded, KEY, {path: 1}, actor="x"))


def test_lab_pointing_at_a_missing_episode(seeded: Store) -> None:
    error = refused(seeded, InvalidRecord, lambda: service.add_lab_result(seeded, KEY, {**LAB, "context": "acute", "episode_id": "e9"}, actor="x"))
    assert only_problem(error) == ("lab_result.episode_id", "e9", "no episode in this case has that id")


def test_an_episode_a_lab_points_at_cannot_be_withdrawn(seeded: Store) -> None:
    service.add_lab_result(seeded, KEY, {**LAB, "context": "acute", "episode_id": "e2"}, actor="x")
    view = service.show_patient(seeded, KEY, actor="x")
    episode = view.episodes[1].record_id
    error = refused(seeded, InvalidRecord, lambda: service.delete_record(seeded, KEY, episode, actor="x"))
    assert only_problem(error)[0] == f"lab_result#{view.lab_results[-1].record_id}.episode_id"


def test_keys_and_duplicates(seeded: Store) -> None:
    refused(seeded, PatientExists, lambda: service.import_case(seeded, SEED, actor="x"))
    refused(seeded, PatientExists, lambda: service.create_patient(seeded, KEY, actor="x"))
    error = refused(seeded, StoreError, lambda: service.create_patient(seeded, "no spaces please", actor="x"))
    assert only_problem(error)[:2] == ("key", "no spaces please")


def test_invalid_case_documents_list_every_problem(seeded: Store) -> None:
    bad = {**SEED, "id": "other", "patient": {"sex": "unknown", "age_years": 300}, "colour": "blue"}
    error = refused(seeded, InvalidRecord, lambda: service.import_case(seeded, bad, actor="x"))
    assert {p.path for p in error.problems} == {"patient.sex", "patient.age_years", "colour"}
    refused(seeded, InvalidRecord, lambda: service.import_case(seeded, ["not", "an", "object"], actor="x"))


def test_identifiers(seeded: Store) -> None:
    service.add_identifier(seeded, KEY, "mrn", "123", actor="x")
    service.create_patient(seeded, "other", actor="x")
    error = refused(seeded, InvalidRecord, lambda: service.add_identifier(seeded, "other", "mrn", "123", actor="x"))
    assert "already belongs to patient seed-omalizumab-ism" in only_problem(error)[2]
    refused(seeded, InvalidRecord, lambda: service.add_identifier(seeded, "other", "", "1", actor="x"))
    refused(seeded, InvalidRecord, lambda: service.add_identifier(seeded, "other", "mrn", "x" * 200, actor="x"))
    refused(seeded, InvalidRecord, lambda: service.create_patient(seeded, "third", actor="x", identifiers={"mrn": "123"}))
    identifier = service.show_patient(seeded, KEY, actor="x").identifiers[0].record_id
    service.delete_record(seeded, KEY, identifier, actor="x", reason="wrong hospital")
    service.add_identifier(seeded, "other", "mrn", "123", actor="x")
    assert service.find_patient_by_identifier(seeded, "mrn", "123", actor="x") == "other"


def test_unknown_records_and_empty_changes(seeded: Store) -> None:
    refused(seeded, RecordNotFound, lambda: service.correct_record(seeded, KEY, 99999, {"value": 1}, actor="x"))
    findings_record = service.show_patient(seeded, KEY, actor="x").episodes[0].record_id - 1
    refused(seeded, RecordNotFound, lambda: service.delete_record(seeded, KEY, findings_record, actor="x"))
    refused(seeded, StoreError, lambda: service.update_findings(seeded, KEY, {}, actor="x"))
    refused(seeded, StoreError, lambda: service.correct_record(seeded, KEY, findings_record + 1, {}, actor="x"))


def test_someone_must_be_acting(seeded: Store) -> None:
    for actor in ("", "   ", "x" * 129):
        error = refused(seeded, StoreError, lambda: service.add_lab_result(seeded, KEY, LAB, actor=actor))
        assert only_problem(error)[0] == "user"


# ---------------------------------------------------------------- failures half-way through a write


def test_a_failure_after_the_revisions_were_written_rolls_everything_back(seeded: Store, monkeypatch: pytest.MonkeyPatch) -> None:
    def broken_audit(*args: Any, **kwargs: Any) -> None:
        raise RuntimeError("disk full")

    monkeypatch.setattr(service, "log_access", broken_audit)
    before = snapshot(seeded)
    with pytest.raises(RuntimeError):
        service.add_lab_result(seeded, KEY, LAB, actor="x")
    with pytest.raises(RuntimeError):
        service.import_case(seeded, SEED, actor="x", key="second")
    assert snapshot(seeded) == before


def test_a_failure_between_two_revisions_rolls_everything_back(seeded: Store, monkeypatch: pytest.MonkeyPatch) -> None:
    written = []
    real = revisions.write_revision

    def failing_third(*args: Any, **kwargs: Any) -> None:
        written.append(args[2])
        if len(written) == 3:
            raise OSError("connection lost")
        real(*args, **kwargs)

    monkeypatch.setattr(revisions, "write_revision", failing_third)
    before = snapshot(seeded)
    with pytest.raises(OSError):
        service.import_case(seeded, SEED, actor="x", key="second")
    assert len(written) == 3 and snapshot(seeded) == before


def test_a_registry_import_is_all_or_nothing(seeded: Store, tmp_path: Path) -> None:
    (tmp_path / "in").mkdir()
    for name in ("a", "b", "c"):
        (tmp_path / "in" / f"{name}.json").write_text(json.dumps({**SEED, "id": name}))
    (tmp_path / "in" / "d.json").write_text(json.dumps({**SEED, "id": KEY}))  # exists already: refused in the write phase
    error = refused(seeded, PatientExists, lambda: registry.import_registry(seeded, tmp_path / "in", actor="x"))
    assert only_problem(error)[0] == "d.json: key"
    (tmp_path / "in" / "d.json").write_text(json.dumps({**SEED, "id": "d", "patient": {"weight_kg": 0}}))
    (tmp_path / "in" / "e.json").write_text("{not json")
    error = refused(seeded, InvalidRecord, lambda: registry.import_registry(seeded, tmp_path / "in", actor="x"))
    assert [p.path for p in error.problems] == ["d.json: patient.weight_kg", "e.json: "]


def test_registry_import_refuses_clashing_keys_and_stray_identifiers(seeded: Store, tmp_path: Path) -> None:
    (tmp_path / "in").mkdir()
    (tmp_path / "in" / "a.json").write_text(json.dumps({**SEED, "id": "same"}))
    (tmp_path / "in" / "b.json").write_text(json.dumps({**SEED, "id": "same"}))
    (tmp_path / "in" / "c.json").write_text(json.dumps({**SEED, "id": "bad key!"}))
    (tmp_path / "in" / registry.IDENTIFIERS_FILE).write_text(json.dumps({"ghost": [{"system": "mrn", "value": "1"}]}))
    error = refused(seeded, InvalidRecord, lambda: registry.import_registry(seeded, tmp_path / "in", actor="x"))
    assert [p.path for p in error.problems] == ["b.json: id", "c.json: id", registry.IDENTIFIERS_FILE]
    refused(seeded, StoreError, lambda: registry.import_registry(seeded, tmp_path / "missing", actor="x"))
    (tmp_path / "empty").mkdir()
    refused(seeded, StoreError, lambda: registry.import_registry(seeded, tmp_path / "empty", actor="x"))


def test_an_export_never_leaves_a_half_written_directory(seeded: Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    exports = tmp_path / "exports"
    (exports / "full").mkdir(parents=True)
    (exports / "full" / "x").write_text("")
    with pytest.raises(StoreError, match="must not exist yet or be empty"):
        registry.export_registry(seeded, exports / "full", actor="x")
    service.create_patient(seeded, "second", actor="x")
    calls = []

    def failing_second(path: Path, document: Any) -> None:
        calls.append(path)
        if len(calls) == 2:
            raise OSError(28, "No space left on device")
        path.write_text(json.dumps(document))

    monkeypatch.setattr(registry, "_write_json", failing_second)
    with pytest.raises(StoreError, match="No space left"):
        registry.export_registry(seeded, exports / "out", actor="x")
    assert sorted(p.name for p in exports.iterdir()) == ["full"]


def test_nul_characters_are_refused_on_every_database(seeded: Store) -> None:
    error = refused(seeded, InvalidRecord, lambda: service.add_treatment(seeded, KEY, {"drug": "a\x00b", "start_date": "2013"}, actor="x"))
    assert only_problem(error) == ("treatment.drug", "a\x00b", "text must not contain the NUL character (U+0000)")
    error = refused(seeded, InvalidRecord, lambda: service.update_findings(seeded, KEY, {"notes": "\x00"}, actor="x"))
    assert only_problem(error)[0] == "notes"
    refused(seeded, StoreError, lambda: service.add_lab_result(seeded, KEY, LAB, actor="x", reason="why\x00"))
    refused(seeded, StoreError, lambda: service.add_lab_result(seeded, KEY, LAB, actor="x\x00y"))
