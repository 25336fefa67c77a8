"""The record commands: thin over the service, exit 2 with field, value and what is accepted, never a traceback."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from mastcds.case import Episode, LabResult
from mastcds.cli import app
from mastcds.cli.records import _field_types, parse_value
from mastcds.store import service
from mastcds.store.database import Store
from mastcds.store.settings import acting_user

ROOT = Path(__file__).resolve().parents[2]
SEED_FILE = ROOT / "examples" / "seed-case.json"
SEED = json.loads(SEED_FILE.read_text())


@pytest.fixture
def run(db_url: str, monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
    monkeypatch.setenv("MASTCDS_USER", "cli-user")
    monkeypatch.delenv("MASTCDS_DATABASE_URL", raising=False)
    runner = CliRunner()

    def invoke(*args: str, code: int = 0, stdin: str | None = None) -> Any:
        result = runner.invoke(app, [*args, "--db", db_url], input=stdin)
        assert "Traceback" not in result.output + result.stderr
        assert result.exit_code == code, result.output + result.stderr
        return result

    invoke.url = db_url  # type: ignore[attr-defined]
    return invoke


def test_a_patient_from_first_entry_to_history(run: Any) -> None:
    key = run("patient", "add", "--key", "p1", "--sex", "female", "--age", "52", "--identifier", "mrn=778").stdout.strip()
    assert key == "p1"
    lab = int(run("lab", "add", "p1", "--test", "tryptase", "--value", "31.5", "--unit", "ug/L", "--date", "2024-03", "--context", "baseline").stdout)
    episode = int(run("episode", "add", "p1", "--id", "a1", "--date", "2024-01", "--trigger", "hymenoptera_venom", "--systolic-bp", "70", "--present", "loss_of_consciousness", "--absent", "urticaria").stdout)
    treatment = int(run("treatment", "add", "p1", "--drug", "omalizumab", "--start", "2024-04", "--dose-mg", "300", "--interval", "q4w").stdout)
    assert run("treatment", "stop", "p1", "omalizumab", "--end", "2024-10", "--reason", "no benefit").stdout.strip() == str(treatment)
    run("patient", "set", "p1", "bone_marrow.cd25=true", "evaluation_date=2024", "patient.weight_kg=61.5", "notes=seen twice", "--reason", "histology")
    run("record", "correct", "p1", str(lab), "value=32", "--reason", "typo")
    run("record", "delete", "p1", str(episode), "--reason", "other patient's episode")

    case = json.loads(run("patient", "export", "p1").stdout)
    assert case["patient"] == {"sex": "female", "age_years": 52, "weight_kg": 61.5}
    assert case["bone_marrow"] == {"cd25": True} and case["evaluation_date"] == "2024" and case["notes"] == "seen twice"
    assert case["lab_results"] == [{"test": "tryptase", "value": 32, "unit": "ug/L", "date": "2024-03", "context": "baseline"}]
    assert case["episodes"] == [] and case["treatments"][0]["end_date"] == "2024-10"
    first = json.loads(run("patient", "export", "p1", "--version", "2").stdout)
    assert first["lab_results"][0]["value"] == 31.5 and first["treatments"] == []

    history = run("patient", "history", "p1").stdout
    assert "version 8" in history and "cli-user" in history and "(reason: typo)" in history
    assert 'value: 31.5 -> 32.0' in history and f"episode {episode} withdrawn" in history
    changes = json.loads(run("patient", "history", "p1", "--format", "json").stdout)
    assert [c["version"] for c in changes] == list(range(1, 9))

    shown = run("patient", "show", "p1").stdout
    assert "mrn = 778" in shown and "omalizumab" in shown and "cd25=true" in shown
    assert json.loads(run("patient", "show", "p1", "--format", "json").stdout)["case"] == case
    assert run("patient", "find", "mrn=778").stdout.strip() == "p1"
    listed = json.loads(run("patient", "list", "--format", "json").stdout)
    assert [(p["key"], p["version"], p["lab_results"], p["treatments"]) for p in listed] == [("p1", 8, 1, 1)]
    audit = json.loads(run("audit", "--patient", "p1", "--format", "json").stdout)
    assert {a["actor"] for a in audit} == {acting_user("cli-user")}


def test_import_export_of_a_case_file(run: Any, tmp_path: Path) -> None:
    assert run("patient", "import", str(SEED_FILE)).stdout.strip() == SEED["id"]
    out = tmp_path / "back.json"
    run("patient", "export", SEED["id"], "-o", str(out))
    assert json.loads(out.read_text()) == SEED
    assert run("patient", "import", "-", "--key", "from-stdin", stdin=SEED_FILE.read_text()).stdout.strip() == "from-stdin"
    assert run("import", str(out), "--replace").stdout.strip() == SEED["id"]
    assert json.loads(run("export", SEED["id"]).stdout) == SEED


def test_export_to_a_device_keeps_the_device(run: Any) -> None:
    run("patient", "import", str(SEED_FILE))
    run("patient", "export", SEED["id"], "-o", "/dev/null")
    assert Path("/dev/null").is_char_device()


def test_a_registry_moves_with_a_progress_bar(run: Any, tmp_path: Path) -> None:
    for key in ("a", "b", "c"):
        run("patient", "import", str(SEED_FILE), "--key", key)
    exported = run("export", "--all", str(tmp_path / "registry"))
    assert "3 patient(s) exported" in exported.stdout and "3/3" in exported.stderr
    target = f"sqlite:///{tmp_path / 'target.db'}"
    result = CliRunner().invoke(app, ["import", str(tmp_path / "registry"), "--db", target, "--user", "mover"])
    assert result.exit_code == 0 and "3 patient(s) imported" in result.stdout and "3/3" in result.stderr
    assert [p.key for p in service.list_patients(Store(target), actor="t")] == ["a", "b", "c"]


def test_stored_evaluations_are_shown_exactly(run: Any) -> None:
    run("patient", "import", str(SEED_FILE))
    store = Store(run.url)
    result = {"schema": "mastcds-evaluation/1", "engine_version": "t", "editions": {"who2022": "w"}, "guidelines": {"who2022": {"category": "ISM"}}, "x": 0.1}
    stored = service.run_evaluation(store, SEED["id"], actor="t", evaluator=lambda case: result)
    assert json.loads(run("evaluation", "show", str(stored.id)).stdout) == result
    full = json.loads(run("evaluation", "show", str(stored.id), "--with-case").stdout)
    assert full["case_document"] == SEED and full["engine_version"] == "t" and full["patient_version"] == 1
    listed = run("patient", "evaluations", SEED["id"]).stdout
    assert "WHO 2022 ISM" in listed
    run("evaluation", "show", "999", code=2)


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["lab", "add", "nobody", "--test", "tryptase", "--value", "5", "--unit", "ng/mL", "--date", "2020"], 'patient: no patient with this key (see `mastcds patient list`) (got "nobody")'),
        (["lab", "add", "p1", "--test", "tryptase", "--value", "5", "--unit", "mmol/L", "--date", "2020"], 'lab_result.unit: unit not accepted for tryptase; accepted: ng/ml, ug/l (got "mmol/L")'),
        (["lab", "add", "p1", "--test", "platelets", "--value", "9000", "--unit", "10^9/L", "--date", "2020"], "lab_result.value: platelets must lie in 0-5000 10^9/L (got 9000.0)"),
        (["treatment", "add", "p1", "--drug", "x", "--force", "--start", "2020-05", "--end", "2020-04"], 'treatment.end_date: end date is before the start date 2020-05 (got "2020-04")'),
        (["patient", "set", "p1", "patient.sex=other"], "patient.sex: not an accepted value"),
        (["patient", "set", "p1", "nonsense"], "nonsense: expected FIELD=VALUE"),
        (["episode", "add", "p1", "--present", "hives"], "episode sign 'hives': not a sign; accepted: loss_of_consciousness"),
        (["episode", "add", "p1", "--present", "flushing", "--absent", "flushing"], "given as both present and absent"),
        (["treatment", "stop", "p1", "omalizumab", "--end", "2021"], "no ongoing treatment with this drug"),
        (["record", "correct", "p1", "424242", "value=1"], "record: this patient has no current"),
        (["patient", "add", "--key", "bad key"], 'key: not a usable patient key'),
        (["patient", "import", "/nonexistent/case.json"], "/nonexistent/case.json: no such file"),
        (["patient", "find", "mrn=0"], "identifier mrn=0: no patient has it"),
        (["export"], "give either a patient ID or --all DIR"),
    ],
)
def test_bad_input_exits_2_naming_field_value_and_accepted(run: Any, args: list[str], expected: str) -> None:
    run("patient", "add", "--key", "p1")
    result = run(*args, code=2)
    assert expected in result.stderr


def test_an_unreachable_database_exits_2() -> None:
    result = CliRunner().invoke(app, ["patient", "list", "--db", "postgresql+psycopg://u:pw@127.0.0.1:1/none"])
    assert result.exit_code == 2 and "database error" in result.stderr and "pw@" not in result.stderr


def test_db_upgrade_names_the_revision(run: Any) -> None:
    assert "schema at revision" in run("db", "upgrade").stdout


def test_the_environment_chooses_the_database(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MASTCDS_DATABASE_URL", str(tmp_path / "env.db"))
    result = CliRunner().invoke(app, ["patient", "add", "--key", "k", "--user", "u"])
    assert result.exit_code == 0 and (tmp_path / "env.db").exists()


def test_parse_value_follows_the_field_type() -> None:
    assert parse_value("true", _field_types(Episode, "urticaria")) is True
    assert parse_value("no", _field_types(Episode, "urticaria")) is False
    assert parse_value("2", _field_types(Episode, "epinephrine_doses")) == 2
    assert parse_value("75.5", _field_types(Episode, "systolic_bp_mmhg")) == 75.5
    assert parse_value("2011", _field_types(Episode, "date")) == "2011"
    assert parse_value("ng/mL", _field_types(LabResult, "unit")) == "ng/mL"
    assert parse_value("unknown", _field_types(Episode, "urticaria")) is None
    assert parse_value("null", _field_types(LabResult, "unit")) is None
    assert parse_value("maybe", _field_types(Episode, "urticaria")) == "maybe"
    assert parse_value("12x", _field_types(LabResult, "value")) == "12x"
