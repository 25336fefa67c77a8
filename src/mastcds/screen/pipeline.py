"""Screen a Bulk Data export: engine rows -> patient records -> rules -> worklist.

The engines (DuckDB, Spark) only flatten and filter; :func:`worklist_from_rows` is shared, so the
same export gives the same worklist on either engine.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from mastcds.atomic_file import make_private, open_private
from mastcds.screen.records import build_records
from mastcds.screen.rules import RULES, priority, screen_record

WORKLIST_COLUMNS = ("patient_id", "priority", "rules", "rule_count", "evidence")


@dataclass(frozen=True)
class Malformed:
    """A line that is not a FHIR resource (invalid JSON or no resourceType)."""

    file: str
    line: int


@dataclass
class EngineRows:
    """What an engine hands over: view rows of candidate patients, and what it could not read."""

    patients: list[dict]
    conditions: list[dict]
    observations: list[dict]
    malformed: list[Malformed]
    files: dict[str, list[str]] = field(default_factory=dict)


@dataclass
class ScreenResult:
    worklist: list[dict]
    malformed: list[Malformed]
    candidates: int
    unusable_results: int
    files: dict[str, list[str]]
    skipped_files: list[str]


def worklist_from_rows(rows: EngineRows) -> tuple[list[dict], int, int]:
    """The worklist (one row per flagged patient, most urgent first), candidates seen, unusable results."""
    records = build_records(rows.patients, rows.conditions, rows.observations)
    worklist = []
    for record in records:
        findings = screen_record(record)
        if not findings:
            continue
        evidence = {f.rule: {"title": RULES[f.rule].title, "source": RULES[f.rule].source, "evidence": f.evidence}
                    for f in findings}
        if record.unusable:
            evidence["unusable-results"] = {"evidence": record.unusable}
        worklist.append({
            "patient_id": record.patient_id,
            "priority": priority(findings),
            "rules": ";".join(f.rule for f in findings),
            "rule_count": len(findings),
            "evidence": json.dumps(evidence, ensure_ascii=False, sort_keys=True),
        })
    worklist.sort(key=lambda row: (row["priority"], -row["rule_count"], row["patient_id"]))
    unusable = sum(len(r.unusable) for r in records)
    return worklist, len(records), unusable


def screen_export(export_dir: Path, *, engine: str = "duckdb", master: str | None = None,
                  progress: Callable[[str, int], None] | None = None, memory_limit: str = "1GB") -> ScreenResult:
    """Run the screening on ``export_dir`` with ``engine`` ("duckdb" or "spark")."""
    from mastcds.screen.views import discover_export, screening_views

    files, skipped = discover_export(export_dir)
    views = screening_views()
    if engine == "duckdb":
        from mastcds.screen.duckdb_engine import run_duckdb
        from mastcds.screen.views import screening_prefilters

        rows = run_duckdb(files, views, progress=progress, memory_limit=memory_limit, prefilters=screening_prefilters())
    elif engine == "spark":
        from mastcds.screen.spark_engine import run_spark, spark_session

        session = spark_session(master or "local[2]")
        rows = run_spark(session, files, views, progress=progress)
    else:
        raise ValueError(f"engine must be 'duckdb' or 'spark', got {engine!r}")
    worklist, candidates, unusable = worklist_from_rows(rows)
    return ScreenResult(worklist, sorted(rows.malformed, key=lambda m: (m.file, m.line)), candidates, unusable,
                        {t: [p.name for p in ps] for t, ps in files.items()}, [p.name for p in skipped])


def write_worklist(rows: list[dict], out: Path) -> None:
    """Write the worklist as CSV or Parquet (by extension), atomically: a failed run leaves nothing half-written.

    CSV quotes every text value (as Arrow's CSV writer does); Parquet is written by DuckDB, already
    loaded for the screening, with nullable columns: text, and 32-bit integers for the two counts.
    """
    partial = out.with_name(out.name + ".partial")
    columns = [[row[name] for row in rows] for name in WORKLIST_COLUMNS]
    if out.suffix == ".parquet":
        import duckdb

        types = {"priority": "INTEGER", "rule_count": "INTEGER"}
        select = ", ".join(f"unnest(?::{types.get(name, 'VARCHAR')}[]) AS {name}" for name in WORKLIST_COLUMNS)
        target = "'" + str(partial).replace("'", "''") + "'"
        with duckdb.connect() as con:
            con.execute(f"COPY (SELECT {select}) TO {target} (FORMAT parquet)", columns)
    elif out.suffix == ".csv":
        with open(open_private(partial, exclusive=False), "w", newline="", encoding="utf-8") as handle:
            writer = csv.writer(handle, quoting=csv.QUOTE_NONNUMERIC, lineterminator="\n")
            writer.writerow(WORKLIST_COLUMNS)
            writer.writerows(zip(*columns, strict=True))
    else:
        raise ValueError(f"worklist must end in .csv or .parquet, got {out.name!r}")
    make_private(partial)  # patient ids: the owner's alone, whatever the umask (DuckDB writes its own file)
    partial.replace(out)
