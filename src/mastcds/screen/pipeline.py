"""Screen a Bulk Data export: pick the engine, run it, say what it did.

Both engines run the same steps (:mod:`mastcds.screen.ndjson` lines, the views, the
:mod:`mastcds.screen.facts` SQL, :mod:`mastcds.screen.patients` per patient, the state of
:mod:`mastcds.screen.state`), so the same export gives the same worklist on either engine.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from mastcds.screen.state import state_dir_for
from mastcds.screen.types import ScreenResult
from mastcds.screen.views import screening_views

ENGINES = ("duckdb", "spark")


def screen_export(source: str | Path, out: str | Path, *, engine: str = "duckdb", master: str | None = None,
                  since: str | None = None, keep_state: bool = True,
                  progress: Callable[[str, int], None] | None = None, memory_limit: str = "1GB",
                  threads: int | None = None, spark=None) -> ScreenResult:
    """Screen the export at ``source`` and write the worklist to ``out`` (.csv or .parquet).

    ``since``: the state of an earlier run, which this run (over an export made with ``_since``)
    continues. ``keep_state``: write this run's state next to the worklist (always with ``since``). DuckDB reads local
    folders; Spark reads what its Hadoop file systems reach (``file://``, ``hdfs://``, ``s3a://``,
    ``abfss://``), on ``master`` or in the given ``spark`` session.
    """
    views = screening_views()
    state_dir = state_dir_for(str(out)) if keep_state or since is not None else None
    if engine == "duckdb":
        from mastcds.screen.duckdb_engine import run_duckdb
        from mastcds.screen.views import discover_export, screening_codes

        files, skipped = discover_export(Path(source))
        done = run_duckdb(files, views, Path(out), since=since, state_dir=state_dir, codes=screening_codes(),
                          progress=progress, memory_limit=memory_limit, threads=threads)
        names = {t: [p.name for p in ps] for t, ps in files.items()}
        skipped_names = [p.name for p in skipped]
    elif engine == "spark":
        from mastcds.screen.spark_engine import run_spark, spark_session

        session = spark if spark is not None else spark_session(master)
        done = run_spark(session, str(source), str(out), views, since=since, state_dir=state_dir, progress=progress)
        names, skipped_names = done["files"], done["skipped"]
    else:
        raise ValueError(f"engine must be 'duckdb' or 'spark', got {engine!r}")
    return ScreenResult(str(out), done["flagged"], done["candidates"], done["unusable"], done["malformed"], names,
                        skipped_names, state_dir, done["rescreened"])
