"""Shared fixtures for the screening tests: one small local Spark session per test session."""

from __future__ import annotations

import os
import shutil

import pytest


@pytest.fixture(scope="session")
def spark():
    """A local[2] Spark session without UI; skipped with a reason when pyspark or Java is missing."""
    pytest.importorskip("pyspark", reason="pyspark is not installed")
    if shutil.which("java") is None and not os.environ.get("JAVA_HOME"):
        pytest.skip("Java is not installed (Spark needs Java 17+)")
    os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")
    from mastcds.screen.spark_engine import spark_session

    session = spark_session("local[2]")
    yield session
    session.stop()
