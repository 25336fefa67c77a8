"""Writing the worklist file (CSV or Parquet, chosen by the extension), atomically."""

from __future__ import annotations

import contextlib
import csv
from pathlib import Path

from mastcds.atomic_file import make_private, open_private
from mastcds.screen.types import WORKLIST_COLUMNS

WORKLIST_SUFFIXES = (".csv", ".parquet")


def worklist_format(out: str) -> str:
    """``csv`` or ``parquet`` from the name ``out`` ends with, or ValueError."""
    for suffix in WORKLIST_SUFFIXES:
        if out.endswith(suffix):
            return suffix[1:]
    raise ValueError(f"worklist must end in .csv or .parquet, got {out.rpartition('/')[2]!r}")


def write_worklist(rows: list[dict], out: Path, con=None) -> None:
    """Write the worklist as CSV or Parquet (by extension), atomically: a failed run leaves nothing
    half-written; readable by its owner only (patient ids), whatever the umask.

    CSV quotes every text value (as Arrow's CSV writer does); Parquet is written by DuckDB, already
    loaded for the screening (on ``con`` when given, else a connection of its own), with nullable
    columns: text, and 32-bit integers for the two counts.
    """
    kind = worklist_format(out.name)
    partial = out.with_name(out.name + ".partial")
    columns = [[row[name] for row in rows] for name in WORKLIST_COLUMNS]
    if kind == "parquet":
        import duckdb

        types = {"priority": "INTEGER", "rule_count": "INTEGER"}
        select = ", ".join(f"unnest(?::{types.get(name, 'VARCHAR')}[]) AS {name}" for name in WORKLIST_COLUMNS)
        target = "'" + str(partial).replace("'", "''") + "'"
        with duckdb.connect() if con is None else contextlib.nullcontext(con) as writer:
            writer.execute(f"COPY (SELECT {select}) TO {target} (FORMAT parquet)", columns)
    else:
        with open(open_private(partial, exclusive=False), "w", newline="", encoding="utf-8") as handle:
            writer = csv.writer(handle, quoting=csv.QUOTE_NONNUMERIC, lineterminator="\n")
            writer.writerow(WORKLIST_COLUMNS)
            writer.writerows(zip(*columns, strict=True))
    make_private(partial)  # DuckDB writes its own file
    partial.replace(out)
