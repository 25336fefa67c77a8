"""A separate process writing to one patient, for the concurrency and SIGKILL tests.

``python -m tests.store.store_worker URL KEY NAME COUNT FIELD``: COUNT rounds of
(add a lab result, add an episode, set the findings FIELD), printing
``ACK <round>`` after each round is committed; COUNT 0 means until killed.
When $WORKER_GO names a file, it waits for that file to appear, so that
several workers start writing at the same moment.
"""

from __future__ import annotations

import os
import sys
import time

from mastcds.store import service
from mastcds.store.database import Store

# A user pauses between entries. Without a pause one SQLite writer can take
# the lock again round after round while the other sleeps in SQLite's busy
# handler (up to 100 ms between tries): nothing is lost, but the test would
# not show the two interleaving.
PAUSE_SECONDS = 0.15


def main(url: str, key: str, name: str, count: int, field: str) -> None:
    store = Store(url)
    go = os.environ.get("WORKER_GO")
    print("READY", flush=True)
    while go and not os.path.exists(go):
        time.sleep(0.005)
    round_ = 0
    while count == 0 or round_ < count:
        round_ += 1
        service.add_lab_result(
            store, key, {"test": "tryptase", "value": round_, "unit": "ng/mL", "date": "2020", "context": "baseline"},
            actor=name, reason=f"{name} round {round_}",
        )
        service.add_episode(store, key, {"id": f"{name}-{round_}", "date": "2020"}, actor=name)
        service.update_findings(store, key, {field: round_}, actor=name)
        print(f"ACK {round_}", flush=True)
        time.sleep(PAUSE_SECONDS)
    store.close()


if __name__ == "__main__":
    url, key, name, count, field = sys.argv[1:6]
    main(url, key, name, int(count), field)
