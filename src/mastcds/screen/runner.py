"""Run compiled ViewDefinitions on DuckDB or Spark over in-memory resources or NDJSON files."""

from __future__ import annotations

import json
from collections.abc import Iterable

from mastcds.screen.viewdef import CompiledView, compile_view


def duckdb_resources(con, resources: Iterable[dict], name: str = "resources") -> str:
    """Load resources into a DuckDB temp table with one JSON column ``r``; returns its name."""
    texts = [json.dumps(resource) for resource in resources]
    con.execute(f"CREATE OR REPLACE TEMP TABLE {name} AS SELECT CAST(unnest(CAST(? AS VARCHAR[])) AS JSON) AS r", [texts])
    return name


def spark_resources(spark, resources: Iterable[dict], name: str = "resources") -> str:
    """Register resources as a Spark temp view with one VARIANT column ``r``; returns its name."""
    texts = [(json.dumps(resource),) for resource in resources]
    frame = spark.createDataFrame(texts, "line STRING").selectExpr("parse_json(line) AS r")
    frame.createOrReplaceTempView(name)
    return name


def run_view_duckdb(con, view: dict | CompiledView, source: str) -> tuple[list[str], list[tuple]]:
    """Column names and rows of ``view`` over the relation ``source`` (column ``r`` JSON)."""
    compiled = view if isinstance(view, CompiledView) else compile_view(view, "duckdb")
    result = con.execute(compiled.query(source))
    return [c.name for c in compiled.columns], result.fetchall()


def run_view_spark(spark, view: dict | CompiledView, source: str) -> tuple[list[str], list[tuple]]:
    """Column names and rows of ``view`` over the Spark relation ``source`` (column ``r`` VARIANT)."""
    compiled = view if isinstance(view, CompiledView) else compile_view(view, "spark")
    rows = spark.sql(compiled.query(source)).collect()
    return [c.name for c in compiled.columns], [tuple(row) for row in rows]
