"""Evaluations per second of the seed case, in process.

Prints the median time of a full ``evaluate()`` (all three editions, skin,
MCAS, episodes, REMA, doses, prognosis) and, as the in-process baseline, the
median time of only parsing and validating the same case document, with the
ratio of the two. Target (issue 2): median <= 1 ms per full evaluation.

    .venv/bin/python bench/evaluate.py [--rounds 2000]
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from pathlib import Path

from mastcds import evaluate
from mastcds.case import load_case

SEED = Path(__file__).resolve().parents[1] / "examples" / "seed-case.json"


def _timings(function, argument, rounds: int) -> list[float]:
    for _ in range(min(200, rounds)):  # warm caches before timing
        function(argument)
    timings = []
    for _ in range(rounds):
        start = time.perf_counter()
        function(argument)
        timings.append(time.perf_counter() - start)
    return timings


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=2000)
    args = parser.parse_args()
    document = json.loads(SEED.read_text(encoding="utf-8"))
    baseline = _timings(load_case, document, args.rounds)
    full = _timings(evaluate, document, args.rounds)
    median_full = statistics.median(full)
    median_base = statistics.median(baseline)
    p99 = sorted(full)[int(0.99 * len(full)) - 1]
    print(f"seed case, {args.rounds} rounds")
    print(f"validate only (baseline): median {median_base * 1e3:.3f} ms")
    print(f"full evaluate():          median {median_full * 1e3:.3f} ms, p99 {p99 * 1e3:.3f} ms, {1 / median_full:,.0f} evaluations/s")
    print(f"ratio evaluate / validate: {median_full / median_base:.1f}x")
    print(f"target median <= 1 ms: {'met' if median_full <= 1e-3 else 'NOT met'}")


if __name__ == "__main__":
    main()
