"""Benchmark of population screening: `mastcds screen` on DuckDB against DuckDB's raw scan.

For each export shape (``mastcds synth --profile``: ``vitals``, a health system's export dominated
by vital signs; ``dense``, where most patients have a screening row) and size, one run generates
the export, then times, each in its own child process (so peak RSS is that of the measured work):
  * raw scan: DuckDB's typed NDJSON reader over the same files, reading every element the
    screening reads and aggregating per patient (the floor any screening over these files pays);
  * screen: `mastcds screen` as a user runs it (views, facts, rules, worklist, and the state an
    incremental run needs unless --no-state).
Two sizes show whether the cost is linear; Spark (local[2]) runs on the smallest export of the
first shape, with a check that its worklist is identical to DuckDB's.
Targets (issue 19): screen/raw <= 2 for both shapes, peak RSS <= 2 GB. On a shared machine the
load varies, so raw and screen are timed --repeat times, interleaved (raw, screen, raw, ...); the
table gives the fastest and the median of each, the ratio of each back-to-back pair, and the CPU
time of each child (all its threads), which the load on a shared machine disturbs less.

    .venv/bin/python bench/screen.py --patients 100000 --workdir /tmp/screenbench --reuse
    .venv/bin/python bench/screen.py --patients 20000 --shapes dense --repeat 2 --skip-spark   # quick look
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

console = Console(width=160)
MEMORY_LIMIT = "1GB"

RAW_SCAN = {
    "Observation": ("{'resourceType':'VARCHAR','id':'VARCHAR','status':'VARCHAR','subject':'STRUCT(reference VARCHAR)',"
                    "'code':'STRUCT(coding STRUCT(system VARCHAR, code VARCHAR)[])','effectiveDateTime':'VARCHAR',"
                    "'valueQuantity':'STRUCT(value DOUBLE, unit VARCHAR, code VARCHAR)',"
                    "'valueCodeableConcept':'STRUCT(coding STRUCT(system VARCHAR, code VARCHAR)[])',"
                    "'valueInteger':'BIGINT','focus':'STRUCT(reference VARCHAR)[]',"
                    "'extension':'STRUCT(url VARCHAR, valueCode VARCHAR)[]',"
                    "'component':'STRUCT(code STRUCT(coding STRUCT(system VARCHAR, code VARCHAR)[]), "
                    "valueQuantity STRUCT(value DOUBLE))[]'}",
                    "subject.reference", "max(valueQuantity.value), max(valueInteger), max(effectiveDateTime), "
                    "count(focus), count(extension), count(valueCodeableConcept), "
                    "count(DISTINCT code.coding[1].code), count(status), max(component[1].valueQuantity.value)"),
    "Condition": ("{'resourceType':'VARCHAR','id':'VARCHAR','subject':'STRUCT(reference VARCHAR)',"
                  "'code':'STRUCT(coding STRUCT(system VARCHAR, code VARCHAR)[])','onsetDateTime':'VARCHAR',"
                  "'recordedDate':'VARCHAR','verificationStatus':'STRUCT(coding STRUCT(code VARCHAR)[])'}",
                  "subject.reference", "max(onsetDateTime), max(recordedDate), count(verificationStatus), "
                  "count(DISTINCT code.coding[1].code)"),
    "Patient": ("{'resourceType':'VARCHAR','id':'VARCHAR','gender':'VARCHAR','birthDate':'VARCHAR'}",
                "id", "max(gender), max(birthDate)"),
}


def raw_scan(export: Path) -> dict:
    """Every element the screening reads, aggregated per patient, with DuckDB's typed reader."""
    import duckdb

    con = duckdb.connect()
    con.execute(f"SET memory_limit = '{MEMORY_LIMIT}'")
    groups = 0
    for resource_type, (columns, key, aggregates) in RAW_SCAN.items():
        for path in sorted(export.glob(f"{resource_type}.ndjson*")):
            groups += con.execute(
                f"SELECT count(*) FROM (SELECT {key} AS patient, count(*), {aggregates} FROM read_ndjson(?, "
                f"columns={columns}, ignore_errors=true) GROUP BY ALL)", [str(path)]).fetchone()[0]
    return {"groups": groups}


def screen(export: Path, keep_state: bool = True) -> dict:
    from mastcds.screen.pipeline import screen_export

    result = screen_export(export, export.parent / f"{export.name}-worklist.parquet", memory_limit=MEMORY_LIMIT,
                           keep_state=keep_state)
    return {"flagged": result.flagged, "candidates": result.candidates, "malformed": len(result.malformed)}


def spark_parity(export: Path) -> dict:
    import pyarrow.parquet as pq

    from mastcds.screen.pipeline import screen_export

    screen_export(export, export.parent / f"{export.name}-duckdb.parquet", keep_state=False)
    started = time.perf_counter()
    sparked = screen_export(export, export.parent / f"{export.name}-spark.parquet", engine="spark", keep_state=False)
    seconds = time.perf_counter() - started
    same = (pq.read_table(export.parent / f"{export.name}-duckdb.parquet").to_pylist()
            == pq.read_table(export.parent / f"{export.name}-spark.parquet").to_pylist())
    return {"identical": same, "flagged": sparked.flagged, "spark_seconds": seconds}


TASKS = {"raw": raw_scan, "screen": screen, "screen-no-state": lambda export: screen(export, keep_state=False),
         "spark": spark_parity}


def child(task: str, export: str) -> None:
    started = time.perf_counter()
    result = TASKS[task](Path(export))
    result["seconds"] = time.perf_counter() - started
    usage = resource.getrusage(resource.RUSAGE_SELF)
    result["cpu_seconds"] = usage.ru_utime + usage.ru_stime
    result["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps(result))


def child_environment(workdir: Path) -> dict[str, str]:
    """The children's environment: Python caches compiled bytecode (in ``workdir``), as an installed
    mastcds has it; with PYTHONDONTWRITEBYTECODE set, as on some CI machines, every run would
    compile mastcds's modules again (about 0.07 s), a cost no user pays twice. The raw scan imports
    only DuckDB, whose bytecode pip compiled at install."""
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    env["PYTHONPYCACHEPREFIX"] = str(workdir / "pycache")
    modules = "mastcds.screen.pipeline, mastcds.screen.duckdb_engine, mastcds.screen.patients, mastcds.screen.worklist"
    subprocess.run([sys.executable, "-c", f"import {modules}"], env=env, check=True)
    return env


def measure(task: str, export: Path, env: dict[str, str]) -> dict:
    done = subprocess.run([sys.executable, __file__, "--child", task, str(export)], capture_output=True, text=True,
                          env=env)
    if done.returncode != 0:
        console.print(done.stderr[-3000:], markup=False)
        raise SystemExit(f"{task} on {export} failed")
    return json.loads(done.stdout.strip().splitlines()[-1])


def generate(patients: int, folder: Path, seed: int, shape: str) -> float:
    from mastcds.screen.synth import synthesize

    with Progress(TextColumn(f"synth {patients:,} {shape} patients"), BarColumn(), MofNCompleteColumn(),
                  TimeElapsedColumn(), console=console, transient=True) as bar:
        task = bar.add_task("synth", total=patients)
        started = time.perf_counter()
        synthesize(patients, folder, seed=seed, shape=shape, progress=lambda n: bar.update(task, completed=n))
        return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--patients", type=int, nargs="+", default=[100_000], help="export sizes (two show linearity)")
    parser.add_argument("--shapes", nargs="+", default=["vitals", "dense"], choices=["mixed", "vitals", "dense"])
    parser.add_argument("--workdir", type=Path, default=None, help="where to write exports (default: a temp dir)")
    parser.add_argument("--skip-spark", action="store_true")
    parser.add_argument("--no-state", action="store_true", help="time the screening without writing its state")
    parser.add_argument("--repeat", type=int, default=5,
                        help="time raw scan and screen this many times, interleaved; report fastest and median")
    parser.add_argument("--reuse", action="store_true", help="reuse exports already in --workdir")
    parser.add_argument("--child", nargs=2, metavar=("TASK", "EXPORT"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(*args.child)
        return
    workdir = args.workdir or Path(tempfile.mkdtemp(prefix="mastcds-bench-"))
    env = child_environment(workdir)
    table = Table(title=f"mastcds screen benchmark ({workdir})")
    for column in ("shape", "patients", "Observation lines", "NDJSON MB", "synth s", "raw scan s\nmin / median",
                   "screen s\nmin / median", "screen/raw pairs\nmin / median", "CPU s raw / screen\nmedian",
                   "peak RSS screen MB", "peak RSS raw MB", "candidates", "flagged"):
        table.add_column(column, justify="right")
    timings: dict[str, dict[int, float]] = {}
    task = "screen-no-state" if args.no_state else "screen"
    for shape in args.shapes:
        for patients in sorted(set(args.patients)):
            export = workdir / f"export-{shape}-{patients}"
            reused = args.reuse and (export / "ground_truth.json").exists()
            synth_seconds = float("nan") if reused else generate(patients, export, seed=patients, shape=shape)
            truth = json.loads((export / "ground_truth.json").read_text())
            size_mb = sum(p.stat().st_size for p in export.glob("*.ndjson*")) / 1e6
            runs = [(measure("raw", export, env), measure(task, export, env)) for _ in range(max(1, args.repeat))]
            raw_s = [r["seconds"] for r, _ in runs]
            screen_s = [s["seconds"] for _, s in runs]
            ratios = [s / r for r, s in zip(raw_s, screen_s, strict=True)]
            timings.setdefault(shape, {})[patients] = statistics.median(screen_s)
            table.add_row(shape, f"{patients:,}", f"{truth['resources']['Observation']:,}", f"{size_mb:,.0f}",
                          f"{synth_seconds:.1f}", f"{min(raw_s):.2f} / {statistics.median(raw_s):.2f}",
                          f"{min(screen_s):.2f} / {statistics.median(screen_s):.2f}",
                          f"{min(ratios):.2f} / {statistics.median(ratios):.2f}",
                          f"{statistics.median(r['cpu_seconds'] for r, _ in runs):.2f} / "
                          f"{statistics.median(s['cpu_seconds'] for _, s in runs):.2f}",
                          f"{max(s['peak_rss_mb'] for _, s in runs):.0f}", f"{max(r['peak_rss_mb'] for r, _ in runs):.0f}",
                          f"{runs[0][1]['candidates']:,}", f"{runs[0][1]['flagged']:,}")
    console.print(table)
    for shape, by_size in timings.items():
        if len(by_size) >= 2:
            small, large = min(by_size), max(by_size)
            console.print(f"linearity ({shape}): {large / small:.1f}x patients -> "
                          f"{by_size[large] / by_size[small]:.2f}x median screen time")
    if not args.skip_spark:
        smallest = workdir / f"export-{args.shapes[0]}-{min(args.patients)}"
        parity = measure("spark", smallest, env)
        console.print(f"Spark local[2] on {smallest.name}: {parity['spark_seconds']:.1f} s; "
                      f"worklist identical to DuckDB: {parity['identical']} ({parity['flagged']} flagged)")


if __name__ == "__main__":
    main()
