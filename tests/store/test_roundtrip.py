"""Import then export gives the same case document, for the seed case and for generated cases."""

from __future__ import annotations

import json
import uuid
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mastcds.case import CASE_SCHEMA_ID, load_case
from mastcds.store import service
from mastcds.store.database import Store
from mastcds.store.registry import IDENTIFIERS_FILE, export_registry, import_registry
from tests.schema_strategy import valid_cases

ROOT = Path(__file__).resolve().parents[2]
SEED = json.loads((ROOT / "examples" / "seed-case.json").read_text())
LISTS = ("episodes", "lab_results", "treatments")


def normalised(document: dict[str, Any], key: str) -> dict[str, Any]:
    """What an export promises for an imported document: the same fields, plus schema, id = key, the lists."""
    expected = load_case(document).to_document()
    expected.update({"schema": CASE_SCHEMA_ID, "id": key})
    for name in LISTS:
        expected.setdefault(name, [])
    return expected


def test_seed_case_round_trips_exactly(store: Store) -> None:
    key = service.import_case(store, SEED, actor="tester")
    exported = service.export_case(store, key, actor="tester")
    assert exported == SEED
    assert list(exported) == list(SEED)  # the same field order, for readable diffs
    assert json.dumps(exported, sort_keys=True) == json.dumps(load_case(SEED).to_document(), sort_keys=True)


def test_seed_case_loads_as_the_same_case(store: Store) -> None:
    key = service.import_case(store, SEED, actor="tester")
    assert service.patient_case(store, key, actor="tester") == load_case(SEED)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(document=valid_cases())
def test_generated_cases_round_trip(store: Store, document: dict[str, Any]) -> None:
    key = f"gen-{uuid.uuid4().hex[:12]}"
    service.import_case(store, document, actor="tester", key=key)
    exported = service.export_case(store, key, actor="tester")
    assert exported == normalised(document, key)
    # and an export imports back to itself
    again = f"{key}-again"
    service.import_case(store, exported, actor="tester", key=again)
    assert service.export_case(store, again, actor="tester") == {**exported, "id": again}


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(first=valid_cases(), second=valid_cases())
def test_replacing_a_record_keeps_the_earlier_version(store: Store, first: dict[str, Any], second: dict[str, Any]) -> None:
    key = f"rep-{uuid.uuid4().hex[:12]}"
    service.import_case(store, first, actor="tester", key=key)
    service.import_case(store, second, actor="tester", key=key, replace=True)
    assert service.export_case(store, key, actor="tester") == normalised(second, key)
    assert service.export_case(store, key, actor="tester", version=1) == normalised(first, key)


def test_the_document_id_becomes_the_key_unless_a_key_is_given(store: Store) -> None:
    assert service.import_case(store, SEED, actor="t") == SEED["id"]
    assert service.import_case(store, SEED, actor="t", key="other") == "other"
    assert service.export_case(store, "other", actor="t")["id"] == "other"
    anonymous = {k: v for k, v in SEED.items() if k != "id"}
    generated = service.import_case(store, anonymous, actor="t")
    assert generated.startswith("P-") and service.export_case(store, generated, actor="t")["id"] == generated


def test_a_whole_registry_moves_without_loss(store: Store, tmp_path: Path) -> None:
    keys = [service.import_case(store, SEED, actor="t", key=f"p{i}") for i in range(3)]
    service.add_identifier(store, "p1", "mrn", "12345", actor="t")
    service.add_lab_result(store, "p2", {"test": "tryptase", "value": 11, "unit": "ng/mL", "date": "2013"}, actor="t")
    seen: list[tuple[int, int]] = []
    written = export_registry(store, tmp_path / "out", actor="t", include_identifiers=True, on_progress=lambda d, t: seen.append((d, t)))
    assert written.keys == keys and written.skipped == [] and seen == [(1, 3), (2, 3), (3, 3)]
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == [IDENTIFIERS_FILE, "p0.json", "p1.json", "p2.json"]

    target = Store(f"sqlite:///{tmp_path / 'target.db'}")
    assert import_registry(target, tmp_path / "out", actor="t") == keys
    for key in keys:
        assert service.export_case(target, key, actor="t") == service.export_case(store, key, actor="t")
    assert service.find_patient_by_identifier(target, "mrn", "12345", actor="t") == "p1"
    target.close()


def test_identifiers_stay_in_the_database_unless_asked_for(store: Store, tmp_path: Path) -> None:
    service.create_patient(store, "p1", actor="t", identifiers={"mrn": "12345"})
    export_registry(store, tmp_path / "out", actor="t")
    assert [p.name for p in (tmp_path / "out").iterdir()] == ["p1.json"]
    assert "12345" not in (tmp_path / "out" / "p1.json").read_text()


@pytest.mark.parametrize("replace", [False, True])
def test_registry_import_onto_existing_patients(store: Store, tmp_path: Path, replace: bool) -> None:
    service.import_case(store, SEED, actor="t", key="p0")
    export_registry(store, tmp_path / "out", actor="t")
    service.update_findings(store, "p0", {"notes": "changed after export"}, actor="t")
    if replace:
        import_registry(store, tmp_path / "out", actor="t", replace=True)
        assert service.export_case(store, "p0", actor="t")["notes"] == SEED["notes"]
        assert [c.version for c in service.patient_history(store, "p0", actor="t")] == [1, 2, 3]
    else:
        with pytest.raises(service.PatientExists):
            import_registry(store, tmp_path / "out", actor="t")
        assert service.export_case(store, "p0", actor="t")["notes"] == "changed after export"


@given(st.lists(valid_cases(), min_size=1, max_size=4))
@settings(max_examples=5, deadline=None)
def test_generated_registries_move_between_sqlite_files(tmp_path_factory: pytest.TempPathFactory, documents: list[dict[str, Any]]) -> None:
    base = tmp_path_factory.mktemp("registry")
    source = Store(f"sqlite:///{base / 'source.db'}")
    keys = [service.import_case(source, doc, actor="t", key=f"k{i}") for i, doc in enumerate(documents)]
    export_registry(source, base / "out", actor="t")
    target = Store(f"sqlite:///{base / 'target.db'}")
    import_registry(target, base / "out", actor="t")
    for key, document in zip(keys, documents):
        assert service.export_case(target, key, actor="t") == normalised(document, key)
    source.close()
    target.close()
