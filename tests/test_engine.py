"""The evaluation contract end to end: the seed case through the CLI, and invariants on any valid case."""

from __future__ import annotations

import io
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from rich.console import Console
from typer.testing import CliRunner

from mastcds import evaluate
from mastcds.case import load_case
from mastcds.cli import app
from mastcds.cli.report_text import print_evaluation
from tests.schema_strategy import valid_cases

ROOT = Path(__file__).resolve().parents[1]
SEED_PATH = ROOT / "examples" / "seed-case.json"
SEED = json.loads(SEED_PATH.read_text(encoding="utf-8"))
EDITIONS = ("who2022", "icc2022", "who2016")
STATUSES = {"met", "not_met", "unknown"}
CODES = {"none", "CM", "BMM", "ISM", "SSM", "ASM", "SM-AHN", "SM-AMN", "MCL", "MCS"}


def run_cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "mastcds", *args], capture_output=True, text=True, cwd=ROOT, check=False
    )


def test_seed_case_end_to_end_through_the_command_line() -> None:
    done = run_cli("evaluate", str(SEED_PATH), "--format", "json")
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    assert result["schema"] == "mastcds-evaluation/1"
    assert result["case_id"] == "seed-omalizumab-ism"
    for edition in EDITIONS:
        guideline = result["guidelines"][edition]
        assert guideline["sm_criteria"] == "met", edition
        assert set(guideline["possible_categories"]) == {"ISM", "MCL"}, edition
        assert guideline["category"] is None
        assert any("smear" in test["test"].lower() for test in guideline["next_tests"]), guideline["next_tests"]
    assert result["rema"]["score"] == 7 and result["rema"]["clonal_likely"] is True
    by_id = {episode["episode_id"]: episode for episode in result["episodes"]}
    for episode_id in ("e1", "e2", "e3"):
        assert by_id[episode_id]["anaphylaxis_wao2020"] == "met"
        assert by_id[episode_id]["severity_brown"] == "severe"
    dose = result["omalizumab"]
    assert dose["within_table"] is False
    assert dose["nearest_cell"] == {"dose_mg": 300, "interval_weeks": 4}
    assert dose["dose_mg"] is None


def test_seed_case_is_ism_once_the_smear_is_below_20_percent() -> None:
    document = json.loads(json.dumps(SEED))
    document["bone_marrow"]["aspirate_mast_cells_percent"] = 5
    result = evaluate(document)
    for edition in EDITIONS:
        assert result["guidelines"][edition]["category"] == "ISM", edition
        assert result["guidelines"][edition]["possible_categories"] == ["ISM"]


def test_prognosis_weighs_every_category_still_possible() -> None:
    """Regression: only a determinate category reached the prognosis section, so 'ISM or MCL' got no MARS."""
    result = evaluate(SEED)
    prognosis = result["prognosis"]
    assert prognosis["mars"]["applies"] == "only if advanced SM is confirmed (possible: MCL)"
    assert any(w.startswith("MARS shown because MCL is still possible") for w in result["warnings"])
    assert prognosis["ipsm"] is None and set(prognosis["not_computed"]) == {"ipsm", "maps"}
    document = json.loads(json.dumps(SEED))
    document["bone_marrow"]["aspirate_mast_cells_percent"] = 5  # ISM in every edition: MARS does not apply
    settled = evaluate(document)["prognosis"]
    assert settled["mars"] is None and settled["not_computed"]["mars"].endswith("category ISM")


def test_text_report_of_the_seed_case() -> None:
    done = CliRunner().invoke(app, ["evaluate", str(SEED_PATH)], env={"COLUMNS": "240"})
    assert done.exit_code == 0, done.output
    for fragment in ("WHO 2022", "ICC 2022", "WHO 2016", "MCL", "REMA score 7", "outside the", "MARS"):
        assert fragment in done.output
    details = CliRunner().invoke(app, ["evaluate", "--details", str(SEED_PATH)], env={"COLUMNS": "240"}).output
    for fragment in ("Prognosis IPSM not computed: IPSM (Sperr WR et al.", "Prognosis MAPS not computed: MAPS (Pardanani A"):
        assert fragment in details


def test_bad_input_exits_2_with_one_line_per_problem(tmp_path: Path) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"patient": {"age_years": 200, "sex": "x"}, "labs": {"ige_total_iu_ml": "25"}}))
    done = run_cli("evaluate", str(bad))
    assert done.returncode == 2
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 3, lines
    assert any("patient.age_years" in line and "200" in line for line in lines)
    assert "Traceback" not in done.stderr


def test_not_json_and_missing_file_exit_2(tmp_path: Path) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text("{")
    assert run_cli("evaluate", str(bad)).returncode == 2
    missing = run_cli("evaluate", str(tmp_path / "absent.json"))
    assert missing.returncode == 2 and "no such file" in missing.stderr


def check_contract(result: dict) -> None:
    assert result["schema"] == "mastcds-evaluation/1"
    for edition in EDITIONS:
        guideline = result["guidelines"][edition]
        assert guideline["sm_criteria"] in STATUSES
        assert set(guideline["possible_categories"]) <= CODES and guideline["possible_categories"]
        assert (guideline["category"] is not None) == (len(guideline["possible_categories"]) == 1)
        if guideline["category"] is not None:
            assert guideline["category"] == guideline["possible_categories"][0]
        for item in guideline["criteria"] + guideline["b_findings"] + guideline["c_findings"]:
            assert item["status"] in STATUSES and item["reason"] and item["source"]
    prognosis = result["prognosis"]
    advanced = {"ASM", "SM-AHN", "SM-AMN", "MCL"}
    possible = {c for edition in EDITIONS for c in result["guidelines"][edition]["possible_categories"]}
    assert (prognosis["mars"] is not None) == bool(possible & advanced)  # shown whenever advanced SM is possible
    assert ("mars" in prognosis["not_computed"]) == (prognosis["mars"] is None)
    assert prognosis["ipsm"] is None and {"ipsm", "maps"} <= set(prognosis["not_computed"])
    assert all(why and "://" not in why for why in prognosis["not_computed"].values())
    rema = result["rema"]
    assert rema["min"] <= rema["max"]
    assert (rema["score"] is not None) == (rema["min"] == rema["max"])
    assert result["cutaneous"]["status"] in STATUSES and result["mcas"]["status"] in STATUSES
    json.dumps(result)


def test_seed_case_honours_the_contract() -> None:
    check_contract(evaluate(SEED))


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(valid_cases())
def test_a_valid_case_never_makes_the_engine_raise(document: dict) -> None:
    load_case(document)
    result = evaluate(document)
    check_contract(result)
    print_evaluation(Console(file=io.StringIO(), width=120), result)


def test_evaluate_a_stored_patient_and_keep_the_evaluation(tmp_path: Path) -> None:
    db = str(tmp_path / "registry.db")
    assert run_cli("patient", "import", str(SEED_PATH), "--db", db, "--user", "dr-a").returncode == 0
    done = run_cli("evaluate", "--patient", "seed-omalizumab-ism", "--db", db, "--user", "dr-a", "--format", "json")
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == evaluate(SEED)
    listed = run_cli("patient", "evaluations", "seed-omalizumab-ism", "--db", db, "--format", "json")
    assert listed.returncode == 0 and len(json.loads(listed.stdout)) == 1
    unknown = run_cli("evaluate", "--patient", "nobody", "--db", db)
    assert unknown.returncode == 2 and "nobody" in unknown.stderr
    both = run_cli("evaluate", str(SEED_PATH), "--patient", "x", "--db", db)
    assert both.returncode == 2


# ------------------------------------------------------------- the bottom line (issue 15 §3)

SEED_BOTTOM_LINE = (
    "Systemic mastocytosis (all three editions: WHO 2022, ICC 2022 and WHO 2016). Every recorded finding fits "
    "indolent systemic mastocytosis (ISM). Mast cell leukaemia (MCL) is only possible, not shown: it is ruled out "
    "only by a bone marrow aspirate smear (mast cell count and morphology), which is not recorded."
)


def test_the_seed_case_reads_as_indolent_sm_with_mcl_only_possible() -> None:
    result = evaluate(SEED)
    assert result["summary"] == SEED_BOTTOM_LINE
    for edition in EDITIONS:
        assert result["guidelines"][edition]["summary"].startswith("SM criteria met. Every recorded finding fits")
    assert result["rema"]["summary"].startswith("REMA score 7 (2 or more") and "Caveat" in result["rema"]["summary"]
    assert result["mcas"]["summary"].startswith("Mast cell activation syndrome open: B (")
    assert result["omalizumab"]["summary"].startswith("Omalizumab: no label dose; IgE 25 IU/mL, weight 106 kg")


def _scenario_cases() -> list[Any]:
    """Every case of every scenario file (as the scenario tests build them), and the seed case."""
    from tests.test_user_visible_sources import CASE_OUTPUTS

    return CASE_OUTPUTS


@pytest.mark.parametrize("result", _scenario_cases())
def test_every_scenario_summary_names_exactly_the_possible_categories(result: dict[str, Any]) -> None:
    from mastcds.rules.mastocytosis.summary import NAMES

    possible = set()
    for edition in EDITIONS:
        guideline = result["guidelines"][edition]
        named = {code for code, name in NAMES.items() if name.lower() in guideline["summary"].lower()}
        assert named == set(guideline["possible_categories"]), edition
        possible |= named
    top = {code for code, name in NAMES.items() if name.lower() in result["summary"].lower()}
    assert top == possible
