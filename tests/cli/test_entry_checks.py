"""What a typing error would let into a record: an unknown drug name (a suggestion, --force) and a date after today."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from mastcds.cli import app
from mastcds.rules.treatment.ladder import known_drug_names

ROOT = Path(__file__).resolve().parents[2]
SEED_FILE = ROOT / "examples" / "seed-case.json"
KEY = "seed-omalizumab-ism"


@pytest.fixture
def run(tmp_path: Path) -> Any:
    db = str(tmp_path / "t.db")
    runner = CliRunner()

    def invoke(*args: str) -> Any:
        return runner.invoke(app, [*args, "--db", db], env={"MASTCDS_USER": "tester", "COLUMNS": "200"})

    assert invoke("patient", "import", str(SEED_FILE)).exit_code == 0
    return invoke


def test_a_misspelt_drug_gets_a_suggestion_and_needs_force(run: Any) -> None:
    done = run("treatment", "add", KEY, "--drug", "asprin", "--start", "2011-09")
    assert done.exit_code == 2 and "did you mean aspirin?" in done.stderr and "--force" in done.stderr
    forced = run("treatment", "add", KEY, "--drug", "asprin", "--start", "2011-09", "--force")
    assert forced.exit_code == 0
    record = forced.stdout.strip()
    assert run("record", "correct", KEY, record, "drug=montelukas").exit_code == 2
    assert run("record", "correct", KEY, record, "drug=montelukast").exit_code == 0


@pytest.mark.parametrize("name", ["aspirin", "Cetirizine", "sodium cromoglicate", "omalizumab", "venom_immunotherapy", "midostaurin"])
def test_known_names_and_their_spellings_pass(run: Any, name: str) -> None:
    assert run("treatment", "add", KEY, "--drug", name, "--start", "2012").exit_code == 0


def test_every_name_of_the_ladder_is_known() -> None:
    assert {"aspirin", "h1_antihistamine", "cetirizine", "xolair", "cladribine", "epinephrine_autoinjector"} <= known_drug_names()


def test_a_date_after_today_is_refused_today_is_not(run: Any) -> None:
    today = date.today()
    tomorrow = today + timedelta(days=1)
    assert run("lab", "add", KEY, "--test", "tryptase", "--value", "30", "--unit", "ng/mL", "--date", today.isoformat()).exit_code == 0
    later = run("lab", "add", KEY, "--test", "tryptase", "--value", "30", "--unit", "ng/mL", "--date", tomorrow.isoformat())
    assert later.exit_code == 2 and "after today" in later.stderr and tomorrow.isoformat() in later.stderr
    assert run("episode", "add", KEY, "--date", f"{today.year}-{today.month:02d}").exit_code == 0  # this month may be today
    assert run("episode", "add", KEY, "--date", str(today.year + 1)).exit_code == 2
    assert run("treatment", "add", KEY, "--drug", "omalizumab", "--start", str(today.year + 1)).exit_code == 2
    assert run("patient", "set", KEY, f"evaluation_date={today.year + 1}").exit_code == 2
    assert run("treatment", "stop", KEY, "omalizumab", "--end", tomorrow.isoformat()).exit_code == 2
