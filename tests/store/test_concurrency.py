"""Two processes writing the same patient at once lose nothing."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from mastcds.store import service
from mastcds.store.database import Store

ROOT = Path(__file__).resolve().parents[2]
ROUNDS = 8


def start_worker(url: str, name: str, field: str, count: int, go: Path | None = None) -> subprocess.Popen[str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    if go is not None:
        env["WORKER_GO"] = str(go)
    return subprocess.Popen(
        [sys.executable, "-m", "tests.store.store_worker", url, "p1", name, str(count), field],
        cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )


def test_two_writers_on_one_patient_lose_nothing(store: Store, tmp_path: Path) -> None:
    service.create_patient(store, "p1", actor="setup")
    go = tmp_path / "go"
    workers = {
        "alpha": start_worker(store.url, "alpha", "patient.weight_kg", ROUNDS, go),
        "beta": start_worker(store.url, "beta", "labs.ige_total_iu_ml", ROUNDS, go),
    }
    for worker in workers.values():
        assert worker.stdout.readline().strip() == "READY"
    go.touch()
    for name, worker in workers.items():
        out, err = worker.communicate(timeout=300)
        assert worker.returncode == 0, f"{name} failed: {err[-2000:]}"
        assert out.split("\n")[-2] == f"ACK {ROUNDS}"

    case = service.export_case(store, "p1", actor="check")
    assert sorted(e["id"] for e in case["episodes"]) == sorted(f"{n}-{i}" for n in workers for i in range(1, ROUNDS + 1))
    assert len(case["lab_results"]) == 2 * ROUNDS
    # each writer's last findings change survived the other's (no lost update)
    assert case["patient"]["weight_kg"] == ROUNDS and case["labs"]["ige_total_iu_ml"] == ROUNDS
    history = service.patient_history(store, "p1", actor="check")
    assert [c.version for c in history] == list(range(1, 2 + 6 * ROUNDS))
    writers = [c.actor for c in history[1:]]
    assert writers.count("alpha") == writers.count("beta") == 3 * ROUNDS
    # the two really wrote at the same time (their changes interleave)
    assert sum(1 for a, b in zip(writers, writers[1:]) if a != b) >= 2
