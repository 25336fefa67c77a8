"""Lines as real files have them, on the DuckDB engine (the Spark engine's twin is in test_spark_engine):
blank and whitespace-only lines, CRLF, a byte-order mark, truncated JSON, a JSON array, no
resourceType, a non-string resourceType, a line over 16 MB, and a value of 1e999."""

from __future__ import annotations

import csv
import json

from mastcds.screen.duckdb_engine import apply_view, connect, read_lines
from mastcds.screen.pipeline import screen_export
from mastcds.screen.views import screening_views
from tests.screen.hostile import EXPECTED_MALFORMED, FLAGGED, MALFORMED_PATIENT_LINES, write_hostile_export


def test_malformed_lines_have_the_numbers_an_editor_shows(tmp_path):
    export = write_hostile_export(tmp_path / "export")
    con = connect()
    malformed = read_lines(con, [export / "Patient.ndjson"], "lines", None)
    apply_view(con, screening_views()["Patient"], "lines", "rows")
    assert [m.line for m in malformed] == MALFORMED_PATIENT_LINES == [6, 7, 8, 11]
    assert sorted(con.execute("SELECT patient_id FROM rows").fetchall()) == [(p,) for p in "abcfhi"]


def test_a_line_over_16_mb_is_reported_and_the_run_goes_on(tmp_path):
    """Regression (issue 16 item 17): DuckDB's NDJSON reader stopped the whole run with a traceback."""
    export = write_hostile_export(tmp_path / "export")
    result = screen_export(export, tmp_path / "w.csv")
    assert [(m.file, m.line) for m in result.malformed] == EXPECTED_MALFORMED
    rows = list(csv.DictReader((tmp_path / "w.csv").open(encoding="utf-8")))
    assert {row["patient_id"] for row in rows} == FLAGGED


def test_1e999_is_an_unusable_result_not_an_infinite_tryptase(tmp_path):
    """Regression (issue 16 item 17): 1e999 read as infinity and was flagged as "tryptase inf ng/mL"."""
    export = write_hostile_export(tmp_path / "export")
    result = screen_export(export, tmp_path / "w.csv")
    rows = {row["patient_id"]: row for row in csv.DictReader((tmp_path / "w.csv").open(encoding="utf-8"))}
    assert "a" not in rows and "x" not in rows
    assert result.unusable_results == 2
    assert "inf" not in json.dumps(rows)
