"""Benchmark of population screening: `mastcds screen` on DuckDB against DuckDB's raw scan.

One run generates the exports, then times, each in its own child process (so peak RSS is that of
the measured work only):
  * raw scan: DuckDB's typed NDJSON reader over the same files, reading every element the
    screening reads and aggregating per patient (the floor any screening over these files pays);
  * screen: the full pipeline (views compiled to SQL, filter, records, rules, worklist);
at --patients (default 1,000,000) and --small (default 100,000) patients to show the cost is
linear; then Spark on the small export with a check that its worklist is identical.
Targets (issue 6): screen/raw <= 2, peak RSS <= 2 GB. On a shared machine the load varies, so raw
and screen are timed --repeat times, interleaved (raw, screen, raw, screen, ...); the table gives
the fastest and the median of each, and the ratio of each raw/screen pair (run back to back, so
under about the same load) as its lowest and median value.

    .venv/bin/python bench/screen.py                       # full run (about 10M Observations)
    .venv/bin/python bench/screen.py --patients 20000 --small 5000 --skip-spark   # quick look
"""

from __future__ import annotations

import argparse
import json
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
                    "'extension':'STRUCT(url VARCHAR, valueCode VARCHAR)[]'}",
                    "subject.reference", "max(valueQuantity.value), max(valueInteger), max(effectiveDateTime), "
                    "count(focus), count(extension), count(valueCodeableConcept), "
                    "count(DISTINCT code.coding[1].code), count(status)"),
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


def screen(export: Path) -> dict:
    from mastcds.screen.pipeline import screen_export, write_worklist

    result = screen_export(export, memory_limit=MEMORY_LIMIT)
    write_worklist(result.worklist, export.parent / f"{export.name}-worklist.parquet")
    return {"flagged": len(result.worklist), "malformed": len(result.malformed)}


def spark_parity(export: Path) -> dict:
    from mastcds.screen.pipeline import screen_export

    duck = screen_export(export)
    started = time.perf_counter()
    sparked = screen_export(export, engine="spark")
    seconds = time.perf_counter() - started
    return {"identical": sparked.worklist == duck.worklist and sparked.malformed == duck.malformed,
            "flagged": len(sparked.worklist), "spark_seconds": seconds}


def child(task: str, export: str) -> None:
    started = time.perf_counter()
    result = {"raw": raw_scan, "screen": screen, "spark": spark_parity}[task](Path(export))
    result["seconds"] = time.perf_counter() - started
    result["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps(result))


def measure(task: str, export: Path) -> dict:
    done = subprocess.run([sys.executable, __file__, "--child", task, str(export)], capture_output=True, text=True)
    if done.returncode != 0:
        console.print(done.stderr[-3000:], markup=False)
        raise SystemExit(f"{task} on {export} failed")
    return json.loads(done.stdout.strip().splitlines()[-1])


def generate(patients: int, folder: Path, seed: int) -> float:
    from mastcds.screen.synth import synthesize

    with Progress(TextColumn(f"synth {patients:,} patients"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                  console=console, transient=True) as bar:
        task = bar.add_task("synth", total=patients)
        started = time.perf_counter()
        synthesize(patients, folder, seed=seed, progress=lambda n: bar.update(task, completed=n))
        return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--patients", type=int, default=1_000_000)
    parser.add_argument("--small", type=int, default=100_000, help="second size, for linearity and Spark")
    parser.add_argument("--workdir", type=Path, default=None, help="where to write exports (default: a temp dir)")
    parser.add_argument("--skip-spark", action="store_true")
    parser.add_argument("--repeat", type=int, default=5,
                        help="time raw scan and screen this many times, interleaved; report fastest and median")
    parser.add_argument("--reuse", action="store_true", help="reuse exports already in --workdir")
    parser.add_argument("--child", nargs=2, metavar=("TASK", "EXPORT"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(*args.child)
        return
    workdir = args.workdir or Path(tempfile.mkdtemp(prefix="mastcds-bench-"))
    table = Table(title=f"mastcds screen benchmark ({workdir})")
    for column in ("patients", "Observation lines", "NDJSON MB", "synth s", "raw scan s\nmin / median",
                   "screen s\nmin / median", "screen/raw pairs\nmin / median", "peak RSS screen MB", "peak RSS raw MB",
                   "flagged"):
        table.add_column(column, justify="right")
    timings = {}
    for patients in sorted({args.small, args.patients}):
        export = workdir / f"export-{patients}"
        reused = args.reuse and (export / "ground_truth.json").exists()
        synth_seconds = float("nan") if reused else generate(patients, export, seed=patients)
        truth = json.loads((export / "ground_truth.json").read_text())
        size_mb = sum(p.stat().st_size for p in export.glob("*.ndjson*")) / 1e6
        runs = [(measure("raw", export), measure("screen", export)) for _ in range(max(1, args.repeat))]
        raw_s = [r["seconds"] for r, _ in runs]
        screen_s = [s["seconds"] for _, s in runs]
        ratios = [s / r for r, s in zip(raw_s, screen_s, strict=True)]
        timings[patients] = statistics.median(screen_s)
        table.add_row(f"{patients:,}", f"{truth['resources']['Observation']:,}", f"{size_mb:,.0f}", f"{synth_seconds:.1f}",
                      f"{min(raw_s):.2f} / {statistics.median(raw_s):.2f}",
                      f"{min(screen_s):.2f} / {statistics.median(screen_s):.2f}",
                      f"{min(ratios):.2f} / {statistics.median(ratios):.2f}",
                      f"{max(s['peak_rss_mb'] for _, s in runs):.0f}", f"{max(r['peak_rss_mb'] for r, _ in runs):.0f}",
                      f"{runs[0][1]['flagged']:,}")
    console.print(table)
    if len(timings) == 2:
        small, large = sorted(timings)
        console.print(f"linearity: {large / small:.1f}x patients -> {timings[large] / timings[small]:.2f}x median screen time")
    if not args.skip_spark:
        parity = measure("spark", workdir / f"export-{args.small}")
        console.print(f"Spark local[2] on {args.small:,} patients: {parity['spark_seconds']:.1f} s; "
                      f"worklist identical to DuckDB: {parity['identical']} ({parity['flagged']} flagged)")


if __name__ == "__main__":
    main()
