"""The view's rows over one NDJSON file, read exactly as the DuckDB engine reads it (shared by the tests)."""

from __future__ import annotations

from mastcds.screen.duckdb_engine import read_kept_lines


def file_rows(duck, compiled, path, prefilter=None) -> list[tuple]:
    read_kept_lines(duck, compiled.ndjson_lines(prefilter), path)
    try:
        return duck.execute(compiled.line_rows_query("screen_kept")).fetchall()
    finally:
        duck.execute("DROP TABLE screen_kept")
