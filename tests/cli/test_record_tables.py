"""Record tables at 80 columns: keys and dates whole on one line, no column lost, nothing cut with an ellipsis."""

from __future__ import annotations

from pathlib import Path

import pytest
from rich.console import Console
from typer.testing import CliRunner

from mastcds.cli import app
from mastcds.cli.tables import record_table

ROOT = Path(__file__).resolve().parents[2]
SEED_FILE = ROOT / "examples" / "seed-case.json"


def rendered(table: object, width: int) -> str:
    console = Console(width=width, record=True, file=open("/dev/null", "w"))  # noqa: SIM115
    console.print(table)
    return console.export_text()


@pytest.mark.parametrize("width", [80, 100])
def test_whole_columns_stay_on_one_line_and_short_columns_keep_their_width(width: int) -> None:
    rows = [["seed-omalizumab-ism", "12", "4", "2026-12-07 16:44", "a long free-text note that may wrap " * 2]]
    text = rendered(record_table(["ID", "version", "ep.", "when (UTC)", "what"], rows, whole=(0, 3), wrap=(4,)), width)
    assert "seed-omalizumab-ism" in text and "2026-12-07 16:44" in text
    assert all(header in text for header in ("ID", "version", "ep.", "when (UTC)", "what"))
    assert "…" not in text and max(map(len, text.splitlines())) <= width


def test_a_key_too_long_for_the_terminal_folds_and_is_never_cut() -> None:
    key = "a-rather-long-patient-key-from-a-registry-2024-" + "x" * 20
    text = rendered(record_table(["ID", "ver.", "ep.", "labs", "when (UTC)"], [[key, "1", "0", "0", "2026-12-07 16:44"]], whole=(0, 4)), 60)
    assert "…" not in text and "".join(line.split()[0] for line in text.splitlines()[3:] if line.strip()).startswith(key[:30])
    assert "2026-12-07 16:44" in text


def test_patient_list_at_80_columns_shows_each_key_and_date_whole(tmp_path: Path) -> None:
    db = str(tmp_path / "t.db")
    runner = CliRunner()
    env = {"COLUMNS": "80", "MASTCDS_USER": "tester"}
    assert runner.invoke(app, ["patient", "import", str(SEED_FILE), "--db", db], env=env).exit_code == 0
    done = runner.invoke(app, ["patient", "list", "--db", db], env=env)
    assert done.exit_code == 0, done.output
    assert "seed-omalizumab-ism" in done.stdout and "…" not in done.stdout
    assert any(len(token) == 10 and token[4] == "-" for token in done.stdout.split()), "no whole date"
    audit = runner.invoke(app, ["audit", "--db", db], env=env)
    assert "seed-omalizumab-ism" in audit.stdout and "…" not in audit.stdout


def test_store_commands_say_which_database_they_use(tmp_path: Path) -> None:
    db = str(tmp_path / "t.db")
    done = CliRunner().invoke(app, ["patient", "list", "--db", db], env={"MASTCDS_USER": "tester"})
    assert f"database: sqlite:///{db}" in done.stderr


def test_a_taken_key_on_import_names_the_replace_option(tmp_path: Path) -> None:
    db = str(tmp_path / "t.db")
    runner = CliRunner()
    env = {"MASTCDS_USER": "tester"}
    assert runner.invoke(app, ["patient", "import", str(SEED_FILE), "--db", db], env=env).exit_code == 0
    again = runner.invoke(app, ["patient", "import", str(SEED_FILE), "--db", db], env=env)
    assert again.exit_code == 2 and "--replace" in again.stderr
    directory = runner.invoke(app, ["import", str(SEED_FILE), "--db", db], env=env)
    assert directory.exit_code == 2 and "--replace" in directory.stderr
    assert runner.invoke(app, ["patient", "import", str(SEED_FILE), "--replace", "--db", db], env=env).exit_code == 0
