"""The Spark engine, distributed for real: in Spark's local-cluster master (executor JVMs and Python
workers of their own) the worklist is DuckDB's, byte for byte, with Hadoop URIs in and out; the
driver's memory stays flat as the export grows; hostile lines and incremental runs give what DuckDB
gives. The session-wide local[2] session serves the tests that need no cluster of their own."""

from __future__ import annotations

import csv
import json
import subprocess
import sys
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from mastcds.screen import codes as C
from mastcds.screen.pipeline import screen_export
from mastcds.screen.synth import synthesize
from tests.screen import incremental
from tests.screen.conftest import require_spark
from tests.screen.hostile import EXPECTED_MALFORMED, write_hostile_export

ROOT = Path(__file__).resolve().parents[2]
CLUSTER = "local-cluster[2,1,1024]"
pytestmark = pytest.mark.spark


def _child(request: dict, timeout: int = 1200) -> dict:
    """tests/screen/spark_child.py in a new process; its JSON."""
    require_spark()
    done = subprocess.run([sys.executable, "-m", "tests.screen.spark_child", json.dumps(request)], cwd=ROOT,
                          capture_output=True, text=True, timeout=timeout)
    assert done.returncode == 0, done.stderr[-4000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


def _tryptase_export(folder: Path, patients: int) -> int:
    """``patients`` patients with one basal tryptase each, every 100th above the limit. Taken on
    29 February, a day not every year has, so that the SQL cannot call any of them routine: every
    patient goes through the rules (the old engine collected all their rows to the driver).
    Returns how many must be flagged."""
    folder.mkdir()
    with (folder / "Patient.ndjson").open("w") as people, (folder / "Observation.ndjson").open("w") as results:
        for n in range(patients):
            people.write(f'{{"resourceType":"Patient","id":"p{n}","gender":"female"}}\n')
            results.write(f'{{"resourceType":"Observation","id":"o{n}","status":"final",'
                          f'"subject":{{"reference":"Patient/p{n}"}},"effectiveDateTime":"2024-02-29",'
                          f'"code":{{"coding":[{{"system":"{C.LOINC}","code":"{C.TRYPTASE.code}"}}]}},'
                          f'"valueQuantity":{{"value":{31 if n % 100 == 0 else 6.5},"unit":"ng/mL","code":"ng/mL"}}}}\n')
    return (patients + 99) // 100


@pytest.fixture(scope="module")
def cluster(tmp_path_factory):
    """One local-cluster[2,1,1024] application with spark.driver.memory=512m (a cluster's start is
    the slow part): a synthetic export to CSV and Parquet through file:// URIs, then 20,000 and
    200,000 patients. Returns the folder, the synthetic export's ground truth and the runs."""
    root = tmp_path_factory.mktemp("cluster")
    truth = synthesize(2500, root / "export", seed=4)
    flagged = {n: _tryptase_export(root / f"tryptase-{n}", n) for n in (20_000, 200_000)}
    uri = (root / "export").as_uri()
    runs = [{"source": uri, "out": (root / "spark.csv").as_uri()}, {"source": uri, "out": (root / "spark.parquet").as_uri()}]
    runs += [{"source": str(root / f"tryptase-{n}"), "out": str(root / f"tryptase-{n}.parquet")} for n in flagged]
    child = _child({"master": CLUSTER, "config": {"spark.driver.memory": "512m"}, "runs": runs})
    return root, truth, flagged, child["results"]


@pytest.mark.slow
def test_local_cluster_worklist_is_duckdbs_and_the_ground_truth(cluster):
    root, truth, _, results = cluster
    duck = screen_export(root / "export", root / "duck.csv")
    screen_export(root / "export", root / "duck.parquet")
    assert (root / "spark.csv").read_bytes() == (root / "duck.csv").read_bytes()
    assert pq.read_table(root / "spark.parquet").to_pylist() == pq.read_table(root / "duck.parquet").to_pylist()
    result = results[0]
    assert (result["flagged"], result["candidates"], result["unusable"]) == (duck.flagged, duck.candidates,
                                                                             duck.unusable_results)
    assert sorted(map(tuple, result["malformed"])) == sorted((m["file"], m["line"]) for m in truth["malformed"])
    fired = {row["patient_id"] for row in csv.DictReader((root / "spark.csv").open(encoding="utf-8"))}
    assert fired == {p for p, v in truth["planted"].items() if v["expected_rules"]}
    assert not list(root.glob("*.partial"))


@pytest.mark.slow
def test_the_drivers_memory_stays_flat_as_the_export_grows(cluster):
    """20,000 then 200,000 patients with spark.driver.memory=512m: the runs pass, and the driver's
    Python process and JVM heap hold no more for ten times the patients (the driver never sees a
    patient's rows; the old engine collected every candidate's rows to it)."""
    _, _, flagged, results = cluster
    small, large = results[2], results[3]
    assert (small["flagged"], large["flagged"]) == (flagged[20_000], flagged[200_000])
    assert large["peak_rss_mb"] - small["peak_rss_mb"] < 40, results
    assert large["heap_mb"] - small["heap_mb"] < 64, results


def test_hostile_lines_on_spark_are_what_duckdb_reports(spark, tmp_path):
    export = write_hostile_export(tmp_path / "export")
    duck = screen_export(export, tmp_path / "duck.csv")
    sparked = screen_export(export, tmp_path / "spark.csv", engine="spark", spark=spark)
    assert [(m.file, m.line) for m in sparked.malformed] == EXPECTED_MALFORMED
    assert (tmp_path / "spark.csv").read_bytes() == (tmp_path / "duck.csv").read_bytes()
    assert sparked.unusable_results == duck.unusable_results == 2


def test_a_hadoop_uri_other_than_file_reads_and_writes_through_its_file_system(spark, tmp_path):
    """``viewfs://`` (Hadoop's mount-table file system, here over a local folder) stands for the
    schemes of a cluster (``hdfs://``, ``s3a://``, ``abfss://``): listing, reading, writing the
    worklist and the state go through the Hadoop FileSystem of the URI, not the local disk's API.
    The worklist is DuckDB's, private, with no checksum file of the local file system beside it."""
    export = write_hostile_export(tmp_path / "export")
    spark._jsc.hadoopConfiguration().set("fs.viewfs.mounttable.mastcds-test.link./screening", tmp_path.as_uri())
    root = "viewfs://mastcds-test/screening"
    sparked = screen_export(f"{root}/export", f"{root}/w.csv", engine="spark", spark=spark, keep_state=True)
    assert [(m.file, m.line) for m in sparked.malformed] == EXPECTED_MALFORMED
    assert sparked.state == f"{root}/w.state"
    screen_export(export, tmp_path / "duck.csv", keep_state=False)
    assert (tmp_path / "w.csv").read_bytes() == (tmp_path / "duck.csv").read_bytes()
    assert (tmp_path / "w.csv").stat().st_mode & 0o777 == 0o600
    assert sorted(p.name for p in tmp_path.iterdir()) == ["duck.csv", "export", "w.csv", "w.state"]


def test_what_spark_writes_is_its_owners_alone(spark, tmp_path):
    """The worklist 0600 and the state 0700 (patient ids and facts), as DuckDB writes them; no
    checksum file or part folder of Spark's left beside the worklist."""
    export = write_hostile_export(tmp_path / "export")
    result = screen_export(export, tmp_path / "w.csv", engine="spark", spark=spark, keep_state=True)
    assert (tmp_path / "w.csv").stat().st_mode & 0o777 == 0o600
    assert Path(result.state).stat().st_mode & 0o777 == 0o700
    assert sorted(p.name for p in tmp_path.iterdir()) == ["export", "w.csv", "w.state"]
    screen_export(export, tmp_path / "w.parquet", engine="spark", spark=spark)
    assert (tmp_path / "w.parquet").stat().st_mode & 0o777 == 0o600
    assert sorted(p.name for p in tmp_path.iterdir()) == ["export", "w.csv", "w.parquet", "w.state"]


def test_a_then_b_on_spark_equals_a_full_run_over_both(spark, tmp_path):
    exports = incremental.build(tmp_path / "exports")
    full = screen_export(exports["AB"], tmp_path / "full.csv", engine="spark", spark=spark)
    first = screen_export(exports["A"], tmp_path / "night.csv", engine="spark", spark=spark, keep_state=True)
    then = screen_export(exports["B"], tmp_path / "night.csv", engine="spark", spark=spark, since=first.state)
    assert (tmp_path / "night.csv").read_bytes() == (tmp_path / "full.csv").read_bytes()
    assert (then.flagged, then.candidates, then.unusable_results) == (full.flagged, full.candidates,
                                                                      full.unusable_results)
    assert [(m.file, m.line) for m in then.malformed] == [("Observation.ndjson", 5)]
    screen_export(exports["AB"], tmp_path / "duck.csv")
    assert (tmp_path / "duck.csv").read_bytes() == (tmp_path / "full.csv").read_bytes()
