"""DuckDB and Spark give the identical worklist and malformed-line report on the same export."""

from __future__ import annotations

import pytest

from mastcds.screen.duckdb_engine import run_duckdb
from mastcds.screen.pipeline import worklist_from_rows
from mastcds.screen.spark_engine import run_spark
from mastcds.screen.synth import synthesize
from mastcds.screen.views import discover_export, screening_views


@pytest.mark.spark
def test_duckdb_and_spark_worklists_are_identical(spark, tmp_path):
    synthesize(1000, tmp_path, seed=3)
    files, _ = discover_export(tmp_path)
    views = screening_views()
    duck = run_duckdb(files, views)
    sparked = run_spark(spark, files, views)
    assert sorted(duck.malformed, key=lambda m: (m.file, m.line)) == sorted(sparked.malformed, key=lambda m: (m.file, m.line))
    duck_worklist, duck_candidates, _ = worklist_from_rows(duck)
    spark_worklist, spark_candidates, _ = worklist_from_rows(sparked)
    assert duck_worklist, "the export must flag someone"
    assert spark_worklist == duck_worklist
    assert spark_candidates == duck_candidates
