"""The screening engine on Apache Spark: the same views and aggregation SQL as DuckDB, in Spark SQL."""

from __future__ import annotations

import os


def spark_session(master: str = "local[2]"):
    """A Spark session sized for a laptop in local mode, or attached to ``master`` (spark://, yarn, k8s://)."""
    os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")
    from pyspark.sql import SparkSession

    builder = (
        SparkSession.builder.master(master)
        .appName("mastcds-screen")
        .config("spark.ui.enabled", "false")
        .config("spark.sql.shuffle.partitions", "4")
        .config("spark.sql.ansi.enabled", "true")
        .config("spark.driver.memory", os.environ.get("MASTCDS_SPARK_DRIVER_MEMORY", "2g"))
    )
    session = builder.getOrCreate()
    session.sparkContext.setLogLevel("ERROR")
    return session
