"""The ``mastcds screen`` and ``mastcds synth`` commands: outputs, warnings and bad input (exit 2)."""

from __future__ import annotations

import csv
import json
import re

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


def test_state_then_since_continues_the_screening(export, tmp_path):
    first = runner.invoke(app, ["screen", str(export), "--out", str(tmp_path / "w.csv"), "--state"])
    assert first.exit_code == 0, first.output
    assert f"state: {tmp_path / 'w.state'}" in first.output
    empty = tmp_path / "nothing-new"
    empty.mkdir()
    (empty / "Observation.ndjson").write_text("")
    then = runner.invoke(app, ["screen", str(empty), "--out", str(tmp_path / "w.csv"), "--since", str(tmp_path / "w.state")])
    assert then.exit_code == 0, then.output
    assert "0 patients screened again" in then.output
    counts = re.compile(r"\d+ patients flagged of \d+ screened")
    assert counts.search(first.output).group() == counts.search(then.output).group()


@pytest.mark.parametrize(("args", "message"), [
    (["screen", "{export}", "--out", "{tmp}/w.csv", "--since", "{tmp}"], "no state.json"),
    (["screen", "{export}", "--out", "{tmp}/w.csv", "--master", "local[2]"], "only with --engine spark"),
    (["screen", "file://{export}", "--out", "{tmp}/w.csv"], "use --engine spark"),
    (["screen", "{export}", "--out", "s3a://bucket/w.csv"], "use --engine spark"),
    (["synth", "--patients", "10", "--out", "{tmp}/x", "--profile", "sparse"], "sparse"),
])
def test_more_bad_input_exits_2_with_a_message(export, tmp_path, args, message):
    filled = [a.format(export=export, tmp=tmp_path) for a in args]
    result = runner.invoke(app, filled)
    assert result.exit_code == 2
    assert message in result.output
    assert "Traceback" not in result.output


@pytest.mark.parametrize("profile", ["vitals", "dense"])
def test_synth_writes_each_profile(tmp_path, profile):
    result = runner.invoke(app, ["synth", "--patients", "200", "--out", str(tmp_path), "--profile", profile])
    assert result.exit_code == 0, result.output
    assert json.loads((tmp_path / "ground_truth.json").read_text())["shape"] == profile


@pytest.mark.spark
def test_a_source_the_cluster_cannot_read_exits_2(spark, tmp_path):
    result = runner.invoke(app, ["screen", str(tmp_path / "missing"), "--engine", "spark", "--out", str(tmp_path / "w.csv")])
    assert result.exit_code == 2
    assert "not a folder the cluster can read" in result.output


@pytest.mark.spark
def test_screen_on_spark_reads_and_writes_uris(spark, export, tmp_path):
    """`mastcds screen file://... --engine spark --master local[2] --out file://...`: DuckDB's worklist."""
    out = tmp_path / "spark.parquet"
    result = runner.invoke(app, ["screen", export.as_uri(), "--engine", "spark", "--master", "local[2]",
                                 "--out", out.as_uri()])
    assert result.exit_code == 0, result.output
    assert runner.invoke(app, ["screen", str(export), "--out", str(tmp_path / "duck.parquet")]).exit_code == 0
    assert pq.read_table(out).to_pylist() == pq.read_table(tmp_path / "duck.parquet").to_pylist()
    assert f"worklist: {out.as_uri()}" in result.output
