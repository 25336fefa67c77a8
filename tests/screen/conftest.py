"""Shared fixtures for the screening tests: one small local Spark session per test session."""

from __future__ import annotations

import os
import shutil

import pytest


def spark_missing(reason: str) -> None:
    """Skip with the reason, except under CI (``$CI`` set), where Spark must be tested."""
    if os.environ.get("CI"):
        pytest.fail(f"Spark is required under CI: {reason}", pytrace=False)
    pytest.skip(reason)


def require_spark() -> None:
    try:
        import pyspark  # noqa: F401  (is it installed?)
    except ImportError:
        spark_missing("pyspark is not installed")
    if shutil.which("java") is None and not os.environ.get("JAVA_HOME"):
        spark_missing("Java is not installed (Spark needs Java 17+)")


@pytest.fixture(scope="session")
def spark():
    """A local[2] Spark session without UI; skipped with a reason when pyspark or Java is missing."""
    require_spark()
    from mastcds.screen.spark_engine import spark_session

    session = spark_session("local[2]")
    yield session
    session.stop()
