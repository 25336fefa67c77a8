"""Hostile input on the command line (issue 16, items 1 and 16): exit 2 with one line per problem, never a traceback."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import update
from typer.testing import CliRunner

from mastcds.cli import app
from mastcds.store import service
from mastcds.store.database import Store
from mastcds.store.models import FindingRevision

ROOT = Path(__file__).resolve().parents[2]
SEED = json.loads((ROOT / "examples" / "seed-case.json").read_text(encoding="utf-8"))
runner = CliRunner()


def _run(*args: str, code: int) -> str:
    result = runner.invoke(app, list(args))
    output = result.output + result.stderr
    assert "Traceback" not in output and "RecursionError" not in output
    assert result.exit_code == code, output
    return result.stderr


@pytest.mark.parametrize(
    "command",
    [["validate"], ["evaluate"], ["patient", "import"], ["fhir", "import"], ["report", "--case"]],
    ids=["validate", "evaluate", "patient import", "fhir import", "report --case"],
)
def test_a_hundred_thousand_nested_brackets_exit_2_with_one_line(command: list[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MASTCDS_USER", "tester")
    hostile = tmp_path / "deep.json"
    hostile.write_text("[" * 100_000)
    extra = ["--db", str(tmp_path / "r.db")] if command[0] == "patient" else []
    extra += ["--out", str(tmp_path / "r.html")] if command[0] == "report" else []
    if command == ["report", "--case"]:
        stderr = _run("report", "--case", str(hostile), *extra, code=2)
    else:
        stderr = _run(*command, str(hostile), *extra, code=2)
    lines = stderr.strip().splitlines()
    assert len(lines) == 1 and "nested deeper than" in lines[0]


def test_a_lone_surrogate_is_refused_naming_the_field(tmp_path: Path) -> None:
    case = tmp_path / "case.json"
    case.write_text(json.dumps({**SEED, "notes": "\ud800"}))  # json.dumps writes it as the escape \ud800
    stderr = _run("validate", str(case), code=2)
    assert stderr.startswith(f"error: {case}: notes: text must not contain a lone UTF-16 surrogate")


def test_nan_and_huge_numbers_in_a_case_file_name_their_field(tmp_path: Path) -> None:
    case = tmp_path / "case.json"
    case.write_text('{"patient": {"weight_kg": NaN, "age_years": 1e309}}')
    stderr = _run("evaluate", str(case), code=2)
    assert "patient.weight_kg: not a JSON number" in stderr and "patient.age_years: not a JSON number" in stderr


def test_export_all_goes_on_past_a_record_that_cannot_be_written(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MASTCDS_USER", "tester")
    url = f"sqlite:///{tmp_path / 'r.db'}"
    store = Store(url)
    for key in ("a", "b", "c"):
        service.import_case(store, SEED, actor="tester", key=key)
    # a record stored before mastcds refused lone surrogates
    with store.writing() as session:
        revision = session.query(FindingRevision).order_by(FindingRevision.id)[1]
        session.execute(update(FindingRevision).where(FindingRevision.id == revision.id).values(document={**revision.document, "notes": "\ud800"}))
    store.close()
    stderr = _run("export", "--all", str(tmp_path / "out"), "--db", url, code=2)
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["a.json", "c.json"]
    errors = [line for line in stderr.splitlines() if line.startswith("error:")]
    assert errors == [
        "error: patient: not exported: the stored record cannot be written as JSON "
        """('utf-8' codec can't encode character '\\ud800' in position 57: surrogates not allowed) (got "b")"""
    ]
