"""The default screening engine: DuckDB, embedded, streaming NDJSON with a memory cap.

Each file is read once by DuckDB's NDJSON reader, which checks every line is JSON; a text test
keeps the lines that are not resources and the few that may carry a screening code, and only
those are parsed by the compiled view. Memory is bounded by ``memory_limit``, one (mostly empty)
row per line of the file being read, and the rows kept.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import duckdb

from mastcds.screen.pipeline import EngineRows, Malformed
from mastcds.screen.viewdef import compile_view

# Patients come last: only the lines of patients with a screening row go through the Patient
# view (whose patient_id is getResourceKey(), the id), with every line that is not a resource.
_TABLES = {"Condition": "screen_condition", "Observation": "screen_observation", "Patient": "screen_patient"}
_CANDIDATE_PATIENT_LINES = (
    "(SELECT _line, _j FROM (SELECT _line, _j, json_extract_string(_j, ['$.resourceType', '$.id']) AS _key FROM screen_kept) "
    "WHERE _key[1] IS NULL OR _key[2] IN (SELECT patient_id FROM screen_condition UNION SELECT patient_id FROM screen_observation))")


def read_kept_lines(con, lines: str, path: Path) -> None:
    """Temp table ``screen_kept`` (``_line``, ``_j``): the lines of ``path`` that ``lines`` (a
    :meth:`~mastcds.screen.viewdef.CompiledView.ndjson_lines` query) keeps, with their numbers.

    The file is scanned in parallel into a table filled in file order, so a row id + 1 is the line
    number (needs ``preserve_insertion_order``, DuckDB's default); numbering in the scan itself
    would keep it on one thread.
    """
    con.execute(f"CREATE TEMP TABLE screen_lines AS {lines}", [str(path)])
    con.execute("CREATE TEMP TABLE screen_kept AS SELECT rowid + 1 AS _line, _j FROM screen_lines WHERE _j IS NOT NULL")
    con.execute("DROP TABLE screen_lines")


def _fetch_dicts(con, sql: str) -> list[dict]:
    cursor = con.execute(sql)
    names = [d[0] for d in cursor.description]
    return [dict(zip(names, row)) for row in cursor.fetchall()]


def run_duckdb(files: dict[str, list[Path]], views: dict[str, dict], *, progress: Callable[[str, int], None] | None = None,
               memory_limit: str = "1GB", threads: int | None = None,
               prefilters: dict[str, tuple[dict[str, tuple[str, ...]], ...]] | None = None) -> EngineRows:
    """Run every view over its files; return candidate patients' rows and the malformed lines.

    ``prefilters``: per resource type, a text test its view's ``where`` clause implies (see
    :func:`mastcds.screen.views.screening_prefilters` and ``CompiledView.ndjson_lines``).
    Each file is scanned in parallel into a table of one nullable text per line, inserted in file
    order so a row id + 1 is the line number (numbering in the scan itself would keep it on one
    thread). The few lines with text are copied out with their numbers before the view reads
    them: the view's list functions have a cost per batch, and filtered batches are nearly empty.
    """
    con = duckdb.connect()
    con.execute("SET memory_limit = ?", [memory_limit])
    con.execute("SET enable_progress_bar = false")
    con.execute("SET preserve_insertion_order = true")  # the line numbers rest on it
    if threads:
        con.execute("SET threads = ?", [int(threads)])
    malformed: list[Malformed] = []
    for resource_type, table in _TABLES.items():
        compiled = compile_view(views[resource_type], "duckdb")
        lines = compiled.ndjson_lines((prefilters or {}).get(resource_type))
        kept = _CANDIDATE_PATIENT_LINES if resource_type == "Patient" else "screen_kept"
        select = f"SELECT ? AS _file, ? AS _file_number, * FROM ({compiled.line_rows_query(kept)})"
        columns = ", ".join(f'"{c.name}"' for c in compiled.columns)
        created = False
        for number, path in enumerate(files.get(resource_type, [])):
            read_kept_lines(con, lines, path)
            if not created:
                con.execute(f"CREATE TEMP TABLE {table} AS {select}", [path.name, number])
                created = True
            else:
                con.execute(f"INSERT INTO {table} {select}", [path.name, number])
            con.execute("DROP TABLE screen_kept")
            if progress is not None:
                progress(path.name, path.stat().st_size)
        if not created:
            nulls = ", ".join(f"NULL AS \"{c.name}\"" for c in compiled.columns)
            con.execute(f"CREATE TEMP TABLE {table} AS SELECT NULL::VARCHAR AS _file, NULL::BIGINT AS _file_number, "
                        f"NULL::BIGINT AS _line, NULL::BOOLEAN AS _malformed, NULL::BIGINT AS _k, {nulls} WHERE FALSE")
        malformed += [Malformed(f, int(n)) for f, n in con.execute(
            f"SELECT _file, _line FROM {table} WHERE _malformed ORDER BY _file, _line").fetchall()]
        con.execute(f"DELETE FROM {table} WHERE _malformed")
        con.execute(f"CREATE OR REPLACE TEMP VIEW {table}_rows AS SELECT {columns} FROM {table} "
                    f"ORDER BY _file_number, _line, _k")
    conditions = _fetch_dicts(con, "SELECT * FROM screen_condition_rows")
    observations = _fetch_dicts(con, "SELECT * FROM screen_observation_rows")
    patients = _fetch_dicts(con, "SELECT * FROM screen_patient_rows")
    con.close()
    return EngineRows(patients, conditions, observations, sorted(malformed, key=lambda m: (m.file, m.line)))
