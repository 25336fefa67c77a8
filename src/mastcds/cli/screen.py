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


class Profile(str, Enum):  # mastcds.screen.synth.SHAPES
    mixed = "mixed"
    vitals = "vitals"
    dense = "dense"


def _progress() -> Progress:
    return Progress(TextColumn("{task.description}"), BarColumn(), DownloadColumn(), TimeElapsedColumn(),
                    console=stderr.now(), transient=True)


def _is_uri(text: str) -> bool:
    return re.match(r"^[A-Za-z][A-Za-z0-9+.-]*://", text) is not None


def _check_screen_args(export: str, out: str, engine: Engine, master: str | None, memory_limit: str) -> list[str]:
    """What is wrong with the arguments, one line each (nothing is read or written yet)."""
    problems = []
    if not out.endswith((".csv", ".parquet")):
        problems.append(f"--out {out}: the worklist must end in .csv or .parquet")
    if master is not None and engine is not Engine.spark:
        problems.append(f"--master {master}: only with --engine spark")
    if not re.fullmatch(r"\d+(\.\d+)?\s*(KB|MB|GB|TB|KiB|MiB|GiB|TiB)", memory_limit, re.IGNORECASE):
        problems.append(f"--memory-limit {memory_limit!r}: expected a size such as 512MB or 2GB")
    if engine is Engine.duckdb:
        if _is_uri(export) or _is_uri(out):
            problems.append("the duckdb engine reads and writes local paths; for file://, hdfs://, s3a:// or abfss:// "
                            "use --engine spark")
        else:
            if not Path(export).is_dir():
                problems.append(f"{export}: not a directory (expected a Bulk Data export folder)")
            if not Path(out).parent.is_dir():
                problems.append(f"--out {out}: folder {Path(out).parent} does not exist")
    return problems


@app.command()
def screen(
    export: str = typer.Argument(..., metavar="EXPORT", help="FHIR Bulk Data export folder (Type.ndjson[.gz] files); "
                                 "with --engine spark also a file://, hdfs://, s3a:// or abfss:// URI"),
    out: str = typer.Option(..., "--out", help="Worklist to write: .csv or .parquet (a path, or a URI with Spark)"),
    engine: Engine = typer.Option(Engine.duckdb, "--engine", help="duckdb (embedded, default) or spark"),
    master: str | None = typer.Option(None, "--master", help="Spark master URL with --engine spark: local[N] (default "
                                      "local[2]), spark://host:7077, yarn, k8s://...; omit under spark-submit"),
    since: str | None = typer.Option(None, "--since", metavar="STATE", help="Continue the state of an earlier run "
                                     "(its worklist's .state folder) with an export made with _since"),
    keep_state: bool = typer.Option(False, "--state", help="Keep the state an incremental run needs, next to the "
                                    "worklist (always with --since)"),
    memory_limit: str = typer.Option("1GB", "--memory-limit", help="DuckDB memory cap, e.g. 1GB, 512MB"),
) -> None:
    """Flag patients who may have a missed systemic mastocytosis; one worklist row per patient."""
    from mastcds.screen.pipeline import screen_export
    from mastcds.screen.state import StateError
    from mastcds.screen.viewdef import ViewError
    from mastcds.screen.views import discover_export

    problems = _check_screen_args(export, out, engine, master, memory_limit)
    if problems:
        fail(problems)
    total = 1
    if engine is Engine.duckdb:
        files, _skipped = discover_export(Path(export))
        if not any(files.values()):
            fail([f"{export}: no Patient, Condition or Observation .ndjson(.gz) files"])
        total = sum(p.stat().st_size for paths in files.values() for p in paths) or 1
    with _progress() as bar:
        task = bar.add_task(f"screening on {engine.value}", total=total)

        def advance(name: str, size: int) -> None:
            bar.update(task, advance=size, description=f"screening on {engine.value}: {name} read")

        try:
            result = screen_export(export, out, engine=engine.value, master=master, since=since,
                                   keep_state=keep_state or since is not None, progress=advance,
                                   memory_limit=memory_limit)
        except StateError as error:
            fail([f"--since: {error}"])
        except ViewError as error:
            fail([f"view definition: {error}"])
        except FileNotFoundError as error:
            fail([str(error)])
        except OSError as error:
            fail([f"{export}: cannot be read ({error.strerror or error})"])
    for item in result.malformed[:MALFORMED_SHOWN]:
        stderr.print(f"warning: {item.file} line {item.line}: not a FHIR resource (not JSON, not an object, no "
                     "resourceType, or longer than 16 MiB), skipped", markup=False)
    if len(result.malformed) > MALFORMED_SHOWN:
        stderr.print(f"warning: {len(result.malformed) - MALFORMED_SHOWN} more malformed lines not shown", markup=False)
    for name in result.skipped_files:
        stderr.print(f"note: {name}: not a Patient, Condition or Observation NDJSON file, not read", markup=False)
    if not any(result.files.values()):
        stderr.print(f"note: {export}: no Patient, Condition or Observation .ndjson(.gz) files", markup=False)
    incremental = "" if result.rescreened is None else f"{result.rescreened} patients screened again; "
    state = "" if result.state is None else f"; state: {result.state}"
    typer.echo(f"{result.flagged} patients flagged of {result.candidates} screened; {incremental}"
               f"{len(result.malformed)} malformed lines skipped; {result.unusable_results} results unusable "
               f"(no value, unknown unit, implausible value or no sampling time); worklist: {out}{state}")


@app.command()
def synth(
    patients: int = typer.Option(..., "--patients", min=1, max=50_000_000, help="How many patients"),
    out: Path = typer.Option(..., "--out", help="Folder to write the export into (created if missing)"),
    seed: int = typer.Option(42, "--seed", help="Random seed: the same seed writes the same export"),
    gzip_output: bool = typer.Option(False, "--gzip", help="Write .ndjson.gz instead of .ndjson"),
    profile: Profile = typer.Option(Profile.mixed, "--profile", help="What the background patients have: mixed (lab "
                                    "results), vitals (a health system's vital signs), dense (most have a screening row)"),
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
        truth = synthesize(patients, out, seed=seed, gzip_output=gzip_output, shape=profile.value,
                           progress=lambda done: bar.update(task, completed=done))
    counts = ", ".join(f"{n} {t}" for t, n in truth["resources"].items())
    typer.echo(f"{patients} patients ({counts} lines, {len(truth['malformed'])} malformed on purpose); "
               f"{len(truth['planted'])} planted cases; ground truth: {out / GROUND_TRUTH}")
