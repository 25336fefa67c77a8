"""Screen on Spark in a process of its own (its own master and driver memory); print what happened as JSON.

    python -m tests.screen.spark_child '{"master": "local-cluster[2,1,1024]", "config": {...}, "runs": [...]}'

Each run: {"source", "out", "state": bool, "since": str|null}. After each run are printed the peak
RSS of this (driver) Python process so far, and the driver JVM's heap in use after a full garbage
collection.
"""

from __future__ import annotations

import json
import resource
import sys


def main() -> None:
    request = json.loads(sys.argv[1])
    from mastcds.screen.pipeline import screen_export
    from mastcds.screen.spark_engine import spark_session

    spark = spark_session(request["master"], config=request.get("config"))
    try:
        results = []
        runtime = spark._jvm.java.lang.Runtime.getRuntime()
        for run in request["runs"]:
            result = screen_export(run["source"], run["out"], engine="spark", spark=spark,
                                   keep_state=run.get("state", False), since=run.get("since"))
            spark._jvm.java.lang.System.gc()
            results.append({"flagged": result.flagged, "candidates": result.candidates,
                            "unusable": result.unusable_results, "state": result.state,
                            "malformed": [[m.file, m.line] for m in result.malformed],
                            "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
                            "heap_mb": (runtime.totalMemory() - runtime.freeMemory()) / 2**20})
    finally:
        spark.stop()
    print(json.dumps({"results": results}))


if __name__ == "__main__":
    main()
