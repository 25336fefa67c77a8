"""The ``mastcds screen`` and ``mastcds synth`` commands: outputs, warnings and bad input (exit 2)."""

from __future__ import annotations

import csv
import json

import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

from mastcds.cli import app

runner = CliRunner()


@pytest.fixture(scope="module")
def export(tmp_path_factory):
    folder = tmp_path_factory.mktemp("export")
    result = runner.invoke(app, ["synth", "--patients", "2500", "--out", str(folder), "--seed", "9"])
    assert result.exit_code == 0, result.output
    assert "planted cases" in result.output
    return folder


@pytest.mark.parametrize("suffix", [".csv", ".parquet"])
def test_screen_writes_the_worklist(export, tmp_path, suffix):
    out = tmp_path / f"worklist{suffix}"
    result = runner.invoke(app, ["screen", str(export), "--out", str(out)])
    assert result.exit_code == 0, result.output
    rows = list(csv.DictReader(out.open())) if suffix == ".csv" else pq.read_table(out).to_pylist()
    truth = json.loads((export / "ground_truth.json").read_text())
    expected = {pid for pid, p in truth["planted"].items() if p["expected_rules"]}
    assert {row["patient_id"] for row in rows} == expected
    assert f"{len(expected)} patients flagged" in result.output
    assert not list(tmp_path.glob("*.partial"))


def test_malformed_lines_are_reported_with_file_and_line(export, tmp_path):
    result = runner.invoke(app, ["screen", str(export), "--out", str(tmp_path / "w.csv")])
    truth = json.loads((export / "ground_truth.json").read_text())
    for item in truth["malformed"]:
        assert f"{item['file']} line {item['line']}: not a FHIR resource" in result.output
    assert f"{len(truth['malformed'])} malformed lines skipped" in result.output


@pytest.mark.parametrize(("args", "message"), [
    (["screen", "/nonexistent/export", "--out", "w.csv"], "not a directory"),
    (["screen", "{export}", "--out", "{tmp}/w.txt"], "must end in .csv or .parquet"),
    (["screen", "{export}", "--out", "/nonexistent/dir/w.csv"], "does not exist"),
    (["screen", "{export}", "--out", "{tmp}/w.csv", "--memory-limit", "lots"], "expected a size"),
    (["screen", "{empty}", "--out", "{tmp}/w.csv"], "no Patient, Condition or Observation"),
    (["screen", "{export}", "--out", "{tmp}/w.csv", "--engine", "oracle"], "oracle"),
    (["synth", "--patients", "0", "--out", "{tmp}/x"], "greater than or equal to 1"),
])
def test_bad_input_exits_2_with_a_message(export, tmp_path, args, message):
    (tmp_path / "empty").mkdir()
    filled = [a.format(export=export, tmp=tmp_path, empty=tmp_path / "empty") for a in args]
    result = runner.invoke(app, filled)
    assert result.exit_code == 2
    assert message in result.output
    assert "Traceback" not in result.output
