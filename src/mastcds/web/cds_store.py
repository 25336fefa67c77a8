"""The CDS Hooks service's shared state (:mod:`mastcds.store.cds`), written in batches by one thread per worker.

A patient-view call records its JWT's ``jti`` (replay) and, when it has cards,
the case behind their link. One transaction per call would put a commit on
every call; instead the calls in flight on a worker queue their rows, and one
transaction writes all that queued while the previous one ran (group commit),
with one multi-row ``INSERT ... ON CONFLICT DO NOTHING RETURNING`` for the
replay entries: the database, not the worker, says which ``jti`` is new, so a
token replayed to another worker is refused there too. These commits do not
wait for the disk (``Store.writing(durable=False)``): the rows are worthless
minutes later, and a fsync per batch (4 ms on the project's VM) would be most
of a call's latency budget.
"""

from __future__ import annotations

import asyncio
import hashlib
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from mastcds.store import cds as tables
from mastcds.store.database import Store

# Expired replay entries and links are deleted at most this often (one indexed DELETE each).
PRUNE_EVERY_SECONDS = 60.0
# The one thread of this process that writes these batches (one batch at a time is the point of batching).
_WRITER = ThreadPoolExecutor(1, thread_name_prefix="mastcds-cds-store")


def digest(*parts: str) -> str:
    """SHA-256 (hex) of the parts, NUL-separated: the key of a replay entry or a link."""
    return hashlib.sha256("\0".join(parts).encode("utf-8", "surrogatepass")).hexdigest()


class _Queue:
    """What the calls of one event loop queued since the last commit, and whether a commit is running."""

    def __init__(self) -> None:
        self.items: list[tuple[str, Any, asyncio.Future[Any]]] = []
        self.task: asyncio.Task[None] | None = None


class CdsStore:
    """Replay entries, card links and feedback in the database; ``await`` each write, batched with the others in flight."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self._queues: dict[asyncio.AbstractEventLoop, _Queue] = {}
        self._next_prune = 0.0

    async def first_use(self, key: str, expires: float) -> bool:
        """Records a token's key until ``expires`` (epoch seconds); False when some worker already did (a replay)."""
        return bool(await self._queued("replay", (key, expires)))

    async def keep_link(self, row: dict[str, Any]) -> None:
        """Stores a card link's row (:class:`mastcds.store.cds.CdsLink` columns)."""
        await self._queued("link", row)

    async def keep_feedback(self, rows: list[dict[str, Any]]) -> None:
        await self._queued("feedback", rows)

    def link(self, key: str) -> tables.CdsLink | None:
        """The link stored under this key, unless expired (a blocking read: call it from a thread)."""
        with self.store.reading() as session:
            return tables.find_link(session, key, time.time())

    async def _queued(self, kind: str, payload: Any) -> Any:
        loop = asyncio.get_running_loop()
        queue = self._queues.setdefault(loop, _Queue())
        future: asyncio.Future[Any] = loop.create_future()
        queue.items.append((kind, payload, future))
        if queue.task is None:
            queue.task = loop.create_task(self._drain(loop, queue))
        return await future

    async def _drain(self, loop: asyncio.AbstractEventLoop, queue: _Queue) -> None:
        """Commits what is queued, then what was queued meanwhile, until nothing is."""
        try:
            while queue.items:
                batch, queue.items = queue.items, []
                try:
                    results = await loop.run_in_executor(_WRITER, self._commit, batch)
                except Exception as error:  # noqa: BLE001 - handed to every caller of the batch (DatabaseUnavailable)
                    for _, _, future in batch:
                        if not future.done():
                            future.set_exception(error)
                    continue
                for (_, _, future), result in zip(batch, results):
                    if not future.done():  # a caller that went away
                        future.set_result(result)
        finally:
            queue.task = None
            if not queue.items:
                self._queues.pop(loop, None)

    def _commit(self, batch: list[tuple[str, Any, Any]]) -> list[Any]:
        """One transaction for the batch; per item, its result (for a replay entry: whether it was new)."""
        now = time.time()
        replay = {key: expires for kind, (key, expires), _ in (i for i in batch if i[0] == "replay")}
        with self.store.writing(durable=False) as session:
            new = tables.first_uses(session, list(replay.items()))
            tables.add_links(session, (payload for kind, payload, _ in batch if kind == "link"))
            tables.add_feedback(session, (row for kind, rows, _ in batch if kind == "feedback" for row in rows))
            if now >= self._next_prune:
                tables.prune(session, now)
                self._next_prune = now + PRUNE_EVERY_SECONDS
        results: list[Any] = []
        for kind, payload, _ in batch:
            if kind == "replay":  # the same key twice in one batch: only its first use is new
                results.append(payload[0] in new)
                new.discard(payload[0])
            else:
                results.append(None)
        return results
