"""The screening engine on Apache Spark: the same views, facts SQL and rule functions as DuckDB,
run where the data is.

Each resource type's files are read as text by the executors, numbered as
:mod:`mastcds.screen.ndjson` says, parsed once to VARIANT and run through the views (Spark SQL);
the facts SQL of :mod:`mastcds.screen.facts` picks what the rules need, and the rows go, grouped
by patient, to :func:`mastcds.screen.patients.summaries` on the executors (``mapInArrow``). The
summaries stay on the cluster; Spark writes the worklist (and the state) to the output URI. The
driver only ever holds the malformed lines' positions, one row of counts per file block, and the
totals.

Paths are what the cluster's Hadoop file systems read: a local path, ``file://``, ``hdfs://``,
``s3a://``, ``abfss://`` (with the connector and credentials configured on the cluster).
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable

from mastcds.screen import state as S
from mastcds.screen.facts import facts_query, rule_input_query
from mastcds.screen.ndjson import BLANK_PATTERN, MAX_LINE_BYTES, TYPED_LINE, code_pattern
from mastcds.screen.patients import arrow_summaries
from mastcds.screen.types import FACT_COLUMNS, SUMMARY_COLUMNS, SUMMARY_TYPES, WORKLIST_COLUMNS, Malformed
from mastcds.screen.viewdef import compile_view
from mastcds.screen.views import VIEW_FILES, key_views, screening_codes
from mastcds.screen.worklist import worklist_format

SUFFIXES = (".ndjson", ".ndjson.gz")


def spark_session(master: str | None = None, *, config: dict[str, str] | None = None):
    """A Spark session on ``master`` (``local[N]``, ``local-cluster[...]``, ``spark://``, ``yarn``,
    ``k8s://``); without one, the master ``spark-submit`` was given, else ``local[2]``.

    On a local master the executors' Python is this one (it has mastcds); on a cluster it is the
    cluster's (``spark.pyspark.python``), where mastcds must be installed or shipped (docs/screening.md).
    """
    under_submit = "PYSPARK_GATEWAY_PORT" in os.environ  # spark-submit started the JVM and set the master
    if master is None and not under_submit:
        master = "local[2]"
    local = master is not None and master.startswith("local")
    if local:
        os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")
        os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    from pyspark.sql import SparkSession

    builder = SparkSession.builder.appName("mastcds-screen")
    if master is not None:
        builder = builder.master(master)
    builder = builder.config("spark.ui.showConsoleProgress", "false").config("spark.sql.ansi.enabled", "true")
    if local:  # this process starts the driver JVM; on a cluster its memory is spark-submit's to set
        builder = (builder.config("spark.ui.enabled", "false").config("spark.sql.shuffle.partitions", "4")
                   .config("spark.driver.memory", os.environ.get("MASTCDS_SPARK_DRIVER_MEMORY", "1g")))
    for key, value in (config or {}).items():
        builder = builder.config(key, value)
    session = builder.getOrCreate()
    session.sparkContext.setLogLevel("ERROR")
    return session


class HadoopFiles:
    """:class:`~mastcds.screen.state.Files` through the cluster's Hadoop FileSystem (any URI it reads)."""

    def __init__(self, spark):
        self._jvm = spark._jvm
        self._conf = spark._jsc.hadoopConfiguration()

    def path(self, uri: str):
        return self._jvm.org.apache.hadoop.fs.Path(uri)

    def fs(self, uri: str):
        return self.path(uri).getFileSystem(self._conf)

    def read_text(self, uri: str) -> str | None:
        fs = self.fs(uri)
        if not fs.exists(self.path(uri)):
            return None
        stream = fs.open(self.path(uri))
        try:
            data = self._jvm.org.apache.commons.io.IOUtils.toByteArray(stream)
        finally:
            stream.close()
        return bytes(data).decode("utf-8")

    def write_text(self, uri: str, text: str) -> None:
        fs, partial = self.fs(uri), self.path(uri + ".partial")
        stream = fs.create(partial, True)
        try:
            stream.write(bytearray(text.encode("utf-8")))
        finally:
            stream.close()
        fs.delete(self.path(uri), False)
        if not fs.rename(partial, self.path(uri)):
            raise OSError(f"cannot rename {uri}.partial to {uri}")

    def copy(self, source: str, target: str) -> None:
        self._jvm.org.apache.hadoop.fs.FileUtil.copy(self.fs(source), self.path(source), self.fs(target),
                                                     self.path(target), False, True, self._conf)

    def delete(self, uri: str) -> None:
        self.fs(uri).delete(self.path(uri), True)

    def make_dirs(self, uri: str) -> None:
        """The folder, for its owner alone (what Spark then writes into it holds patient data), on
        the file systems that have permissions (local, HDFS, ADLS Gen2; a no-op on S3)."""
        fs = self.fs(uri)
        fs.mkdirs(self.path(uri))
        self.make_private(uri, "700")

    def make_private(self, uri: str, mode: str = "600") -> None:
        self.fs(uri).setPermission(self.path(uri), self._jvm.org.apache.hadoop.fs.permission.FsPermission(mode))

    def replace_dir(self, source: str, target: str) -> None:
        fs = self.fs(target)
        fs.delete(self.path(target), True)
        if not fs.rename(self.path(source), self.path(target)):
            raise OSError(f"cannot rename {source} to {target}")

    def drop_checksum(self, uri: str) -> None:
        """Delete the checksum file the local file system renamed along with the file at ``uri``
        (also when another file system, such as viewfs, keeps it on a local disk)."""
        held = self.fs(uri).resolvePath(self.path(uri))
        fs = held.getFileSystem(self._conf)
        if fs.getScheme() == "file":
            fs.delete(fs.getChecksumFile(held), False)

    def list(self, uri: str) -> list[tuple[str, str, bool, int]] | None:
        """(name, URI, is a file, size) of what is in the folder ``uri``; None when it is not a folder."""
        fs, path = self.fs(uri), self.path(uri)
        if not fs.exists(path) or not fs.getFileStatus(path).isDirectory():
            return None
        return [(s.getPath().getName(), s.getPath().toString(), s.isFile(), s.getLen()) for s in fs.listStatus(path)]


def discover(files: HadoopFiles, source: str) -> tuple[dict[str, list[tuple[str, int]]], list[str]]:
    """Bulk Data files by resource type ((URI, size), sorted by name) and the names of files skipped,
    as :func:`mastcds.screen.views.discover_export` finds them in a local folder."""
    listing = files.list(source)
    if listing is None:
        raise FileNotFoundError(f"{source}: not a folder the cluster can read")
    found: dict[str, list[tuple[str, int]]] = {t: [] for t in VIEW_FILES}
    skipped = []
    for name, uri, is_file, size in sorted(listing):
        if not is_file:
            continue
        resource_type = name.split(".")[0].split("-")[0]
        if name.endswith(SUFFIXES) and resource_type in found:
            found[resource_type].append((uri, size))
        elif name != "ground_truth.json":
            skipped.append(name)
    return found, skipped


def _literal(text: str) -> str:
    return "'" + text.replace("\\", "\\\\").replace("'", "\\'") + "'"


def _lines(spark, found: dict[str, list[tuple[str, int]]], codes: dict[str, tuple[str, ...]], keep_all: bool):
    """One row per line of every file (one scan): its file ``name``, ``block`` and position in the
    scan (``mid``); its ``kind`` (0 blank, 1 resource, 2 malformed, as :mod:`~mastcds.screen.ndjson`
    says); its resource ``type`` (from the file name); whether its text may hold one of its type's
    ``codes`` (``coded``); and its VARIANT ``r`` when it is a coded resource, or any resource with
    ``keep_all``."""
    from pyspark.sql import functions as F

    uris = [uri for paths in found.values() for uri, _ in paths]
    spark.read.text(uris).select(
        F.col("_metadata.file_name").alias("name"), F.col("_metadata.file_block_start").alias("block"),
        F.monotonically_increasing_id().alias("mid"), "value").createOrReplaceTempView("screen_raw")
    types = " ".join(f"WHEN {_literal(uri.rpartition('/')[2])} THEN {_literal(t)}"
                     for t, paths in found.items() for uri, _ in paths)
    coded = " ".join(f"WHEN {_literal(t)} THEN contains(value, '\\\\') OR value RLIKE {_literal(code_pattern(c))}"
                     for t, c in codes.items())
    typed = "(prefixed OR schema_of_variant(variant_get(v, '$.resourceType')) <=> 'STRING')"
    return spark.sql(
        f"SELECT name, block, mid, kind, type, coded, CASE WHEN kind = 1 AND ({'TRUE' if keep_all else 'coded'}) "
        f"THEN v END AS r FROM (SELECT name, block, mid, type, v, coded, "
        f"CASE WHEN blank THEN 0 WHEN v IS NULL OR NOT {typed} THEN 2 ELSE 1 END AS kind FROM ("
        f"SELECT name, block, mid, type, blank, coded, prefixed, try_parse_json(CASE WHEN NOT blank AND "
        f"octet_length(value) <= {MAX_LINE_BYTES} THEN value END) AS v FROM ("
        f"SELECT name, block, mid, type, value, value RLIKE {_literal(BLANK_PATTERN)} AS blank, "
        f"startswith(value, {_literal(TYPED_LINE)}) AS prefixed, "
        f"coalesce(CASE type {coded} ELSE TRUE END, TRUE) AS coded FROM "
        f"(SELECT *, CASE name {types} END AS type FROM screen_raw))))")


def _line_numbers(lines, bad_rows: list) -> list[Malformed]:
    """File and line of each malformed row: the lines of its file's blocks before its own, plus its
    place in its block (a block's rows are consecutive in one partition, numbered by ``mid``)."""
    if not bad_rows:
        return []
    from pyspark.sql import functions as F

    names = sorted({row.name for row in bad_rows})
    blocks = (lines.where(F.col("name").isin(names)).groupBy("name", "block")
              .agg(F.count(F.lit(1)).alias("n"), F.min("mid").alias("first")).collect())
    start: dict[tuple[str, int], tuple[int, int]] = {}  # (file, block) -> (lines before it, its first mid)
    for name in names:
        before = 0
        for row in sorted((b for b in blocks if b.name == name), key=lambda b: b.block):
            start[(name, row.block)] = (before, row.first)
            before += row.n
    return sorted(Malformed(row.name, int(start[(row.name, row.block)][0] + row.mid - start[(row.name, row.block)][1]
                                          + 1)) for row in bad_rows)


def _summary_ddl() -> str:
    return ", ".join(f"{name} {'INT' if SUMMARY_TYPES.get(name) == 'int' else 'STRING'}" for name in SUMMARY_COLUMNS)


def _fact_order():
    from pyspark.sql import functions as F

    return [F.col(name).asc_nulls_first() for name in FACT_COLUMNS]


def _csv_lines(worklist):
    """The worklist as CSV text lines, as Arrow's writer quotes them (text quoted, numbers not)."""
    quoted = {"patient_id", "rules", "evidence"}
    cells = [f"concat('\"', replace({c}, '\"', '\"\"'), '\"')" if c in quoted else f"CAST({c} AS STRING)"
             for c in WORKLIST_COLUMNS]
    header = ",".join(f'"{c}"' for c in WORKLIST_COLUMNS)
    return worklist.selectExpr("0 AS _part", "priority", "rule_count", "patient_id",
                               f"concat_ws(',', {', '.join(cells)}) AS value"), header


def _write_worklist(spark, files: HadoopFiles, summaries_frame, out: str) -> None:
    """The flagged patients, most urgent first, as one CSV or Parquet file at ``out``: Spark writes
    it into a folder beside it, whose one part file then takes its name."""
    from pyspark.sql import functions as F

    kind = worklist_format(out)
    flagged = summaries_frame.where("priority IS NOT NULL").select(*WORKLIST_COLUMNS)
    order = [F.col("priority"), F.col("rule_count").desc(), F.col("patient_id")]
    folder = out + ".partial"
    files.delete(folder)
    files.make_dirs(folder)  # private before Spark writes into it (appending to the empty folder)
    if kind == "parquet":
        flagged.orderBy(*order).coalesce(1).write.mode("append").parquet(folder)
    else:
        lines, header = _csv_lines(flagged)
        head = spark.createDataFrame([(header,)], "value STRING").selectExpr(
            "-1 AS _part", "0 AS priority", "0 AS rule_count", "'' AS patient_id", "value")
        (head.unionByName(lines).orderBy(F.col("_part"), *order).select("value").coalesce(1)
         .write.mode("append").text(folder))
    parts = [uri for name, uri, is_file, _ in files.list(folder) or [] if is_file and name.startswith("part-")]
    if len(parts) != 1:
        raise OSError(f"{folder}: Spark wrote {len(parts)} part files, expected 1")
    fs = files.fs(out)
    fs.delete(files.path(out), False)
    if not fs.rename(files.path(parts[0]), files.path(out)):
        raise OSError(f"cannot rename {parts[0]} to {out}")
    fs.delete(files.path(folder), True)
    files.make_private(out)
    files.drop_checksum(out)


def run_spark(spark, source: str, out: str, views: dict[str, dict], *, since: str | None = None,
              state_dir: str | None = None, progress: Callable[[str, int], None] | None = None) -> dict:
    """Screen the export at ``source`` and write the worklist to ``out``; keep the state in
    ``state_dir`` (None: keep none), continuing the state at ``since`` when given. Returns the
    totals, the malformed lines and the files read."""
    from pyspark import StorageLevel

    files = HadoopFiles(spark)
    previous = S.read_state(files, since, "spark") if since else None
    found, skipped = discover(files, source)
    codes = screening_codes()
    cached = []
    malformed: list[Malformed] = []
    if any(found.values()):
        lines = _lines(spark, found, codes, keep_all=previous is not None).persist(StorageLevel.MEMORY_AND_DISK)
        cached.append(lines)
        malformed = _line_numbers(lines, lines.where("kind = 2").select("name", "block", "mid").collect())
    else:
        lines = spark.createDataFrame([], "type STRING, kind INT, coded BOOLEAN, r VARIANT")
    for resource_type in VIEW_FILES:
        name = f"screen_{resource_type.lower()}"
        lines.where(f"type = '{resource_type}' AND r IS NOT NULL").select("r", "coded").createOrReplaceTempView(
            f"{name}_lines")
        compiled = compile_view(views[resource_type], "spark")
        spark.sql(compiled.query(f"(SELECT r FROM {name}_lines WHERE coded)")).createOrReplaceTempView(name)
        if progress is not None:
            for uri, size in found[resource_type]:
                progress(uri.rpartition("/")[2], size)
    # The facts are read several times (the rule input SQL joins them to themselves, the state
    # keeps them): the views run once.
    facts = spark.sql(facts_query("screen_condition", "screen_observation", "screen_patient"))
    facts = facts.persist(StorageLevel.MEMORY_AND_DISK)
    cached.append(facts)
    facts.createOrReplaceTempView("screen_new_facts")
    try:
        if previous is not None:
            keys = []
            for resource_type in VIEW_FILES:
                compiled = compile_view(key_views()[resource_type], "spark")
                keys.append(f"SELECT '{resource_type}' AS resource_type, resource_id, patient_id FROM "
                            f"({compiled.query(f'screen_{resource_type.lower()}_lines')}) k")
            spark.sql(" UNION ".join(keys)).createOrReplaceTempView("screen_new_keys")
            touched, merged = S.incremental_queries(previous, lambda uri: f"parquet.`{uri}`", "screen_new_facts",
                                                    "screen_new_keys")
            spark.sql(touched).createOrReplaceTempView("touched")
            rule_facts = spark.sql(merged)
        else:
            rule_facts = facts
        rule_facts.createOrReplaceTempView("screen_facts")
        rows = spark.sql(rule_input_query("screen_facts", "spark"))
        screened = (rows.repartition("patient_id").sortWithinPartitions(*_fact_order())
                    .mapInArrow(arrow_summaries, _summary_ddl()))
        if previous is not None:
            screened.createOrReplaceTempView("screen_touched_summaries")
            screened = spark.sql(
                "SELECT * FROM screen_touched_summaries UNION ALL SELECT * FROM "
                f"parquet.`{previous.path(previous.summaries)}` WHERE patient_id NOT IN (SELECT patient_id FROM touched)")
        # The summaries are written once (into the state, or beside the worklist until it is written)
        # and read back: the worklist and the totals never run the rules again.
        state = _open_state(files, previous, state_dir) if state_dir is not None else None
        summaries_uri = state.path(f"summaries-{state.next_number:06d}.parquet") if state else out + ".summaries.partial"
        files.delete(summaries_uri)
        files.make_dirs(summaries_uri)  # private before Spark writes into it
        screened.write.mode("append").parquet(summaries_uri)
        written = spark.read.parquet(summaries_uri)
        totals = written.selectExpr("count(*) AS candidates", "coalesce(sum(unusable), 0) AS unusable",
                                    "count(priority) AS flagged").collect()[0]
        rescreened = spark.sql("SELECT count(*) AS n FROM touched").collect()[0].n if previous is not None else None
        _write_worklist(spark, files, written, out)
        if state is None:
            files.delete(summaries_uri)
        else:
            _keep_state(spark, files, previous, state, state_dir, summaries_uri.rpartition("/")[2])
    finally:
        for frame in cached:
            frame.unpersist()
    return {"flagged": int(totals.flagged), "candidates": int(totals.candidates), "unusable": int(totals.unusable),
            "malformed": sorted(malformed), "rescreened": rescreened,
            "files": {t: [uri.rpartition("/")[2] for uri, _ in found[t]] for t in VIEW_FILES}, "skipped": skipped}


def _open_state(files: HadoopFiles, previous: S.State | None, state_dir: str) -> S.State:
    """Where this run writes its state: a new folder beside ``state_dir`` (a full run; it replaces
    ``state_dir`` once complete), or the continued state (:func:`~mastcds.screen.state.continue_state`)."""
    if previous is not None:
        return S.continue_state(files, previous, state_dir)
    partial = state_dir.rstrip("/") + ".partial"
    files.delete(partial)
    files.make_dirs(partial)
    return S.State(partial, engine="spark")


def _keep_state(spark, files: HadoopFiles, previous: S.State | None, state: S.State, state_dir: str,
                summaries_name: str) -> None:
    """Write this run's facts (and keys) into the state beside its summaries, then its manifest."""
    number = state.next_number
    run = S.Run(f"facts-{number:06d}.parquet", f"keys-{number:06d}.parquet" if previous is not None else None)
    spark.table("screen_new_facts").repartition("patient_id").sortWithinPartitions("patient_id").write.parquet(
        state.path(run.facts))
    if run.keys:
        spark.table("screen_new_keys").write.parquet(state.path(run.keys))
    S.commit(files, state, run, summaries_name)
    if previous is None:
        files.replace_dir(state.folder, state_dir)
