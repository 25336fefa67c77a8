"""The screening engine on Apache Spark: the same views and aggregation SQL as DuckDB, in Spark SQL."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

from mastcds.screen.pipeline import EngineRows, Malformed
from mastcds.screen.viewdef import compile_view


def spark_session(master: str = "local[2]"):
    """A Spark session sized for a laptop in local mode, or attached to ``master`` (spark://, yarn, k8s://)."""
    os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")
    from pyspark.sql import SparkSession

    builder = (
        SparkSession.builder.master(master)
        .appName("mastcds-screen")
        .config("spark.ui.enabled", "false")
        .config("spark.ui.showConsoleProgress", "false")
        .config("spark.sql.shuffle.partitions", "4")
        .config("spark.sql.ansi.enabled", "true")
        .config("spark.driver.memory", os.environ.get("MASTCDS_SPARK_DRIVER_MEMORY", "2g"))
    )
    session = builder.getOrCreate()
    session.sparkContext.setLogLevel("ERROR")
    return session


def _lines(spark, path: Path):
    """The file's lines parsed to VARIANT (NULL when not JSON) with their 1-based line numbers.

    Spark reads a text file in partitions ordered by offset; a line's number is the line count of
    the partitions before it plus its place in its own, all computed in the JVM.
    """
    from pyspark.sql import functions as F
    from pyspark.sql.window import Window

    raw = spark.read.text(str(path)).select(
        F.spark_partition_id().alias("part"), F.monotonically_increasing_id().alias("mid"), "value")
    raw = raw.cache()
    counts = raw.groupBy("part").count().withColumn(
        "before", F.coalesce(F.sum("count").over(Window.orderBy("part").rowsBetween(Window.unboundedPreceding, -1)), F.lit(0)))
    first = raw.groupBy("part").agg(F.min("mid").alias("first_mid"))
    offsets = counts.join(first, "part").select("part", "before", "first_mid")
    return raw.join(F.broadcast(offsets), "part").selectExpr(
        "before + (mid - first_mid) + 1 AS line", "try_parse_json(value) AS r"), raw


def run_spark(spark, files: dict[str, list[Path]], views: dict[str, dict], *,
              progress: Callable[[str, int], None] | None = None) -> EngineRows:
    """Run every view over its files on Spark; return candidate patients' rows and the malformed lines."""
    malformed: list[Malformed] = []
    results = {}
    for resource_type in ("Patient", "Condition", "Observation"):
        compiled = compile_view(views[resource_type], "spark")
        frames = []
        for path in files.get(resource_type, []):
            lines, raw = _lines(spark, path)
            lines.createOrReplaceTempView("screen_lines")
            bad = spark.sql("SELECT line FROM screen_lines WHERE r IS NULL OR "
                            "try_variant_get(r, '$.resourceType', 'STRING') IS NULL ORDER BY line").collect()
            malformed += [Malformed(path.name, int(row.line)) for row in bad]
            frames.append(spark.sql(compiled.query("(SELECT r FROM screen_lines WHERE r IS NOT NULL)")).cache())
            frames[-1].count()
            raw.unpersist()
            if progress is not None:
                progress(path.name, path.stat().st_size)
        names = [c.name for c in compiled.columns]
        if frames:
            frame = frames[0]
            for other in frames[1:]:
                frame = frame.unionByName(other)
        else:
            frame = spark.createDataFrame([], ", ".join(f"{n} STRING" for n in names))
        frame.createOrReplaceTempView(f"screen_{resource_type.lower()}")
        results[resource_type] = names
    conditions = [row.asDict() for row in spark.sql("SELECT * FROM screen_condition").collect()]
    observations = [row.asDict() for row in spark.sql("SELECT * FROM screen_observation").collect()]
    patients = [row.asDict() for row in spark.sql(
        "SELECT * FROM screen_patient WHERE patient_id IN "
        "(SELECT patient_id FROM screen_condition UNION SELECT patient_id FROM screen_observation)").collect()]
    return EngineRows(patients, conditions, observations, malformed)
