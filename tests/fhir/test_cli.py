"""``mastcds fhir import`` / ``export``: files, the store, and exit 2 with a clear line on bad input."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from mastcds.cli import app

SEED = Path(__file__).parents[2] / "examples" / "seed-case.json"
runner = CliRunner()


def _export(tmp_path: Path) -> Path:
    out = tmp_path / "bundle.json"
    result = runner.invoke(app, ["fhir", "export", "--case", str(SEED), "--no-evaluation", "--out", str(out)])
    assert result.exit_code == 0, result.output
    return out


def test_export_then_import_gives_the_coded_findings(tmp_path: Path) -> None:
    bundle = _export(tmp_path)
    assert json.loads(bundle.read_text())["resourceType"] == "Bundle"
    result = runner.invoke(app, ["fhir", "import", str(bundle)])
    assert result.exit_code == 0, result.output
    case = json.loads(result.stdout)
    assert case["labs"]["baseline_tryptase_ng_ml"] == 50.9
    assert case["molecular"]["kit_d816v"] == "detected"


def test_import_merges_the_case_document(tmp_path: Path) -> None:
    bundle = _export(tmp_path)
    base = tmp_path / "base.json"
    base.write_text(json.dumps({"schema": "mastcds-case/1", "patient": {"age_years": 31},
                                "bone_marrow": {"multifocal_dense_infiltrates": True}}))
    out = tmp_path / "case.json"
    result = runner.invoke(app, ["fhir", "import", str(bundle), "--case", str(base), "--out", str(out)])
    assert result.exit_code == 0, result.output
    case = json.loads(out.read_text())
    assert case["bone_marrow"]["multifocal_dense_infiltrates"] is True  # the export carries the marrow findings
    assert case["bone_marrow"]["infiltration_percent"] == 10
    assert case["patient"]["age_years"] == 31 and case["patient"]["sex"] == "male"


def test_import_reports_unread_codes_on_stderr(tmp_path: Path) -> None:
    bundle = tmp_path / "b.json"
    bundle.write_text(json.dumps({"resourceType": "Bundle", "type": "collection", "entry": [
        {"resource": {"resourceType": "Observation", "id": "a", "status": "final",
                      "code": {"coding": [{"system": "http://loinc.org", "code": "4548-4"}]}}}]}))
    result = runner.invoke(app, ["fhir", "import", str(bundle)])
    assert result.exit_code == 0
    assert "not read: Observation http://loinc.org|4548-4 (1)" in result.stderr


def test_a_bad_unit_leaves_out_that_observation_only(tmp_path: Path) -> None:
    """Regression (issue 17 §2): one unconvertible unit refused the whole Bundle (exit 2)."""
    bundle = tmp_path / "b.json"
    bundle.write_text(json.dumps({"resourceType": "Bundle", "type": "collection", "entry": [
        {"resource": {"resourceType": "Observation", "id": "hb", "status": "final",
                      "code": {"coding": [{"system": "http://loinc.org", "code": "718-7"}]},
                      "valueQuantity": {"value": 6.2, "system": "http://unitsofmeasure.org", "code": "mmol/L"}}},
        {"resource": {"resourceType": "Observation", "id": "ige", "status": "final",
                      "code": {"coding": [{"system": "http://loinc.org", "code": "19113-0"}]},
                      "valueQuantity": {"value": 150, "system": "http://unitsofmeasure.org", "code": "[iU]/mL"}}}]}))
    result = runner.invoke(app, ["fhir", "import", str(bundle)])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["labs"] == {"ige_total_iu_ml": 150}
    assert "not used: Observation/hb.valueQuantity.code" in result.stderr and "mmol/L" in result.stderr
    assert "g/dl" in result.stderr and "Traceback" not in result.output


def test_several_patients_exit_2(tmp_path: Path) -> None:
    bundle = tmp_path / "b.json"
    bundle.write_text(json.dumps({"resourceType": "Bundle", "type": "collection", "entry": [
        {"resource": {"resourceType": "Patient", "id": "a"}}, {"resource": {"resourceType": "Patient", "id": "b"}}]}))
    result = runner.invoke(app, ["fhir", "import", str(bundle)])
    assert result.exit_code == 2 and "several patients" in result.stderr


def test_not_json_and_not_a_bundle_exit_2(tmp_path: Path) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text("{nope")
    assert runner.invoke(app, ["fhir", "import", str(bad)]).exit_code == 2
    bad.write_text(json.dumps({"resourceType": "Patient"}))
    result = runner.invoke(app, ["fhir", "import", str(bad)])
    assert result.exit_code == 2 and "expected a FHIR Bundle" in result.stderr
    assert runner.invoke(app, ["fhir", "import", str(tmp_path / "missing.json")]).exit_code == 2


def test_export_needs_exactly_one_source(tmp_path: Path) -> None:
    result = runner.invoke(app, ["fhir", "export"])
    assert result.exit_code == 2 and "either a patient ID" in result.stderr


def test_invalid_case_document_exits_2(tmp_path: Path) -> None:
    bad = tmp_path / "case.json"
    bad.write_text(json.dumps({"schema": "mastcds-case/1", "patient": {"weight_kg": -3}}))
    result = runner.invoke(app, ["fhir", "export", "--case", str(bad), "--no-evaluation"])
    assert result.exit_code == 2 and "patient.weight_kg" in result.stderr


def test_import_saves_to_the_store_and_export_reads_it(tmp_path: Path) -> None:
    bundle = _export(tmp_path)
    db = str(tmp_path / "store.db")
    saved = runner.invoke(app, ["fhir", "import", str(bundle), "--save", "--db", db, "--user", "tester", "-o", str(tmp_path / "c.json")])
    assert saved.exit_code == 0, saved.output
    assert "saved as patient seed-omalizumab-ism" in saved.stderr
    again = runner.invoke(app, ["fhir", "import", str(bundle), "--save", "--db", db, "--user", "tester"])
    assert again.exit_code == 2 and "exists already" in again.stderr
    exported = runner.invoke(app, ["fhir", "export", "seed-omalizumab-ism", "--db", db, "--user", "tester", "--no-evaluation"])
    assert exported.exit_code == 0, exported.output
    assert json.loads(exported.stdout)["entry"][0]["resource"]["gender"] == "male"
    missing = runner.invoke(app, ["fhir", "export", "nobody", "--db", db, "--user", "tester"])
    assert missing.exit_code == 2 and "no patient" in missing.stderr


def test_export_with_evaluation_holds_the_verdict(tmp_path: Path) -> None:
    result = runner.invoke(app, ["fhir", "export", "--case", str(SEED)])
    assert result.exit_code == 0, result.output
    kinds = [e["resource"]["resourceType"] for e in json.loads(result.stdout)["entry"]]
    assert kinds.count("ClinicalImpression") == 1 and kinds.count("Patient") == 1
