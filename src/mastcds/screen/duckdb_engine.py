"""The default screening engine: DuckDB, embedded, with a memory cap.

Each NDJSON file is read once, in parallel, into a table of one nullable text per line, filled in
file order so that a row id gives the line number (:mod:`mastcds.screen.ndjson`); only the lines
a view needs (or that are malformed) keep their text. The views' rows become facts, the SQL of
:mod:`mastcds.screen.facts` keeps what the rules need, and those rows stream to the rules in
batches, sorted by patient (:mod:`mastcds.screen.patients`). Memory is bounded by
``memory_limit`` (DuckDB spills to disk beyond it) plus one batch in Python.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path

import duckdb

from mastcds.atomic_file import PRIVATE_DIRECTORY_MODE, make_private, open_private
from mastcds.screen import state as S
from mastcds.screen.facts import (
    candidate_references,
    facts_query,
    observation_line_needed,
    patient_line_needed,
    rule_input_query,
)
from mastcds.screen.ndjson import (
    duckdb_code_test,
    duckdb_kept_text,
    duckdb_line_numbers,
    duckdb_line_reader,
    ends_lines_with_cr,
)
from mastcds.screen.patients import summarize_facts
from mastcds.screen.types import FACT_COLUMNS, FACT_ORDER, SUMMARY_COLUMNS, SUMMARY_TYPES, WORKLIST_COLUMNS, Malformed
from mastcds.screen.viewdef import compile_view
from mastcds.screen.views import key_views
from mastcds.screen.worklist import write_worklist

# Conditions first: their anaphylaxis episodes tell which Observations and Patients are needed.
VIEW_TABLES = {"Condition": "screen_condition", "Observation": "screen_observation", "Patient": "screen_patient"}
FACT_BATCH_ROWS = 65_536
_REJECTS = "screen_rejects"


class LocalFiles:
    """:class:`~mastcds.screen.state.Files` on the local disk, private to their owner (patient data)."""

    def read_text(self, path: str) -> str | None:
        try:
            return Path(path).read_text(encoding="utf-8")
        except FileNotFoundError:
            return None

    def write_text(self, path: str, text: str) -> None:
        partial = Path(path + ".partial")
        with open(open_private(partial, exclusive=False), "w", encoding="utf-8") as handle:
            handle.write(text)
        partial.replace(path)

    def copy(self, source: str, target: str) -> None:
        shutil.copyfile(source, target)
        make_private(target)

    def delete(self, path: str) -> None:
        Path(path).unlink(missing_ok=True)

    def make_dirs(self, path: str) -> None:
        Path(path).mkdir(parents=True, exist_ok=True)
        os.chmod(path, PRIVATE_DIRECTORY_MODE)

    def replace_dir(self, source: str, target: str) -> None:
        if Path(target).exists():
            shutil.rmtree(target)
        os.replace(source, target)


def _literal(path: str | Path) -> str:
    return "'" + str(path).replace("'", "''") + "'"


def _read_parquet(path: str) -> str:
    return f"read_parquet({_literal(path)})"


def connect(memory_limit: str = "1GB", threads: int | None = None, spill: str | None = None):
    """An in-memory DuckDB capped at ``memory_limit``, spilling beyond it into the folder ``spill``
    (DuckDB's default is ``.tmp`` in the working directory, readable by others: patient data)."""
    con = duckdb.connect()
    con.execute("SET memory_limit = ?", [memory_limit])
    if spill is not None:
        con.execute("SET temp_directory = ?", [spill])
    con.execute("SET enable_progress_bar = false")
    con.execute("SET preserve_insertion_order = true")  # the line numbers rest on it
    if threads:
        con.execute("SET threads = ?", [int(threads)])
    return con


def read_lines(con, paths: list[Path], name: str, codes: tuple[str, ...] | None,
               progress: Callable[[str, int], None] | None = None) -> list[Malformed]:
    """Make the view ``name`` (``_j``): the text of the lines of ``paths`` that are resources and may
    hold a coding with one of ``codes`` (every resource when None); return the malformed lines.

    Each file is scanned in parallel into a table of one nullable text per line, filled in file
    order so that a row id gives the line number (numbering in the scan would keep it on one thread).
    """
    malformed: list[Malformed] = []
    parts = []
    for number, path in enumerate(paths):
        con.execute(f"DROP TABLE IF EXISTS {_REJECTS}")
        con.execute(f"DROP TABLE IF EXISTS {_REJECTS}_scans")
        table = f"{name}_{number}"
        con.execute(f"CREATE OR REPLACE TEMP TABLE {table} AS SELECT {duckdb_kept_text(codes)} AS _j "
                    f"FROM {duckdb_line_reader(_REJECTS, lone_cr=ends_lines_with_cr(path))}", [str(path)])
        line_number, rejected = duckdb_line_numbers(con, _REJECTS)
        bad = con.execute(f"SELECT {line_number} FROM {table} WHERE _j = 'null'").fetchall()
        malformed += [Malformed(path.name, int(n)) for n in sorted([*rejected, *(line for (line,) in bad)])]
        parts.append(f"SELECT _j FROM {table} WHERE _j IS NOT NULL AND _j <> 'null'")
        if progress is not None:
            progress(path.name, path.stat().st_size)
    con.execute(f"CREATE OR REPLACE TEMP VIEW {name} AS {' UNION ALL '.join(parts) or 'SELECT NULL::VARCHAR AS _j WHERE FALSE'}")
    return malformed


def drop_lines(con, name: str) -> None:
    """Drop the view ``name`` of :func:`read_lines` and the tables it reads."""
    tables = [table for (table,) in con.execute(
        "SELECT table_name FROM duckdb_tables() WHERE temporary AND regexp_full_match(table_name, ?)",
        [f"{name}_[0-9]+"]).fetchall()]
    con.execute(f"DROP VIEW IF EXISTS {name}")
    for table in tables:
        con.execute(f"DROP TABLE {table}")


def apply_view(con, view: dict, lines: str, table: str, where: str | None = None) -> None:
    """``table`` := the view's rows over the resources in ``lines`` (``_j``) that meet ``where``.

    With ``where``, the few lines kept are written first, so the view's plan reads a plain table.
    Such a table is often smaller than one of DuckDB's row groups, which one thread would then
    scan alone: the view reads it as one part per thread (rowid modulo), in a UNION ALL whose
    parts DuckDB runs side by side.
    """
    compiled = compile_view(view, "duckdb")
    sources = [f"(SELECT 0 AS _line, _j FROM {lines})"]
    if where:
        con.execute(f"CREATE OR REPLACE TEMP TABLE {table}_needed AS SELECT _j FROM {lines} WHERE {where}")
        parts = int(con.execute("SELECT current_setting('threads')").fetchone()[0])
        sources = [f"(SELECT 0 AS _line, _j FROM {table}_needed WHERE rowid % {parts} = {part})"
                   for part in range(parts)]
    columns = ", ".join(f'"{c.name}"' for c in compiled.columns)
    rows = " UNION ALL ".join(f"SELECT {columns} FROM ({compiled.line_rows_query(source)}) WHERE NOT _malformed"
                              for source in sources)
    con.execute(f"CREATE OR REPLACE TEMP TABLE {table} AS {rows}")


def _summaries_table(con, facts: str, table: str) -> None:
    """``table`` := the rules over the facts in ``facts``, streamed to Python in batches sorted by
    patient (plain tuples: no Arrow on this path), then handed back as columns."""
    cursor = con.execute(f"SELECT {', '.join(FACT_COLUMNS)} FROM ({rule_input_query(facts, 'duckdb')}) rows "
                         f"ORDER BY {FACT_ORDER}")

    def rows():
        while batch := cursor.fetchmany(FACT_BATCH_ROWS):
            yield from batch

    # Kept as columns, not as one dict per patient (about 50 bytes a patient instead of 280).
    columns: dict[str, list] = {name: [] for name in SUMMARY_COLUMNS}
    appends = [(name, columns[name].append) for name in SUMMARY_COLUMNS]
    for summary in summarize_facts(rows()):
        for name, append in appends:
            append(summary[name])
    types = {"int": "INTEGER"}
    select = ", ".join(f"unnest(?::{types.get(SUMMARY_TYPES.get(name, ''), 'VARCHAR')}[]) AS {name}"
                       for name in SUMMARY_COLUMNS)
    con.execute(f"CREATE OR REPLACE TEMP TABLE {table} AS SELECT {select}", list(columns.values()))


def read_facts(con, files: dict[str, list[Path]], views: dict[str, dict], codes: dict[str, tuple[str, ...]], *,
               every_patient: bool, every_line: bool, progress: Callable[[str, int], None] | None = None
               ) -> list[Malformed]:
    """``screen_new_facts`` := the facts of the files; returns the malformed lines.

    ``every_patient``: the facts of every patient (for a state), else only of those some rule may
    fire for (:func:`~mastcds.screen.facts.candidate_references`: the Observation and Patient views
    then parse only their lines). ``every_line``: keep every resource's text (an incremental run
    needs every resource's id), the views still reading only those with a code.
    """
    malformed: list[Malformed] = []
    for resource_type, table in VIEW_TABLES.items():
        kept = None if every_line else codes.get(resource_type)
        malformed += read_lines(con, files.get(resource_type, []), f"{table}_lines", kept, progress)
    # The line numbers are taken: from here on, order costs memory and time and buys nothing.
    con.execute("SET preserve_insertion_order = false")
    screened = {t: f"{table}_lines" for t, table in VIEW_TABLES.items()}
    if every_line:
        screened.update({t: f"(SELECT _j FROM {VIEW_TABLES[t]}_lines WHERE {duckdb_code_test('_j', c)})"
                         for t, c in codes.items()})
    apply_view(con, views["Condition"], screened["Condition"], VIEW_TABLES["Condition"])
    needed: dict[str, str | None] = {"Observation": None, "Patient": None}
    if not every_patient:
        con.execute(f"CREATE TEMP TABLE screen_candidates AS "
                    f"{candidate_references(VIEW_TABLES['Condition'], screened['Observation'])}")
        needed = {"Observation": observation_line_needed("screen_candidates"),
                  "Patient": patient_line_needed("screen_candidates")}
    for resource_type in ("Observation", "Patient"):
        apply_view(con, views[resource_type], screened[resource_type], VIEW_TABLES[resource_type],
                   needed[resource_type])
    if not every_line:  # the lines' text is read; only an incremental run reads it again (the keys)
        for table in VIEW_TABLES.values():
            drop_lines(con, f"{table}_lines")
    # Without a state the facts are read by one query, the rules' (which reads them twice): a view
    # costs less than writing a table. A state writes them and an incremental run reads them again.
    relation = "TABLE" if every_patient else "VIEW"
    con.execute(f"CREATE TEMP {relation} screen_new_facts AS SELECT * FROM ("
                f"{facts_query(VIEW_TABLES['Condition'], VIEW_TABLES['Observation'], VIEW_TABLES['Patient'])}) f")
    return sorted(malformed)


def _continue(con, previous: S.State) -> int:
    """``screen_summaries`` := the previous summaries with the patients this run touches screened
    again over their facts from every run; returns how many were touched."""
    keys = []
    for resource_type, table in VIEW_TABLES.items():
        apply_view(con, key_views()[resource_type], f"{table}_lines", f"{table}_keys")
        keys.append(f"SELECT '{resource_type}' AS resource_type, resource_id, patient_id FROM {table}_keys")
    con.execute(f"CREATE TEMP TABLE screen_new_keys AS {' UNION '.join(keys)}")
    touched, merged = S.incremental_queries(previous, _read_parquet, "screen_new_facts", "screen_new_keys")
    con.execute(f"CREATE TEMP TABLE touched AS {touched}")
    con.execute(f"CREATE TEMP TABLE screen_facts AS {merged}")
    _summaries_table(con, "screen_facts", "screen_touched_summaries")
    con.execute("CREATE TEMP TABLE screen_summaries AS SELECT * FROM screen_touched_summaries UNION ALL "
                f"SELECT * FROM {_read_parquet(previous.path(previous.summaries))} "
                "WHERE patient_id NOT IN (SELECT patient_id FROM touched)")
    return con.execute("SELECT count(*) FROM touched").fetchone()[0]


def run_duckdb(files: dict[str, list[Path]], views: dict[str, dict], out: Path, *, since: str | None = None,
               state_dir: str | None = None, codes: dict[str, tuple[str, ...]] | None = None,
               progress: Callable[[str, int], None] | None = None, memory_limit: str = "1GB",
               threads: int | None = None) -> dict:
    """Screen the files and write the worklist to ``out``; keep the state in ``state_dir`` (None:
    keep none), continuing the state at ``since`` (which needs ``state_dir``). Returns the totals
    and the malformed lines."""
    if since is not None and state_dir is None:
        raise ValueError("an incremental run keeps its state (state_dir)")
    local = LocalFiles()
    previous = S.read_state(local, since, "duckdb") if since else None
    spill = tempfile.mkdtemp(prefix="mastcds-screen-")  # for its owner alone (0700)
    con = connect(memory_limit, threads, spill)
    try:
        malformed = read_facts(con, files, views, codes or {}, every_patient=state_dir is not None,
                               every_line=previous is not None, progress=progress)
        rescreened = None
        if previous is not None:
            rescreened = _continue(con, previous)
        else:
            _summaries_table(con, "screen_new_facts", "screen_summaries")
        worklist_cursor = con.execute(f"SELECT {', '.join(WORKLIST_COLUMNS)} FROM screen_summaries "
                                      "WHERE priority IS NOT NULL ORDER BY priority, rule_count DESC, patient_id")
        names = [d[0] for d in worklist_cursor.description]
        worklist = [dict(zip(names, row)) for row in worklist_cursor.fetchall()]
        candidates, unusable = con.execute("SELECT count(*), coalesce(sum(unusable), 0) FROM screen_summaries").fetchone()
        con.execute("SET preserve_insertion_order = true")  # the worklist's rows keep their order
        write_worklist(worklist, out, con)
        if state_dir is not None:
            _keep_state(con, local, previous, state_dir)
    finally:
        con.close()
        shutil.rmtree(spill, ignore_errors=True)
    return {"flagged": len(worklist), "candidates": int(candidates), "unusable": int(unusable),
            "malformed": malformed, "rescreened": rescreened}


def _keep_state(con, local: LocalFiles, previous: S.State | None, state_dir: str) -> None:
    """Write this run's facts (and keys) and the summaries into the state, then its manifest."""
    if previous is None:
        partial = state_dir.rstrip("/") + ".partial"
        if Path(partial).exists():
            shutil.rmtree(partial)
        local.make_dirs(partial)
        state = S.State(partial, engine="duckdb")
    else:
        state = S.continue_state(local, previous, state_dir)
    number = state.next_number
    run = S.Run(f"facts-{number:06d}.parquet", f"keys-{number:06d}.parquet" if previous is not None else None)
    summaries_name = f"summaries-{number:06d}.parquet"
    written = {run.facts: "screen_new_facts", summaries_name: "(SELECT * FROM screen_summaries ORDER BY patient_id)"}
    if run.keys:
        written[run.keys] = "screen_new_keys"
    for name, relation in written.items():
        con.execute(f"COPY {relation} TO {_literal(state.path(name))} (FORMAT parquet)")
        make_private(state.path(name))
    S.commit(local, state, run, summaries_name)
    if previous is None:
        state.folder = state_dir
        local.replace_dir(partial, state_dir)
