"""Commands for populations: screen a FHIR Bulk Data export, and write a synthetic one."""

from __future__ import annotations

import re
from enum import Enum
from pathlib import Path

import typer
from rich.progress import BarColumn, DownloadColumn, Progress, TextColumn, TimeElapsedColumn

from mastcds.cli.app import app
from mastcds.cli.output import TerminalConsole, fail

stderr = TerminalConsole(stderr=True, soft_wrap=True)
MALFORMED_SHOWN = 20


class Engine(str, Enum):
    duckdb = "duckdb"
    spark = "spark"


def _progress() -> Progress:
    return Progress(TextColumn("{task.description}"), BarColumn(), DownloadColumn(), TimeElapsedColumn(),
                    console=stderr.now(), transient=True)


@app.command()
def screen(
    export_dir: Path = typer.Argument(..., metavar="EXPORT_DIR", help="FHIR Bulk Data export: Type.ndjson[.gz] files"),
    out: Path = typer.Option(..., "--out", help="Worklist to write: .csv or .parquet"),
    engine: Engine = typer.Option(Engine.duckdb, "--engine", help="duckdb (embedded, default) or spark"),
    master: str = typer.Option("local[2]", "--master", help="Spark master URL (with --engine spark)"),
    memory_limit: str = typer.Option("1GB", "--memory-limit", help="DuckDB memory cap, e.g. 1GB, 512MB"),
) -> None:
    """Flag patients who may have a missed systemic mastocytosis; one worklist row per patient."""
    from mastcds.screen.pipeline import screen_export, write_worklist
    from mastcds.screen.viewdef import ViewError
    from mastcds.screen.views import discover_export

    if not export_dir.is_dir():
        fail([f"{export_dir}: not a directory (expected a Bulk Data export folder)"])
    if out.suffix not in (".csv", ".parquet"):
        fail([f"--out {out}: the worklist must end in .csv or .parquet"])
    if not out.parent.is_dir():
        fail([f"--out {out}: folder {out.parent} does not exist"])
    if not re.fullmatch(r"\d+(\.\d+)?\s*(KB|MB|GB|TB|KiB|MiB|GiB|TiB)", memory_limit, re.IGNORECASE):
        fail([f"--memory-limit {memory_limit!r}: expected a size such as 512MB or 2GB"])
    files, _skipped = discover_export(export_dir)
    total = sum(p.stat().st_size for paths in files.values() for p in paths)
    if total == 0 and not any(files.values()):
        fail([f"{export_dir}: no Patient, Condition or Observation .ndjson(.gz) files"])
    with _progress() as bar:
        task = bar.add_task(f"screening on {engine.value}", total=total or 1)

        def advance(name: str, size: int) -> None:
            bar.update(task, advance=size, description=f"screening on {engine.value}: {name} done")

        try:
            result = screen_export(export_dir, engine=engine.value, master=master, progress=advance,
                                   memory_limit=memory_limit)
        except ViewError as error:
            fail([f"view definition: {error}"])
        except OSError as error:
            fail([f"{export_dir}: cannot be read ({error.strerror or error})"])
    write_worklist(result.worklist, out)
    for item in result.malformed[:MALFORMED_SHOWN]:
        stderr.print(f"warning: {item.file} line {item.line}: not a FHIR resource (invalid JSON or no resourceType), skipped",
                     markup=False)
    if len(result.malformed) > MALFORMED_SHOWN:
        stderr.print(f"warning: {len(result.malformed) - MALFORMED_SHOWN} more malformed lines not shown", markup=False)
    for name in result.skipped_files:
        stderr.print(f"note: {name}: not a Patient, Condition or Observation NDJSON file, not read", markup=False)
    typer.echo(f"{len(result.worklist)} patients flagged of {result.candidates} with a screening code; "
               f"{len(result.malformed)} malformed lines skipped; {result.unusable_results} results unusable "
               f"(no value, unknown unit or sampling time); worklist: {out}")


@app.command()
def synth(
    patients: int = typer.Option(..., "--patients", min=1, max=50_000_000, help="How many patients"),
    out: Path = typer.Option(..., "--out", help="Folder to write the export into (created if missing)"),
    seed: int = typer.Option(42, "--seed", help="Random seed: the same seed writes the same export"),
    gzip_output: bool = typer.Option(False, "--gzip", help="Write .ndjson.gz instead of .ndjson"),
) -> None:
    """Write a synthetic Bulk Data export with planted screening cases and ground_truth.json."""
    from mastcds.screen.synth import GROUND_TRUTH, synthesize

    if out.exists() and not out.is_dir():
        fail([f"--out {out}: exists and is not a folder"])
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        fail([f"--out {out}: cannot be created ({error.strerror})"])
    with _progress() as bar:
        task = bar.add_task("writing patients", total=patients)
        truth = synthesize(patients, out, seed=seed, gzip_output=gzip_output,
                           progress=lambda done: bar.update(task, completed=done))
    counts = ", ".join(f"{n} {t}" for t, n in truth["resources"].items())
    typer.echo(f"{patients} patients ({counts} lines, {len(truth['malformed'])} malformed on purpose); "
               f"{len(truth['planted'])} planted cases; ground truth: {out / GROUND_TRUTH}")
